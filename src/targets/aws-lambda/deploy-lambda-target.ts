import path from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ONNX_MODEL_FUNCTION_OUTPUTS as OUT } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import type { InferenceClient, SmokeResult } from '../../smoke/run-smoke.js';
import { deployStack } from '../../kits/aws/deploy-stack.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { stackOutputsMissing } from '../../kits/aws/stack-outputs-missing.js';
import type { DeployResult, TargetContext } from '../driver.js';
import { buildLambdaArtifacts } from './build-lambda-artifacts.js';
import { lambdaInvokeClient } from './lambda-invoke-client.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import type { LambdaStackArtifacts } from './stack.js';
import { lambdaStackName } from './stack-name.js';
import { synthLambdaTarget } from './synth.js';

type Ctx = TargetContext<AwsLambdaTargetConfig>;

const VERSION_RE = /^[1-9]\d*$/;

export function buildArtifacts(ctx: Ctx): Promise<LambdaStackArtifacts> {
  return buildLambdaArtifacts({ modelPath: ctx.signature.file, signature: ctx.signature, target: ctx.target, workDir: ctx.workDir, layerCacheDir: path.join(ctx.cacheDir, 'layers'), io: ctx.io });
}

export function stackNameOf(ctx: Ctx): string {
  return lambdaStackName(ctx.config.name, ctx.loaded.stage, ctx.targetName);
}

/**
 * Synthesises the target's stack into `cdk.out/<stack>` with the `live` alias on `aliasVersion`
 * (or on the new version when undefined); cdk-nag findings are a bug in our stack.
 */
export function synthChecked(ctx: Ctx, artifacts: LambdaStackArtifacts, aliasVersion?: string) {
  const result = synthLambdaTarget({ config: ctx.config, targetName: ctx.targetName, target: ctx.target, stage: ctx.loaded.stage, artifacts, rootDir: ctx.loaded.rootDir, io: ctx.io, aliasVersion });
  if (result.nagFindings.length > 0) {
    throw new DeployModelError('NAG_FINDINGS', `The ${result.stackName} stack has ${result.nagFindings.length} unacknowledged cdk-nag finding(s):\n${result.nagFindings.map((f) => `  - ${f.ruleId} at ${f.constructPath}: ${f.description}`).join('\n')}\nThis is a bug in deploy-model's stack; please report it.`, { kind: 'internal', details: { findings: result.nagFindings } });
  }
  return result;
}

async function synthAndDeploy(ctx: Ctx, artifacts: LambdaStackArtifacts, aliasVersion: string | undefined) {
  const synth = synthChecked(ctx, artifacts, aliasVersion);
  return deployStack({ assemblyDir: synth.assemblyDir, stackName: synth.stackName, region: ctx.target.region, io: ctx.io });
}

function requireOutput(outputs: Record<string, string>, key: string, stackName: string, region: string): string {
  const value = outputs[key];
  if (!value) throw stackOutputsMissing(stackName, region, [key], outputs);
  return value;
}

/**
 * Deploys an aws-lambda target in two phases, so a new version takes traffic only after it passed
 * its smoke test:
 *   1. deploy with the `live` alias kept on the version it serves now (read from the stack's
 *      `LiveVersion` output): CloudFormation publishes the new version beside it;
 *   2. smoke-test the new version by number (`Invoke` with `Qualifier: <NewVersion>`);
 *   3. when it passed, deploy with the alias on the new version's number.
 * A failed smoke test stops after step 2: the alias, and the Function URL on it, stay on the
 * previous version. On a first deploy there is no previous version, so the alias is created on
 * the new one and a failed smoke test leaves that version serving. The alias is always pinned to
 * a literal version number, so deploying an unchanged project is a no-op for CloudFormation.
 */
