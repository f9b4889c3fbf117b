/** Synthesises one aws-lambda target into its own cloud assembly, with cdk-nag; no credentials, no network. */
import { buildLambdaStack, lambdaStackPlanOf, type LambdaStackFromConfig, type LambdaStackFromPlan } from '../../../infra/lambda-target-stack.js';
import { nagFindingsError, synthStack, type SynthStackOptions, type SynthStackResult } from '../../kits/aws/synth-stack.js';

export { readValidationReport, type NagFinding } from '../../kits/aws/synth-stack.js';
export { lambdaStackArtifacts } from '../../../infra/lambda-target-stack.js';

export type SynthLambdaPlanOptions = LambdaStackFromPlan & SynthStackOptions;
export type SynthLambdaTargetOptions = LambdaStackFromConfig & SynthStackOptions;
export type SynthLambdaTargetResult = SynthStackResult;

/** Writes the planned stack to `<rootDir>/cdk.out/<stack>` (or `outdir`) and returns cdk-nag's findings. */
export function synthLambdaPlan(options: SynthLambdaPlanOptions): SynthLambdaTargetResult {
  return synthStack(options.plan.stackName, options, (app) => buildLambdaStack(app, options));
}

/** The same for a config's target entry, resolved by the target's planner (CDK apps and benchmarks hold no plan). */
export function synthLambdaTarget(options: SynthLambdaTargetOptions): SynthLambdaTargetResult {
  return synthStack(lambdaStackPlanOf(options).stackName, options, (app) => buildLambdaStack(app, options));
}

/** Synthesises the plan, failing on a cdk-nag finding: our stack must pass AwsSolutionsChecks. */
export function synthChecked(options: SynthLambdaPlanOptions): SynthLambdaTargetResult {
  const result = synthLambdaPlan(options);
  if (result.nagFindings.length > 0) throw nagFindingsError(result);
  return result;
}
