import { synthStack, type SynthStackOptions, type SynthStackResult } from '../../kits/aws/synth-stack.js';
import { sageMakerNames } from '../../kits/sagemaker/names.js';
import { buildSageMakerStack, type BuildSageMakerStackOptions } from './stack.js';

export interface SynthSageMakerTargetOptions extends BuildSageMakerStackOptions, SynthStackOptions {}

export interface SynthSageMakerTargetResult extends SynthStackResult {
  readonly endpointName: string;
}

/** Synthesises one aws-sagemaker target into its own cloud assembly, with cdk-nag. */
export function synthSageMakerTarget(options: SynthSageMakerTargetOptions): SynthSageMakerTargetResult {
  const names = sageMakerNames(options.config.name, options.stage, options.targetName);
  const result = synthStack(names.stackName, options, (app) => buildSageMakerStack(app, options));
  return { ...result, endpointName: names.endpointName };
}
