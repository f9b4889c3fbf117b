/** The aws-lambda driver: a CDK stack deployed through toolkit-lib, read back from its outputs, smoke-tested with Lambda Invoke. */
import { statSync } from 'node:fs';
import { LAMBDA_PREVIOUS_VERSION_OUTPUT, ONNX_MODEL_FUNCTION_OUTPUTS as OUT, LIVE_ALIAS_NAME } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import type { StackDescription } from '../../kits/aws/describe-stack.js';
import type { RetainedResource } from '../../kits/aws/destroy-stack.js';
import { stackOutputsMissing } from '../../kits/aws/stack-outputs-missing.js';
import type { BuildResult, TargetDriver, TargetStatus } from '../driver.js';
import type { LambdaArtifacts, LambdaContext } from './build.js';
import type { AwsLambdaPlan } from './plan.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaStackName } from './stack-name.js';

type Ctx = LambdaContext;

/**
 * The stack's name, region and log retention, from the plan. connect, status and destroy also run
 * for a config the planner refused (the toolkit then gives the base plan): the only refusal is a
 * stack name CloudFormation would not take, and deriving it again throws that error.
 */
function deployedStack(ctx: Ctx): Pick<AwsLambdaPlan, 'stackName' | 'region' | 'logRetentionDays'> {
  const plan = ctx.plan as Partial<AwsLambdaPlan>;
  if (plan.stackName && plan.region && plan.logRetentionDays !== undefined) return { stackName: plan.stackName, region: plan.region, logRetentionDays: plan.logRetentionDays };
  return { stackName: lambdaStackName(ctx.config.name, ctx.loaded.stage, ctx.targetName), region: ctx.target.region, logRetentionDays: ctx.target.logRetentionDays };
}

// Build, synth, the rollout and diff load aws-cdk-lib, esbuild and toolkit-lib; status, smoke and invoke do not.
const buildModule = () => import('./build.js');
const synthModule = () => import('./synth.js');
const rolloutModule = () => import('./rollout.js');
// The AWS SDK clients (CloudFormation, Lambda: about 300 ms of loading) only where a call is made.
const describeStack: typeof import('../../kits/aws/describe-stack.js').describeStack = async (options) => (await import('../../kits/aws/describe-stack.js')).describeStack(options);
const destroyStack: typeof import('../../kits/aws/destroy-stack.js').destroyStack = async (options) => (await import('../../kits/aws/destroy-stack.js')).destroyStack(options);

/** What `status` says about a stack, from CloudFormation's status alone. */
export function lambdaStackState(stack: StackDescription): TargetStatus['state'] {
  const s = stack.status;
  if (s === 'DELETE_COMPLETE') return 'not-deployed';
  if (s === 'DELETE_IN_PROGRESS') return 'stopped';
  if (s === 'ROLLBACK_COMPLETE' || s.endsWith('_FAILED')) return 'failed';
  // An update in progress or rolled back keeps the live alias serving its version.
  if (s.startsWith('UPDATE_') && stack.outputs[OUT.liveVersion]) return 'running';
  if (s.endsWith('_IN_PROGRESS')) return 'creating';
  if (s.endsWith('_COMPLETE')) return 'running';
  return 'unknown';
}

