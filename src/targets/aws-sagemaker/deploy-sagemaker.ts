import { DeployModelError } from '../../errors.js';
import type { InferenceClient, SmokeResult } from '../../smoke/run-smoke.js';
import { deployStack, describeStack } from '../../kits/aws/index.js';
import { endpointOverride } from '../../kits/aws/endpoint-override.js';
import type { DeployResult, TargetContext } from '../driver.js';
import { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS as OUTPUTS } from '../../../infra/triton-sagemaker-endpoint.js';
import type { SageMakerClients } from './_clients.js';
import {
  describeEndpoint, failureSince, retireConfigs, SERVING, switchEndpointConfig, watchEndpoint, type EndpointSnapshot,
} from './_endpoint-state.js';
import { buildSageMakerArtifacts } from './build-sagemaker-artifacts.js';
import { sageMakerNames, type SageMakerNames } from '../../kits/sagemaker/names.js';
import { invocationsUrl, sageMakerInferenceClient } from './runtime-client.js';
import type { AwsSageMakerTargetConfig } from './schema.js';
import { synthSageMakerTarget } from './synth.js';

type Ctx = TargetContext<AwsSageMakerTargetConfig>;

export function namesOf(ctx: Ctx): SageMakerNames {
  return sageMakerNames(ctx.config.name, ctx.loaded.stage, ctx.targetName);
}

/** Builds the model archive and synthesises the stack, failing on cdk-nag findings. */
export async function synthForDeploy(ctx: Ctx) {
  const names = namesOf(ctx);
  const artifacts = await buildSageMakerArtifacts({
    signature: ctx.signature, model: ctx.config.model, runtime: ctx.config.runtime, target: ctx.target, tritonModel: names.tritonModel,
    workDir: ctx.workDir, rootDir: ctx.loaded.rootDir, io: ctx.io,
  });
  const result = synthSageMakerTarget({
    config: ctx.config, targetName: ctx.targetName, target: ctx.target, stage: ctx.loaded.stage, artifacts, rootDir: ctx.loaded.rootDir, io: ctx.io,
  });
  if (result.nagFindings.length > 0) {
    throw new DeployModelError('NAG_FINDINGS', `The ${result.stackName} stack has ${result.nagFindings.length} unacknowledged cdk-nag finding(s):\n${result.nagFindings.map((f) => `  - ${f.ruleId} at ${f.constructPath}: ${f.description}`).join('\n')}\nThis is a bug in deploy-model's stack; please report it.`, { kind: 'internal', details: { findings: result.nagFindings } });
  }
  return { artifacts, synth: result };
}

/**
 * Deploys one version on SageMaker and smoke-tests it before it is kept:
 *
 * 1. CloudFormation (through toolkit-lib) creates a new Model and EndpointConfig and updates the
 *    endpoint to it, blue/green: SageMaker starts new instances, moves the traffic when they pass
 *    their health check, and rolls back by itself if they never do or if the 5XX alarm fires while
 *    the old instances bake. Meanwhile DescribeEndpoint reports the endpoint's status.
 * 2. The smoke test calls the endpoint with InvokeEndpoint.
 * 3. If it fails, the endpoint is put back on the endpoint config that served before (kept by
 *    `UpdateReplacePolicy: Retain`) and the deploy reports `promoted: false`. The stack then names
 *    a config the endpoint does not serve; the next deploy puts the endpoint on the stack's config
 *    again before smoke-testing it.
 * 4. If it passes, the configs (and models) that no longer serve are deleted.
 */
