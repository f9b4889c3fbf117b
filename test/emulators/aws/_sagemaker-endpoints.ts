import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import type { FakeContext } from './_context.js';
import { extractModelArchive } from './_sagemaker-tar.js';
import { alarmFailureReason, runTrafficSteps, trafficRoutingProblem, trafficSteps } from './_sagemaker-traffic.js';
import {
  PING_HEALTH_CHECK_FAILURE, sageMakerFake, type FakeModelDataSource, type FakeSageMakerEndpoint, type PendingDeployment, type SageMakerFake, type ServedConfig,
} from './_sagemaker-store.js';
import { AwsError } from './_wire.js';

/** The environment variable SageMaker's Triton image reads to pick the model to load. */
const MODEL_NAME_ENV = 'SAGEMAKER_TRITON_DEFAULT_MODEL_NAME';

export function sageMakerArn(ctx: FakeContext, kind: 'model' | 'endpoint-config' | 'endpoint', name: string): string {
  // SageMaker lowercases names in ARNs.
  return `arn:aws:sagemaker:${ctx.region}:${ctx.accountId}:${kind}/${name.toLowerCase()}`;
}

/** Thrown inside a transition: becomes the endpoint's FailureReason. */
class EndpointFailure extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the "container" of an endpoint config the way SageMaker's Triton image would: download
 * the model archive from S3, extract it, check the repository layout the image's serve script
 * needs, and load the model into the project's Node runtime. Problems the container would only
 * log go to `sm.logs`; the FailureReason is SageMaker's generic one, as on AWS.
 */
async function startContainer(ctx: FakeContext, sm: SageMakerFake, endpoint: FakeSageMakerEndpoint, configName: string): Promise<ServedConfig> {
  const fault = sm.faults.takeFailure(endpoint.name, configName);
  const hold = sm.faults.takeHold(endpoint.name);
  await sleep(sm.transitionMs);
  if (hold) await hold;
  const config = sm.endpointConfigs.get(configName);
  if (!config) throw new EndpointFailure(`Could not find endpoint configuration "${sageMakerArn(ctx, 'endpoint-config', configName)}".`);
  const variant = config.variants[0]!;
  if (fault) {
    sm.log(endpoint.name, 'fault injected by the test: the container never answered /ping');
    throw new EndpointFailure(fault.reason ?? PING_HEALTH_CHECK_FAILURE(variant.VariantName));
  }
  const model = sm.models.get(variant.ModelName);
  if (!model) throw new EndpointFailure(`Could not find model "${sageMakerArn(ctx, 'model', variant.ModelName)}".`);

  const dir = await mkdtemp(path.join(ctx.workDir, `sagemaker-${endpoint.name}-`));
  if (model.modelDataSource) {
    await copyModelData(ctx, sm, endpoint.name, model.modelDataSource, dir);
  } else {
    const url = /^s3:\/\/([^/]+)\/(.+)$/.exec(model.modelDataUrl);
    const object = url ? ctx.state.s3.get(url[1]!)?.get(url[2]!) : undefined;
    if (!object) {
      throw new EndpointFailure(`Failed to download model data for container "container_1" from URL: "${model.modelDataUrl}". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.`);
    }
    try {
      await extractModelArchive(object.body, dir);
    } catch (e) {
      sm.log(endpoint.name, `extracting ${model.modelDataUrl}: ${(e as Error).message}`);
      throw new EndpointFailure(`Failed to extract model data archive from URL "${model.modelDataUrl}". Please ensure that the object located at the URL is a valid tar.gz archive.`);
    }
  }
  try {
    const served = await loadTriton(dir, model.environment, variant.VariantName, configName, sm.faults.takeBreak());
    sm.log(endpoint.name, `I0000 model '${served.modelName}' is READY (endpoint config ${configName})`);
    return served;
  } catch (e) {
    sm.log(endpoint.name, `E0000 ${(e as Error).message}`);
    await rm(dir, { recursive: true, force: true });
    throw new EndpointFailure(PING_HEALTH_CHECK_FAILURE(variant.VariantName));
  }
}

/**
 * Uncompressed model data (CompressionType None), as SageMaker lays it out under /opt/ml/model
 * (botocore service-2.json, S3ModelDataSource.CompressionType): for S3Prefix, each object under
 * the prefix at its key less the prefix, split by '/' into folders; for S3Object, the object under
 * the last part of its key. Names that are empty, '.' or '..' fail the deployment.
 */