export const awsLambdaDriver: TargetDriver<AwsLambdaTargetConfig, AwsLambdaPlan> = {
  async build(ctx: Ctx) {
    return (await buildModule()).buildLambdaArtifacts(ctx);
  },

  /** Writes `cdk.out/<stack>`, the alias on the new version, with no credentials and no network call. */
  async synth(ctx: Ctx, build: BuildResult) {
    const { synthChecked, lambdaStackArtifacts, warnPublicUrl } = await synthModule();
    warnPublicUrl(ctx.plan, ctx.io);
    const result = synthChecked({ plan: ctx.plan, artifacts: lambdaStackArtifacts(build.outputs as LambdaArtifacts), rootDir: ctx.loaded.rootDir, io: ctx.io });
    return { artifacts: [{ kind: `CloudFormation template (${result.stackName})`, file: result.templateFile, bytes: statSync(result.templateFile).size }] };
  },

  rollout: {
    stage: async (ctx: Ctx, build) => (await rolloutModule()).lambdaRollout.stage(ctx, build),
    promote: async (ctx: Ctx, candidate) => (await rolloutModule()).lambdaRollout.promote(ctx, candidate),
    rollback: async (ctx: Ctx, candidate) => (await rolloutModule()).lambdaRollout.rollback(ctx, candidate),
    release: async (ctx: Ctx, candidate) => (await rolloutModule()).lambdaRollout.release!(ctx, candidate),
    shift: async (ctx: Ctx, candidate, percent) => (await rolloutModule()).lambdaRollout.shift!(ctx, candidate, percent),
  },

  /** The live alias back on the version the stack records as served before the last promotion. */
  async restorePrevious(ctx: Ctx, build: BuildResult) {
    return (await rolloutModule()).restoreLambdaPrevious(ctx, build);
  },

  async diff(ctx: Ctx, build: BuildResult) {
    return (await import('./diff.js')).diffLambda(ctx, build);
  },

  /** The `live` alias, called with Lambda Invoke (the Function URL needs SigV4 signing). */
  async connect(ctx: Ctx) {
    const { stackName, region } = deployedStack(ctx);
    const stack = await describeStack({ stackName, region });
    const functionName = stack?.outputs[OUT.functionName];
    // A finished stack without its outputs will not gain them from another deploy: say what is missing.
    if (stack && !functionName && /_COMPLETE$/.test(stack.status) && !stack.status.startsWith('DELETE')) {
      throw stackOutputsMissing(stackName, region, [OUT.functionName], stack.outputs);
    }
    if (!stack || !functionName) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no deployed function: stack ${stackName} ${stack ? `is ${stack.status} without outputs` : 'does not exist'} in ${region}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName, stackName, status: stack?.status } });
    }
    const { lambdaInvokeClient } = await import('./lambda-invoke-client.js');
    return {
      endpoint: stack.outputs[OUT.functionUrl] ?? functionName,
      version: stack.outputs[OUT.liveVersion],
      client: lambdaInvokeClient({ functionName, qualifier: LIVE_ALIAS_NAME, region }),
      details: { stackName, functionName },
    };
  },

  async *logs(ctx: Ctx, options) { yield* (await import('./logs.js')).lambdaLogs(ctx, deployedStack(ctx), options); },

  /** Read from the stack's status and outputs: no local state, so CI sees what a laptop deployed. */
  async status(ctx: Ctx) {
    const { stackName, region } = deployedStack(ctx);
    const stack = await describeStack({ stackName, region });
    if (!stack) return { state: 'not-deployed' as const, details: { stackName } };
    const outputs = stack.outputs;
    const live = outputs[OUT.liveVersion];
    const newest = outputs[OUT.newVersion];
    return {
      state: lambdaStackState(stack),
      endpoint: outputs[OUT.functionUrl],
      version: live,
      details: {
        stackName, stackStatus: stack.status, lastUpdated: stack.lastUpdated, statusReason: stack.statusReason,
        functionName: outputs[OUT.functionName], logGroupName: outputs[OUT.logGroupName],
        // A newer version that the alias does not serve failed its smoke test (or was rolled back).
        ...(newest && live && newest !== live ? { unpromotedVersion: newest } : {}),
        // What `deploy-model rollback` would put back.
        ...(outputs[LAMBDA_PREVIOUS_VERSION_OUTPUT] ? { previousVersion: outputs[LAMBDA_PREVIOUS_VERSION_OUTPUT] } : {}),
      },
    };
  },

  /**
   * Deletes the stack. The function's log group stays (`DeletionPolicy: Retain`, so the logs
   * outlive the function): the result lists it under `retained`, with the command that deletes it,
   * and a warning says so.
   */
  async destroy(ctx: Ctx) {
    const { stackName, region, logRetentionDays } = deployedStack(ctx);
    const { removed, retained = [] } = await destroyStack({ stackName, region, io: ctx.io, listRetained: true });
    // Lambda deletes every version with its function, whatever the version's DeletionPolicy says.
    const kept = retained.filter((r) => r.type !== 'AWS::Lambda::Version').map((r) => ({ ...r, deleteWith: deleteCommand(r, region) }));
    for (const r of kept) {
      const what = r.type === 'AWS::Logs::LogGroup'
        ? `Log group ${r.physicalId} is kept (DeletionPolicy: Retain): the function's logs outlive it and are billed for storage until they expire (${logRetentionDays} days).`
        : `${r.type} ${r.physicalId} is kept (DeletionPolicy: Retain).`;
      ctx.io.warn('DM_LAMBDA_RETAINED', `${what} Delete it${r.deleteWith ? ` with \`${r.deleteWith}\`` : ' by hand'} if you no longer need it.`, r);
    }
    return { removed, ...(kept.length > 0 ? { retained: kept } : {}) };
  },
};

/** The AWS CLI command that deletes a kept resource, where there is one. */
function deleteCommand(r: RetainedResource, region: string): string | undefined {
  if (r.type === 'AWS::Logs::LogGroup') return `aws logs delete-log-group --log-group-name ${r.physicalId} --region ${region}`;
  return undefined;
}
