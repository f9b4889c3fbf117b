/**
 * The aws-lambda rollout hooks. A new version takes traffic only after it passed its smoke test:
 *   stage:    deploy the stack with the `live` alias kept on the version it serves (read from the
 *             stack's `LiveVersion` output): CloudFormation publishes the new version beside it;
 *             the smoke test then invokes the new version by number;
 *   promote:  deploy again with the alias on the new version's number;
 *   rollback: nothing to move, the alias and the Function URL on it stayed on the previous version.
 * On a first deploy there is no previous version: the alias is created on the new one, and a failed
 * smoke test leaves it serving. The alias is always pinned to a literal version number, so
 * deploying an unchanged project is a no-op for CloudFormation.
 */
import { lambdaStackArtifacts } from '../../../infra/lambda-target-stack.js';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { LAMBDA_PREVIOUS_VERSION_OUTPUT, LIVE_ALIAS_NAME, ONNX_MODEL_FUNCTION_OUTPUTS as OUT } from '../../../infra/outputs.js';
import { deployStack } from '../../kits/aws/deploy-stack.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { stackOutputsMissing } from '../../kits/aws/stack-outputs-missing.js';
import { DeployModelError } from '../../errors.js';
import type { BuildResult, Candidate, RestoreResult, RollbackOutcome, RolloutHooks } from '../driver.js';
import type { LambdaArtifacts, LambdaContext } from './build.js';
import { lambdaInvokeClient } from './lambda-invoke-client.js';
import type { AwsLambdaPlan } from './plan.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { synthChecked, warnPublicUrl } from './synth.js';

const VERSION_RE = /^[1-9]\d*$/;

/** What promote and rollback need from stage. */
export interface LambdaCandidateState {
  readonly artifacts: LambdaArtifacts;
  /** The version the alias served before; undefined on a first deploy. */
  readonly liveVersion?: string;
  readonly newVersion: string;
  /** The Lambda client the smoke test invokes with; closed by promote, rollback or release. */
  readonly lambda: LambdaClient;
  /** The version the stack records for `rollback`, kept while the new version is staged and stepped. */
  readonly recordedPrevious?: string;
  /** The share of requests a traffic step gave the new version, which a rollback takes back. @default - none */
  shiftedPercent?: number;
}

/**
 * Synthesises the plan with the `live` alias on `aliasVersion` (on the new version when
 * undefined), recording `previousVersion` for `rollback`, and deploys it.
 */
export async function synthAndDeploy(ctx: LambdaContext, artifacts: LambdaArtifacts, aliasVersion: string | undefined, previousVersion?: string, canary?: { version: string; weight: number }) {
  const { plan } = ctx;
  const synth = synthChecked({ plan, artifacts: lambdaStackArtifacts(artifacts), aliasVersion, ...(previousVersion ? { previousVersion } : {}), ...(canary ? { canary } : {}), rootDir: ctx.loaded.rootDir, io: ctx.io });
  return deployStack({ assemblyDir: synth.assemblyDir, stackName: plan.stackName, region: plan.region, io: ctx.io });
}

/**
 * With package 'image': the image pushed to the bootstrap ECR repository first (the stack names
 * it), so a missing repository fails before CloudFormation changes anything.
 */
async function withPublishedImage(ctx: LambdaContext, artifacts: LambdaArtifacts): Promise<LambdaArtifacts> {
  if (!artifacts.image) return artifacts;
  const { publishLambdaImage } = await import('./publish-image.js');
  const published = await publishLambdaImage({ image: artifacts.image, region: ctx.plan.region, targetName: ctx.targetName, io: ctx.io });
  // The default bootstrap's repository stays `Fn::Sub`-named, as synth and diff write it, so that
  // an unchanged project deploys and diffs as unchanged; any other name is written as it is.
  const isDefault = new RegExp(`^cdk-hnb659fds-container-assets-\\d{12}-${ctx.plan.region}$`).test(published.repositoryName);
  return isDefault ? artifacts : { ...artifacts, image: { ...artifacts.image, repositoryName: published.repositoryName } };
}

function requireOutput(outputs: Record<string, string>, key: string, plan: AwsLambdaPlan): string {
  const value = outputs[key];
  if (!value) throw stackOutputsMissing(plan.stackName, plan.region, [key], outputs);
  return value;
}