export async function deploySageMaker(ctx: Ctx, clients: SageMakerClients, smoke: (client: InferenceClient) => Promise<SmokeResult>): Promise<DeployResult> {
  const { io, target } = ctx;
  const names = namesOf(ctx);
  const { control, runtime, pollMs, updateTimeoutMs } = clients;
  const { synth } = await synthForDeploy(ctx);

  const before = await describeEndpoint(control, names.endpointName, target.region);
  const stackBefore = await describeStack({ stackName: names.stackName, region: target.region });
  const previous = before && before.status === 'InService' ? before.configName : undefined;

  const started = new Date();
  const watch = watchEndpoint(control, names.endpointName, target.region, io, pollMs);
  let outputs: Record<string, string>;
  let noOp: boolean;
  try {
    ({ outputs, noOp } = await deployStack({ assemblyDir: synth.assemblyDir, stackName: names.stackName, region: target.region, io }));
  } catch (e) {
    await watch.stop();
    throw await endpointFailure(ctx, clients, names, e, watch.failureReason, started);
  }
  await watch.stop();

  const configName = outputs[OUTPUTS.endpointConfigName] ?? '';
  let live = await describeEndpoint(control, names.endpointName, target.region);
  if (!live) throw endpointMissing(names, target.region);
  if (live.configName !== configName) {
    // An earlier smoke test rolled the endpoint back and the stack did not change since.
    io.info('DM_SAGEMAKER_RECONCILE', `Endpoint ${names.endpointName} serves ${live.configName}, not the stack's ${configName} (an earlier smoke test failed): updating it to ${configName}`, { from: live.configName, to: configName });
    live = await switchEndpointConfig(control, names.endpointName, configName, target.region, io, pollMs, updateTimeoutMs);
    if (live?.configName !== configName) {
      throw new DeployModelError('SAGEMAKER_ENDPOINT_FAILED', failureMessage(names, target.region, live?.failureReason, live), { details: { endpointName: names.endpointName, failureReason: live?.failureReason, logGroup: names.logGroupName } });
    }
  }

  const details = {
    region: target.region, stackName: names.stackName, endpointName: names.endpointName, endpointConfigName: configName,
    modelName: outputs[OUTPUTS.modelName], logGroupName: names.logGroupName, unchanged: noOp,
  };
  const endpoint = invocationsUrl(target.region, names.endpointName);
  const result = await smoke(sageMakerInferenceClient(runtime, names.endpointName));

  if (result.status !== 'passed') {
    if (previous === configName) {
      io.warn('DM_SAGEMAKER_SMOKE_FAILED_UNCHANGED', `Endpoint ${names.endpointName} already served ${configName} and fails its smoke test; nothing changed, so there is nothing to roll back.`, details);
      return { endpoint, version: configName, smoke: result, promoted: false, details };
    }
    if (previous) {
      io.warn('DM_SAGEMAKER_ROLLBACK', `The smoke test failed: putting endpoint ${names.endpointName} back on ${previous}`, { from: configName, to: previous });
      const back = await switchEndpointConfig(control, names.endpointName, previous, target.region, io, pollMs, updateTimeoutMs);
      if (back?.configName !== previous || back.status !== 'InService') {
        throw new DeployModelError('SAGEMAKER_ROLLBACK_FAILED', `The smoke test of ${configName} failed, and putting endpoint ${names.endpointName} back on ${previous} did not succeed: it is ${back?.status ?? 'gone'} on ${back?.configName ?? '-'}${back?.failureReason ? ` (${back.failureReason})` : ''}. Check the endpoint in the SageMaker console and the logs in ${names.logGroupName}.`, { details: { ...details, previous } });
      }
      io.info('DM_SAGEMAKER_ROLLED_BACK', `Endpoint ${names.endpointName} serves ${previous} again`, { endpointConfigName: previous });
      return { endpoint, version: previous, smoke: result, promoted: false, details: { ...details, rolledBackTo: previous } };
    }
    io.warn('DM_SAGEMAKER_NO_PREVIOUS', `The smoke test failed and endpoint ${names.endpointName} had no earlier configuration to go back to: ${configName} keeps serving, and its instances are billed per hour. Fix the model and deploy again, or remove it with \`deploy-model destroy --target ${ctx.targetName}\`.`, details);
    return { endpoint, version: configName, smoke: result, promoted: true, details };
  }

  const retired = await retireConfigs(control, [previous ?? '', stackBefore?.outputs[OUTPUTS.endpointConfigName] ?? ''], configName, target.region, io);
  return { endpoint, version: configName, smoke: result, promoted: true, details: { ...details, retired } };
}

/** The stack deployed, yet SageMaker knows no endpoint by the name the stack gives it. */
function endpointMissing(names: SageMakerNames, region: string): DeployModelError {
  const override = endpointOverride('SageMaker');
  const why = override
    ? `SageMaker calls go to ${override.url} (${override.variable}), not to AWS, and that endpoint may not support the EndpointName property of AWS::SageMaker::Endpoint (an emulator may name the endpoint itself). Fix: use an endpoint that honours it, or unset ${override.variable}.`
    : 'It was probably deleted outside deploy-model while the stack kept it. Fix: run `deploy-model destroy`, then deploy again.';
  return new DeployModelError('SAGEMAKER_ENDPOINT_MISSING',
    `Stack ${names.stackName} in ${region} deployed, but SageMaker has no endpoint ${names.endpointName}, the EndpointName the stack gives it. ${why}`,
    { details: { stackName: names.stackName, endpointName: names.endpointName, region, endpoint: override?.url } });
}

function failureMessage(names: SageMakerNames, region: string, reason: string | undefined, live: EndpointSnapshot | undefined): string {
  const serving = live && SERVING.has(live.status)
    ? `Endpoint config ${live.configName} keeps serving.`
    : 'The endpoint is not serving.';
  return `SageMaker could not bring endpoint ${names.endpointName} into service with the new configuration.\n` +
    `FailureReason: ${reason ?? '(none reported)'}\n` +
    `Read the container logs in CloudWatch log group ${names.logGroupName} (\`aws logs tail ${names.logGroupName} --region ${region}\`); a TensorRT engine build that outlasts startupHealthCheckTimeoutSeconds also fails the ping health check.\n` +
    serving;
}

/**
 * A failed stack deploy that SageMaker explains (a FailureReason) becomes SAGEMAKER_ENDPOINT_FAILED
 * with that reason verbatim and the log group to read; any other failure is passed on.
 */
async function endpointFailure(ctx: Ctx, clients: SageMakerClients, names: SageMakerNames, e: unknown, seenReason: string | undefined, started: Date): Promise<unknown> {
  const live = await describeEndpoint(clients.control, names.endpointName, ctx.target.region).catch(() => undefined);
  const reason = seenReason ?? failureSince(live, started);
  if (!reason) return e;
  ctx.io.error('DM_SAGEMAKER_ENDPOINT_FAILED', `Endpoint ${names.endpointName}: ${reason}`, { endpointName: names.endpointName, failureReason: reason, logGroupName: names.logGroupName });
  const cloudFormation = e instanceof Error ? `\n\n${e.message}` : '';
  return new DeployModelError('SAGEMAKER_ENDPOINT_FAILED', `${failureMessage(names, ctx.target.region, reason, live)}${cloudFormation}`, {
    cause: e, details: { endpointName: names.endpointName, failureReason: reason, logGroupName: names.logGroupName, serving: live?.configName },
  });
}
