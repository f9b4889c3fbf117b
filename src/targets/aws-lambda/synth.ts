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

/**
 * `url: { auth: 'none' }` opens the Function URL to anyone who finds it: every request runs the
 * model on the account's bill. It is allowed (a public demo wants it) but said at synth and deploy,
 * and carried in --json, so that it is never a surprise in review.
 */
export function warnPublicUrl(plan: Pick<SynthLambdaPlanOptions['plan'], 'urlAuth' | 'stackName'>, io: SynthStackOptions['io']): void {
  if (plan.urlAuth !== 'none') return;
  io?.warn('DM_LAMBDA_URL_PUBLIC', `The Function URL of ${plan.stackName} takes unauthenticated requests (url.auth: 'none'): anyone who finds it can run the model, billed to this account. Keep url.auth: 'iam' (the default) and sign requests with SigV4, or put an authorizer (API Gateway, CloudFront with Lambda@Edge) in front.`, { stackName: plan.stackName, urlAuth: plan.urlAuth });
}

/** Synthesises the plan, failing on a cdk-nag finding: our stack must pass AwsSolutionsChecks. */
export function synthChecked(options: SynthLambdaPlanOptions): SynthLambdaTargetResult {
  const result = synthLambdaPlan(options);
  if (result.nagFindings.length > 0) throw nagFindingsError(result);
  return result;
}