/** The live version a stack's outputs name, when it is a version number. */
export function liveVersionOf(outputs: Record<string, string> | undefined): string | undefined {
  const deployed = outputs?.[OUT.liveVersion];
  return deployed && VERSION_RE.test(deployed) ? deployed : undefined;
}

/** The version the alias served before the last promotion (the `PreviousVersion` output), when the stack records one. */
export function previousVersionOf(outputs: Record<string, string> | undefined): string | undefined {
  const recorded = outputs?.[LAMBDA_PREVIOUS_VERSION_OUTPUT];
  return recorded && VERSION_RE.test(recorded) ? recorded : undefined;
}

export const lambdaRollout: RolloutHooks<AwsLambdaTargetConfig, AwsLambdaPlan, LambdaCandidateState> = {
  async stage(ctx: LambdaContext, build: BuildResult): Promise<Candidate<LambdaCandidateState>> {
    const { io, plan } = ctx;
    const { stackName, region } = plan;
    const artifacts = await withPublishedImage(ctx, build.outputs as LambdaArtifacts);

    warnPublicUrl(plan, io);
    const before = await describeStack({ stackName, region });
    const liveVersion = liveVersionOf(before?.outputs);
    // Staging keeps what `rollback` would return to: it changes only when a new version is promoted.
    const recordedPrevious = previousVersionOf(before?.outputs);
    io.info('DM_LAMBDA_PUBLISH', liveVersion
      ? `Publishing a new version of ${stackName}; the live alias stays on version ${liveVersion} until it passes its smoke test`
      : `First deploy of ${stackName}: creating the function, its first version and the live alias`,
    { stackName, liveVersion, stackStatus: before?.status });
    const phase1 = await synthAndDeploy(ctx, artifacts, liveVersion, recordedPrevious);

    const functionName = requireOutput(phase1.outputs, OUT.functionName, plan);
    const newVersion = requireOutput(phase1.outputs, OUT.newVersion, plan);
    const endpoint = requireOutput(phase1.outputs, OUT.functionUrl, plan);
    const unchanged = liveVersion !== undefined && newVersion === liveVersion;
    io.info('DM_LAMBDA_SMOKE_VERSION', unchanged
      ? `Nothing changed: smoke-testing the live version ${newVersion}`
      : `Smoke-testing version ${newVersion} through Lambda Invoke before it takes traffic`,
    { functionName, version: newVersion, unchanged });

    const lambda = new LambdaClient({ region });
    return {
      endpoint,
      version: newVersion,
      client: lambdaInvokeClient({ client: lambda, functionName, qualifier: newVersion, region }),
      // The alias users call: during a traffic step, its routing weights split the requests.
      liveClient: lambdaInvokeClient({ client: lambda, functionName, qualifier: LIVE_ALIAS_NAME, region }),
      ...(liveVersion ? { previous: liveVersion } : {}),
      ...(unchanged ? { unchanged: true } : {}),
      state: { artifacts, newVersion, lambda, ...(liveVersion ? { liveVersion } : {}), ...(recordedPrevious ? { recordedPrevious } : {}) },
      details: {
        stackName, functionName, newVersion, liveVersion: liveVersion ?? newVersion, aliasArn: phase1.outputs[OUT.aliasArn],
        logGroupName: phase1.outputs[OUT.logGroupName], unchanged, ...(liveVersion ? {} : { firstDeploy: true }),
      },
    };
  },

  async promote(ctx: LambdaContext, candidate: Candidate<LambdaCandidateState>): Promise<Record<string, unknown>> {
    const { liveVersion, newVersion, artifacts, lambda } = candidate.state;
    lambda.destroy();
    // On a first deploy the alias already serves the new version; pinning it to the number keeps
    // the template what the next deploy synthesises, so an unchanged redeploy is a no-op.
    ctx.io.info('DM_LAMBDA_PROMOTE', liveVersion ? `Moving the live alias from version ${liveVersion} to ${newVersion}` : `Pinning the live alias to version ${newVersion}`, { from: liveVersion, to: newVersion });
    await synthAndDeploy(ctx, artifacts, newVersion, liveVersion);
    ctx.io.info('DM_LAMBDA_LIVE', `Version ${newVersion} is live at ${candidate.endpoint}`, { version: newVersion, endpoint: candidate.endpoint });
    // For the report: the alias serves the new version now.
    return { liveVersion: newVersion };
  },

  /** A traffic step: the alias stays on the live version and routes `percent` of the requests to the new one. */
  async shift(ctx: LambdaContext, candidate: Candidate<LambdaCandidateState>, percent: number): Promise<void> {
    const { liveVersion, newVersion, artifacts, recordedPrevious } = candidate.state;
    ctx.io.info('DM_LAMBDA_SHIFT', `Routing ${percent} % of the ${LIVE_ALIAS_NAME} alias's requests to version ${newVersion}, the rest to ${liveVersion}`, { version: newVersion, live: liveVersion, percent });
    await synthAndDeploy(ctx, artifacts, liveVersion, recordedPrevious, { version: newVersion, weight: percent / 100 });
    candidate.state.shiftedPercent = percent;
  },

  async rollback(ctx: LambdaContext, candidate: Candidate<LambdaCandidateState>): Promise<RollbackOutcome> {
    const { liveVersion, newVersion, lambda, shiftedPercent, artifacts, recordedPrevious } = candidate.state;
    lambda.destroy();
    if (liveVersion && shiftedPercent !== undefined) {
      // A traffic step gave it a share: the alias's routing weights go.
      ctx.io.warn('DM_LAMBDA_SHIFT_BACK', `Version ${newVersion} failed at ${shiftedPercent} % of the traffic: the ${LIVE_ALIAS_NAME} alias routes every request to version ${liveVersion} again`, { newVersion, liveVersion, percent: shiftedPercent });
      await synthAndDeploy(ctx, artifacts, liveVersion, recordedPrevious);
      candidate.state.shiftedPercent = undefined;
      return 'removed';
    }
    if (!liveVersion) {
      ctx.io.error('DM_LAMBDA_FIRST_DEPLOY_SMOKE_FAILED', `Version ${newVersion} failed its smoke test. This was the first deploy of ${ctx.plan.stackName}, so there was no previous version to keep: the live alias and the Function URL serve version ${newVersion}. Fix the model or config and deploy again (the alias moves only to a version that passes), or run \`deploy-model destroy --target ${ctx.targetName}\`.`, { version: newVersion, stackName: ctx.plan.stackName });
      return 'kept';
    }
    // The alias never moved: nothing to deploy.
    ctx.io.warn('DM_LAMBDA_NOT_PROMOTED', `Version ${newVersion} failed its smoke test: the live alias stays on version ${liveVersion}`, { newVersion, liveVersion });
    return 'removed';
  },

  /** An unchanged version serves already: only the smoke test's client goes. */
  async release(_ctx: LambdaContext, candidate: Candidate<LambdaCandidateState>): Promise<void> {
    candidate.state.lambda.destroy();
  },
};