async function copyModelData(ctx: FakeContext, sm: SageMakerFake, endpointName: string, source: FakeModelDataSource, dir: string): Promise<void> {
  const [, bucket = '', key = ''] = /^s3:\/\/([^/]+)\/(.*)$/.exec(source.s3Uri) ?? [];
  const objects = ctx.state.s3.get(bucket);
  const failed = () => new EndpointFailure(`Failed to download model data for container "container_1" from URL: "${source.s3Uri}". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.`);
  if (source.compressionType === 'Gzip') {
    const object = objects?.get(key);
    if (!object) throw failed();
    try {
      await extractModelArchive(object.body, dir);
    } catch (e) {
      sm.log(endpointName, `extracting ${source.s3Uri}: ${(e as Error).message}`);
      throw new EndpointFailure(`Failed to extract model data archive from URL "${source.s3Uri}". Please ensure that the object located at the URL is a valid tar.gz archive.`);
    }
    return;
  }
  const entries = source.s3DataType === 'S3Object'
    ? (objects?.has(key) ? [[key.split('/').pop()!, objects.get(key)!] as const] : [])
    : [...(objects?.entries() ?? [])].filter(([k]) => k.startsWith(key)).map(([k, o]) => [k.slice(key.length), o] as const);
  if (entries.length === 0) throw failed();
  for (const [name, object] of entries) {
    const parts = name.split('/');
    if (parts.some((p) => p.trim() === '' || p === '.' || p === '..' || p.includes('\0') || Buffer.byteLength(p) > 255)) {
      throw new EndpointFailure(`Failed to download model data for container "container_1": the object name "${name}" under "${source.s3Uri}" is not a valid file path.`);
    }
    await mkdir(path.join(dir, ...parts.slice(0, -1)), { recursive: true });
    await writeFile(path.join(dir, ...parts), object.body);
  }
}

/** What Triton's SageMaker serve script and model loader check before /ping answers 200. */
async function loadTriton(dir: string, env: Record<string, string>, variantName: string, configName: string, broken: string | undefined): Promise<ServedConfig> {
  if (existsSync(path.join(dir, 'config.pbtxt'))) {
    throw new Error('config.pbtxt found directly in /opt/ml/model: the model repository must hold one folder per model');
  }
  const name = env[MODEL_NAME_ENV];
  if (!name) throw new Error(`${MODEL_NAME_ENV} is not set and the serve script cannot pick the model`);
  const pbtxt = path.join(dir, name, 'config.pbtxt');
  if (!existsSync(pbtxt)) throw new Error(`${MODEL_NAME_ENV}=${name}, but /opt/ml/model/${name}/config.pbtxt does not exist`);
  const config = parsePbtxt(await readFile(pbtxt, 'utf8'));
  if (config.name !== name) throw new Error(`config.pbtxt names the model '${config.name}' but it lies in the folder '${name}'`);
  const modelPath = path.join(dir, name, '1', 'model.onnx');
  if (!existsSync(modelPath)) throw new Error(`/opt/ml/model/${name}/1/model.onnx does not exist`);
  // Triton refuses to load a config its core or the onnxruntime backend rejects; so does the fake.
  const [{ checkTritonLoad }, { ortModelIo }] = await Promise.all([import('../../references/triton/check-triton-load.js'), import('../../references/triton/ort-model-io.js')]);
  const refusals = checkTritonLoad({ config, model: await ortModelIo(modelPath), directoryName: name });
  if (refusals.length > 0) throw new Error(`failed to load '${name}' version 1: Invalid argument: ${refusals.map((r) => r.message).join('; ')}`);
  // Loaded on first use, so that fakes which never host a model do not load onnxruntime.
  const [{ createInferenceCore, startServer }, { inspectModel }] = await Promise.all([import('../../../handlers/index.js'), import('../../../src/model/inspect-model.js')]);
  const signature = await inspectModel(modelPath);
  const core = await createInferenceCore({ modelPath, signature, modelName: config.name, log: () => {} });
  const server = await startServer({ core, port: 0, host: '127.0.0.1', log: () => {} }).catch(async (e: unknown) => {
    await core.close();
    throw e;
  });
  return {
    configName, modelName: config.name, variantName, url: server.url, broken,
    async close() {
      await server.close({ timeoutMs: 1000 });
      await core.close();
    },
  };
}

