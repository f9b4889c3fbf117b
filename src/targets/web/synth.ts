/** Synthesises one web target on AWS (`host: 'aws'`) into its own cloud assembly, with cdk-nag; no credentials, no network. */
import { buildWebStack, type BuildWebStackOptions } from '../../../infra/web-target-stack.js';
import { nagFindingsError, synthStack, type SynthStackOptions, type SynthStackResult } from '../../kits/aws/synth-stack.js';

export type SynthWebTargetOptions = BuildWebStackOptions & SynthStackOptions;

/** Writes the stack to `<rootDir>/cdk.out/<stack>` (or `outdir`) and returns cdk-nag's findings. */
export function synth(options: SynthWebTargetOptions): SynthStackResult {
  return synthStack(options.plan.aws.stackName, options, (app) => buildWebStack(app, options));
}

/** Synthesises the stack, failing on a cdk-nag finding: our stack must pass AwsSolutionsChecks. */
export function synthChecked(options: SynthWebTargetOptions): SynthStackResult {
  const result = synth(options);
  if (result.nagFindings.length > 0) throw nagFindingsError(result);
  return result;
}