export async function deployLambdaTarget(ctx: Ctx, smoke: (client: InferenceClient) => Promise<SmokeResult>): Promise<DeployResult> {
  const { io, target } = ctx;
  const region = target.region;
  const stackName = stackNameOf(ctx);
  const artifacts = await buildArtifacts(ctx);

  const before = await describeStack({ stackName, region });
  const deployed = before?.outputs[OUT.liveVersion];
  const liveVersion = deployed && VERSION_RE.test(deployed) ? deployed : undefined;
  io.info('DM_LAMBDA_PUBLISH', liveVersion
    ? `Publishing a new version of ${stackName}; the live alias stays on version ${liveVersion} until it passes its smoke test`
    : `First deploy of ${stackName}: creating the function, its first version and the live alias`,
  { stackName, liveVersion, stackStatus: before?.status });
  const phase1 = await synthAndDeploy(ctx, artifacts, liveVersion);

  const functionName = requireOutput(phase1.outputs, OUT.functionName, stackName, region);
  const newVersion = requireOutput(phase1.outputs, OUT.newVersion, stackName, region);
  const endpoint = requireOutput(phase1.outputs, OUT.functionUrl, stackName, region);
  const unchanged = liveVersion !== undefined && newVersion === liveVersion;
  const details: Record<string, unknown> = {
    stackName, functionName, newVersion, liveVersion: liveVersion ?? newVersion, aliasArn: phase1.outputs[OUT.aliasArn], logGroupName: phase1.outputs[OUT.logGroupName], unchanged,
  };

  io.info('DM_LAMBDA_SMOKE_VERSION', unchanged
    ? `Nothing changed: smoke-testing the live version ${newVersion}`
    : `Smoke-testing version ${newVersion} through Lambda Invoke before it takes traffic`,
  { functionName, version: newVersion, unchanged });
  const lambda = new LambdaClient({ region });
  let result: SmokeResult;
  try {
    result = await smoke(lambdaInvokeClient({ client: lambda, functionName, qualifier: newVersion, region }));
  } finally {
    lambda.destroy();
  }

  if (result.status !== 'passed') {
    if (unchanged) {
      io.warn('DM_LAMBDA_LIVE_SMOKE_FAILED', `The live version ${newVersion} is unchanged and failed its smoke test; it keeps serving`, { version: newVersion });
      return { endpoint, version: newVersion, smoke: result, promoted: false, details };
    }
    if (!liveVersion) {
      io.error('DM_LAMBDA_FIRST_DEPLOY_SMOKE_FAILED', `Version ${newVersion} failed its smoke test. This was the first deploy of ${stackName}, so there was no previous version to keep: the live alias and the Function URL serve version ${newVersion}. Fix the model or config and deploy again (the alias moves only to a version that passes), or run \`deploy-model destroy --target ${ctx.targetName}\`.`, { version: newVersion, stackName });
      return { endpoint, version: newVersion, smoke: result, promoted: true, details: { ...details, firstDeploy: true } };
    }
    io.warn('DM_LAMBDA_NOT_PROMOTED', `Version ${newVersion} failed its smoke test: the live alias stays on version ${liveVersion}`, { newVersion, liveVersion });
    return { endpoint, version: newVersion, smoke: result, promoted: false, details };
  }

  if (!unchanged) {
    // On a first deploy the alias already serves the new version; pinning it to the number keeps
    // the template what the next deploy synthesises, so an unchanged redeploy is a no-op.
    io.info('DM_LAMBDA_PROMOTE', liveVersion ? `Moving the live alias from version ${liveVersion} to ${newVersion}` : `Pinning the live alias to version ${newVersion}`, { from: liveVersion, to: newVersion });
    await synthAndDeploy(ctx, artifacts, newVersion);
  }
  io.info('DM_LAMBDA_LIVE', `Version ${newVersion} is live at ${endpoint}`, { version: newVersion, endpoint });
  return { endpoint, version: newVersion, smoke: result, promoted: true, details: { ...details, liveVersion: newVersion, ...(liveVersion ? {} : { firstDeploy: true }) } };
}