/**
 * SageMaker's answer when the account's quota of this instance type for endpoints is used up
 * (ResourceLimitExceeded, HTTP 400), checked before anything starts.
 */
function checkLimit(ctx: FakeContext, sm: SageMakerFake, name: string, configName: string): void {
  const limit = sm.faults.takeLimit(name);
  if (!limit) return;
  const variant = sm.endpointConfigs.get(configName)?.variants[0];
  const quota = limit.quota ?? `${variant?.InstanceType ?? 'ml.g5.xlarge'} for endpoint usage`;
  const delta = variant?.InitialInstanceCount ?? 1;
  throw new AwsError('ResourceLimitExceeded', `The account-level service limit '${quota}' is 0 Instances, with current utilization of 0 Instances and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.`);
}

/** CreateEndpoint: `Creating`, then `InService` or `Failed` after `transitionMs`. */
export function createEndpoint(ctx: FakeContext, name: string, configName: string, deploymentConfig?: unknown): FakeSageMakerEndpoint {
  const sm = sageMakerFake(ctx.state);
  if (sm.endpoints.has(name)) throw new AwsError('ValidationException', `Cannot create already existing endpoint "${sageMakerArn(ctx, 'endpoint', name)}".`);
  if (!sm.endpointConfigs.has(configName)) throw new AwsError('ValidationException', `Could not find endpoint configuration "${sageMakerArn(ctx, 'endpoint-config', configName)}".`);
  checkLimit(ctx, sm, name, configName);
  const now = new Date();
  const endpoint: FakeSageMakerEndpoint = {
    name, arn: sageMakerArn(ctx, 'endpoint', name), configName, status: 'Creating', created: now, lastModified: now, deploymentConfig,
  };
  sm.endpoints.set(name, endpoint);
  endpoint.operation = (async () => {
    try {
      endpoint.serving = await startContainer(ctx, sm, endpoint, configName);
      endpoint.status = 'InService';
    } catch (e) {
      endpoint.status = 'Failed';
      endpoint.failureReason = (e as Error).message;
    }
    endpoint.lastModified = new Date();
  })();
  return endpoint;
}

/**
 * UpdateEndpoint: `Updating` while the new instances start (the old ones keep answering); then
 * `InService` on the new config, or, when they fail, `RollingBack` and `InService` on the old one
 * with the FailureReason set, as SageMaker does.
 */
export function updateEndpoint(ctx: FakeContext, name: string, configName: string, deploymentConfig?: unknown): FakeSageMakerEndpoint {
  const sm = sageMakerFake(ctx.state);
  const endpoint = getEndpoint(ctx, name);
  if (endpoint.status !== 'InService') {
    throw new AwsError('ValidationException', `Cannot update in-progress endpoint "${endpoint.arn}".`);
  }
  if (!sm.endpointConfigs.has(configName)) throw new AwsError('ValidationException', `Could not find endpoint configuration "${sageMakerArn(ctx, 'endpoint-config', configName)}".`);
  const instances = sm.endpointConfigs.get(configName)!.variants[0]?.InitialInstanceCount ?? 1;
  const routingProblem = trafficRoutingProblem(deploymentConfig, instances);
  if (routingProblem) throw new AwsError('ValidationException', routingProblem);
  checkLimit(ctx, sm, name, configName);
  endpoint.status = 'Updating';
  endpoint.failureReason = undefined;
  if (deploymentConfig !== undefined) endpoint.deploymentConfig = deploymentConfig;
  endpoint.lastModified = new Date();
  const steps = trafficSteps(endpoint.deploymentConfig, instances);
  const pending: PendingDeployment = { configName, startTime: new Date(), step: 0, percent: 0, invocationsFrom: sm.invocations.length, variantStatus: { Status: 'Creating', StartTime: new Date() } };
  endpoint.pending = pending;
  const rollBack = async (reason: string, next?: ServedConfig) => {
    // Traffic goes back to the old fleet at once; the new one is terminated.
    endpoint.status = 'RollingBack';
    endpoint.failureReason = reason;
    pending.percent = 0;
    await sleep(sm.transitionMs);
    endpoint.pending = undefined;
    await next?.close();
    endpoint.status = 'InService';
  };
  endpoint.operation = (async () => {
    let next: ServedConfig;
    try {
      next = await startContainer(ctx, sm, endpoint, configName);
    } catch (e) {
      await rollBack((e as Error).message);
      endpoint.lastModified = new Date();
      return;
    }
    const fired = steps ? await runTrafficSteps(sm, endpoint, pending, next, steps) : [];
    if (fired.length) {
      sm.log(endpoint.name, `rollback alarm(s) in ALARM at traffic step ${pending.step}: ${fired.join(', ')}`);
      await rollBack(alarmFailureReason(fired), next);
    } else {
      const previous = endpoint.serving;
      endpoint.serving = next;
      endpoint.configName = configName;
      endpoint.pending = undefined;
      endpoint.status = 'InService';
      await previous?.close();
    }
    endpoint.lastModified = new Date();
  })();
  return endpoint;
}