/**
 * `deploy-model rollback`: deploys the stack with the `live` alias on the version it served before
 * the last promotion (the stack's `PreviousVersion` output) and no previous version recorded, so a
 * second rollback does not go forward again. The function's code is the current build's: when it
 * differs from the deployed code, CloudFormation publishes it as a version the alias does not serve.
 */
export async function restoreLambdaPrevious(ctx: LambdaContext, build: BuildResult): Promise<RestoreResult> {
  const { plan, io } = ctx;
  const { stackName, region } = plan;
  const before = await describeStack({ stackName, region });
  const live = liveVersionOf(before?.outputs);
  if (!before || !live) {
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no live version to roll back: stack ${stackName} ${before ? `is ${before.status} without a ${OUT.liveVersion} output` : 'does not exist'} in ${region}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName, stackName } });
  }
  const previous = previousVersionOf(before.outputs);
  if (!previous) {
    throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier version to roll back to: stack ${stackName} serves version ${live} and records no ${LAMBDA_PREVIOUS_VERSION_OUTPUT} (a first deploy, or a rollback already made). Deploy the earlier model or config to serve it again.`, { details: { target: ctx.targetName, stackName, liveVersion: live } });
  }
  io.info('DM_LAMBDA_ROLLBACK', `Moving the live alias of ${stackName} back from version ${live} to ${previous}`, { from: live, to: previous });
  const deployed = await synthAndDeploy(ctx, await withPublishedImage(ctx, build.outputs as LambdaArtifacts), previous);
  return { from: live, to: previous, endpoint: deployed.outputs[OUT.functionUrl], details: { stackName, functionName: deployed.outputs[OUT.functionName] } };
}
