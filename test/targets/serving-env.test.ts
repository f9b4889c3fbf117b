import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRuntimeConfig } from '../../handlers/runtime-config.js';
import { configSchema, KNOWN_TARGET_TYPES, type Config, type TargetConfig } from '../../src/config/schema.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import type { ModelSignature } from '../../src/model/types.js';
import type { AwsLambdaTargetConfig } from '../../src/targets/aws-lambda/schema.js';
import { buildLambdaStack } from '../../infra/lambda-target-stack.js';
import { containerDriver } from '../../src/targets/container/driver.js';
import type { ContainerPlan } from '../../src/targets/container/plan.js';
import type { ContainerTargetConfig } from '../../src/targets/container/schema.js';
import type { TargetContext } from '../../src/targets/driver.js';
import { localFunctionSpec } from '../../src/targets/local/build.js';
import type { LocalPlan } from '../../src/targets/local/plan.js';
import { targetModule } from '../../src/targets/registry.js';
import { parsePbtxt } from '../../src/kits/triton/_pbtxt-parse.js';
import type { LocalTargetConfig } from '../../src/targets/local/schema.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { targetContext } from '../_helpers/target-context.js';
import { dummyZips, fastApp, MB } from '../infra/_fixtures.js';

// GIVEN a config that sets every runtime.* field to a value no default has
const RUNTIME = { executionProviders: ['cuda', 'cpu'], intraOpThreads: 3 } as const;
const EXPECTED = { executionProviders: ['cuda', 'cpu'], intraOpThreads: 3, modelName: 'ocr-cls' };

let dir: string;
let config: Config;
let signature: ModelSignature;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dm-serving-env-'));
  config = configSchema.parse({
    name: 'ocr-cls',
    model: { path: REAL_MODELS.cls, batching: { maxBatchSize: 4 } },
    runtime: RUNTIME,
    targets: {
      local: { type: 'local' },
      lambda: { type: 'aws-lambda', region: 'eu-west-1' },
      image: { type: 'container' },
      sagemaker: { type: 'aws-sagemaker', region: 'eu-west-1', instanceType: 'ml.g5.xlarge' },
      vertex: { type: 'gcp-vertex', project: 'project-1', region: 'us-central1', machineType: 'g2-standard-4', stagingBucket: 'gs://bucket', image: 'us-docker.pkg.dev/vertex-ai/prediction/tritonserver:25.06-py3' },
      azure: { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'ws1', instanceType: 'Standard_NC4as_T4_v3' },
    },
  });
  signature = await inspectModel(REAL_MODELS.cls);
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function ctx<T extends TargetConfig>(targetName: string): TargetContext<T> {
  return targetContext<T>({ config, targetName, signature, dir });
}

/** Each target type's serving environment, read from what the target ships. */
const SHIPPED: Record<string, () => Promise<Record<string, string>>> = {
  local: async () => localFunctionSpec(ctx<LocalTargetConfig>('local').plan as LocalPlan, { functionZip: 'f.zip', layerZip: 'l.zip' } as never).env,
  'aws-lambda': async () => {
    const zips = dummyZips(dir);
    const stack = buildLambdaStack(fastApp(), {
      config, targetName: 'lambda', target: config.targets.lambda as AwsLambdaTargetConfig, stage: 'dev',
      artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, modelBytes: 1 * MB },
    });
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const fn = Object.values(functions).find((f) => (f.Properties as { Handler?: string }).Handler === 'index.handler')!;
    return (fn.Properties as { Environment: { Variables: Record<string, string> } }).Environment.Variables;
  },
  container: async () => {
    const c = targetContext<ContainerTargetConfig, ContainerPlan>({ config, targetName: 'image', signature, dir });
    await containerDriver.build(c);
    const dockerfile = await readFile(join(c.workDir, 'context', 'Dockerfile'), 'utf8');
    // `ENV KEY="value" \` lines, as the Dockerfile writes them.
    return Object.fromEntries([...dockerfile.matchAll(/^\s*(?:ENV\s+)?(DM_[A-Z_]+)=("?)([^"\s\\]*)\2/gm)].map((m) => [m[1], m[3]]));
  },
};

/**
 * The GPU targets serve through Triton, whose config.pbtxt tells its onnxruntime backend how to
 * run: `runtime.intraOpThreads` arrives as `intra_op_thread_count`; `runtime.executionProviders`
 * does not apply there (the target's `engine` picks TensorRT or CUDA).
 */
const TRITON_TARGETS: Record<string, string> = { 'aws-sagemaker': 'sagemaker', 'gcp-vertex': 'vertex', 'azure-ml': 'azure' };

/**
 * The on-device targets run the model in onnxruntime-web or onnxruntime-react-native on the user's
 * device, not in the project runtime: `runtime.*` has nothing to reach there.
 */
const ON_DEVICE_TARGETS = ['web', 'react-native'];

describe('runtime.* reaches every target that runs the project runtime', () => {
  it('the tables cover every registered target type', () => {
    expect([...Object.keys(SHIPPED), ...Object.keys(TRITON_TARGETS), ...ON_DEVICE_TARGETS].sort()).toEqual([...KNOWN_TARGET_TYPES].sort());
  });

  it.each(Object.entries(TRITON_TARGETS))('%s ships runtime.intraOpThreads in config.pbtxt', async (_type, targetName) => {
    // WHEN the target builds its Triton repository
    const c = ctx(targetName);
    const { artifacts } = await (await targetModule(c.target.type).driver()).build(c);
    // THEN the config.pbtxt it ships carries the thread count for the onnxruntime backend
    const pbtxt = artifacts.find((a: { file: string }) => a.file.endsWith('config.pbtxt'))?.file
      ?? join(c.workDir, 'repository', 'ocr-cls', 'config.pbtxt');
    expect(parsePbtxt(await readFile(pbtxt, 'utf8')).parameters).toEqual({ intra_op_thread_count: { string_value: '3' } });
  }, 60_000);

  it.each(Object.entries(SHIPPED))('%s ships DM_* variables that read back as the config', async (_type, read) => {
    // WHEN the target's artifacts are produced and their environment read back by the runtime's reader
    const env = await read();
    // THEN every runtime.* field arrives
    expect(readRuntimeConfig({ ...env, DM_MODEL_PATH: '/m/model.onnx' })).toMatchObject(EXPECTED);
  }, 60_000);

  it('batching reaches the container\'s server, not the Lambda handler, which has no pool', async () => {
    const lambdaEnv = await SHIPPED['aws-lambda']!();
    const containerEnv = await SHIPPED.container!();
    expect(lambdaEnv).not.toHaveProperty('DM_MAX_BATCH_SIZE');
    expect(readRuntimeConfig({ ...containerEnv, DM_MODEL_PATH: '/m/model.onnx' }).batching).toMatchObject({ maxBatchSize: 4 });
  }, 60_000);
});