/** DeleteEndpoint: `Deleting`, then gone. */
export function deleteEndpoint(ctx: FakeContext, name: string): FakeSageMakerEndpoint {
  const sm = sageMakerFake(ctx.state);
  const endpoint = getEndpoint(ctx, name);
  if (endpoint.status === 'Creating' || endpoint.status === 'Updating' || endpoint.status === 'Deleting') {
    throw new AwsError('ValidationException', `Cannot delete in-progress endpoint "${endpoint.arn}".`);
  }
  endpoint.status = 'Deleting';
  endpoint.operation = (async () => {
    await sleep(sm.transitionMs);
    sm.endpoints.delete(name);
    await endpoint.serving?.close();
  })();
  return endpoint;
}

export function getEndpoint(ctx: FakeContext, name: string): FakeSageMakerEndpoint {
  const endpoint = sageMakerFake(ctx.state).endpoints.get(name);
  if (!endpoint) throw new AwsError('ValidationException', `Could not find endpoint "${name}".`);
  return endpoint;
}

/** DescribeEndpoint's answer. */
export function describeEndpoint(ctx: FakeContext, endpoint: FakeSageMakerEndpoint): Record<string, unknown> {
  const sm = sageMakerFake(ctx.state);
  const config = sm.endpointConfigs.get(endpoint.configName);
  const model = config ? sm.models.get(config.variants[0]!.ModelName) : undefined;
  const serving = endpoint.status === 'InService' || endpoint.status === 'Updating' || endpoint.status === 'RollingBack';
  return {
    EndpointName: endpoint.name,
    EndpointArn: endpoint.arn,
    EndpointConfigName: endpoint.configName,
    EndpointStatus: endpoint.status,
    FailureReason: endpoint.failureReason,
    CreationTime: endpoint.created.getTime() / 1000,
    LastModifiedTime: endpoint.lastModified.getTime() / 1000,
    ProductionVariants: serving && config ? config.variants.map((v) => ({
      VariantName: v.VariantName,
      DeployedImages: model ? [{ SpecifiedImage: model.image, ResolvedImage: model.image, ResolutionTime: endpoint.lastModified.getTime() / 1000 }] : [],
      CurrentWeight: 1,
      DesiredWeight: 1,
      CurrentInstanceCount: v.InitialInstanceCount,
      DesiredInstanceCount: v.InitialInstanceCount,
    })) : undefined,
    DeploymentConfig: endpoint.deploymentConfig,
    LastDeploymentConfig: endpoint.deploymentConfig,
    PendingDeploymentSummary: endpoint.pending ? pendingSummary(sm, endpoint.pending) : undefined,
  };
}

/** DescribeEndpoint's PendingDeploymentSummary of a blue/green update in progress. */
function pendingSummary(sm: SageMakerFake, pending: PendingDeployment): Record<string, unknown> {
  const config = sm.endpointConfigs.get(pending.configName);
  const seconds = (d: Date) => d.getTime() / 1000;
  return {
    EndpointConfigName: pending.configName,
    StartTime: seconds(pending.startTime),
    ProductionVariants: (config?.variants ?? []).map((v) => ({
      VariantName: v.VariantName,
      CurrentWeight: 1,
      DesiredWeight: 1,
      CurrentInstanceCount: pending.served ? v.InitialInstanceCount : 0,
      DesiredInstanceCount: v.InitialInstanceCount,
      VariantStatus: [{ ...pending.variantStatus, StartTime: seconds(pending.variantStatus.StartTime) }],
    })),
  };
}
