import { statSync } from 'node:fs';
import { ONNX_MODEL_FUNCTION_OUTPUTS as OUT, LIVE_ALIAS_NAME } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import { describeStack, type StackDescription } from '../../kits/aws/describe-stack.js';
import { destroyStack, type RetainedResource } from '../../kits/aws/destroy-stack.js';
import { stackOutputsMissing } from '../../kits/aws/stack-outputs-missing.js';
import type { TargetContext, LegacyTargetDriver, TargetStatus } from '../driver.js';
import { lambdaInvokeClient } from './lambda-invoke-client.js';
import { lambdaSizeProblems } from './limits.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaStackName } from './stack-name.js';

type Ctx = TargetContext<AwsLambdaTargetConfig>;

/** Build, synth and deploy load aws-cdk-lib and toolkit-lib; status, smoke and invoke do not need them. */
const deployModule = () => import('./deploy-lambda-target.js');

const stackNameOf = (ctx: Ctx): string => lambdaStackName(ctx.config.name, ctx.loaded.stage, ctx.targetName);

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

export const awsLambdaDriver: LegacyTargetDriver<AwsLambdaTargetConfig> = {
  type: 'aws-lambda',

  async validate(ctx: Ctx) {
    return lambdaSizeProblems(ctx);
  },

  async build(ctx: Ctx) {
    const a = await (await deployModule()).buildArtifacts(ctx);
    return {
      artifacts: [
        { kind: 'function.zip', file: a.functionZip, bytes: statSync(a.functionZip).size },
        { kind: `layer.zip (${ctx.target.architecture})`, file: a.layerZip, bytes: statSync(a.layerZip).size },
      ],
    };
  },

  /** Writes `cdk.out/<stack>` with no credentials and no network call. */
  async synth(ctx: Ctx) {
    const { buildArtifacts, synthChecked } = await deployModule();
    const result = synthChecked(ctx, await buildArtifacts(ctx));
    return { artifacts: [{ kind: `CloudFormation template (${result.stackName})`, file: result.templateFile, bytes: statSync(result.templateFile).size }] };
  },

  async deploy(ctx: Ctx, smoke) {
    return (await deployModule()).deployLambdaTarget(ctx, smoke);
  },

  /** The `live` alias, called with Lambda Invoke (the Function URL needs SigV4 signing). */
  async connect(ctx: Ctx) {
    const stackName = stackNameOf(ctx);
    const stack = await describeStack({ stackName, region: ctx.target.region });
    const functionName = stack?.outputs[OUT.functionName];
    // A finished stack without its outputs will not gain them from another deploy: say what is missing.
    if (stack && !functionName && /_COMPLETE$/.test(stack.status) && !stack.status.startsWith('DELETE')) {
      throw stackOutputsMissing(stackName, ctx.target.region, [OUT.functionName], stack.outputs);
    }
    if (!stack || !functionName) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no deployed function: stack ${stackName} ${stack ? `is ${stack.status} without outputs` : 'does not exist'} in ${ctx.target.region}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName, stackName, status: stack?.status } });
    }
    return {
      endpoint: stack.outputs[OUT.functionUrl] ?? functionName,
      version: stack.outputs[OUT.liveVersion],
      client: lambdaInvokeClient({ functionName, qualifier: LIVE_ALIAS_NAME, region: ctx.target.region }),
      details: { stackName, functionName },
    };
  },

  /** Read from the stack's status and outputs: no local state, so CI sees what a laptop deployed. */
  async status(ctx: Ctx) {
    const stackName = stackNameOf(ctx);
    const stack = await describeStack({ stackName, region: ctx.target.region });
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
        // A newer version that the alias does not serve failed its smoke test.
        ...(newest && live && newest !== live ? { unpromotedVersion: newest } : {}),
      },
    };
  },

  /**
   * Deletes the stack. The function's log group stays (`DeletionPolicy: Retain`, so the logs
   * outlive the function): the result lists it under `retained`, with the command that deletes it,
   * and a warning says so.
   */
  async destroy(ctx: Ctx) {
    const { region, logRetentionDays } = ctx.target;
    const { removed, retained = [] } = await destroyStack({ stackName: stackNameOf(ctx), region, io: ctx.io, listRetained: true });
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
