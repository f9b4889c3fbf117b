import { synthStack, type SynthStackOptions, type SynthStackResult } from '../../kits/aws/synth-stack.js';
import { buildLambdaStack, lambdaStackName, type BuildLambdaStackOptions } from './stack.js';

export { readValidationReport, type NagFinding } from '../../kits/aws/synth-stack.js';

export interface SynthLambdaTargetOptions extends BuildLambdaStackOptions, SynthStackOptions {}
export type SynthLambdaTargetResult = SynthStackResult;

/** Synthesises one aws-lambda target into its own cloud assembly (no credentials, no network). */
export function synthLambdaTarget(options: SynthLambdaTargetOptions): SynthLambdaTargetResult {
  return synthStack(lambdaStackName(options.config.name, options.stage, options.targetName), options, (app) => buildLambdaStack(app, options));
}
