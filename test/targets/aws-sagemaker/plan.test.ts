import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { planTritonConfig } from '../../../src/kits/triton/index.js';
import { awsSageMakerTarget, type AwsSageMakerPlan, type AwsSageMakerTargetConfig } from '../../../src/targets/aws-sagemaker/index.js';
import type { PlanInput } from '../../../src/targets/target-module.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';

// GIVEN the tiny `add` model (x float32 [batch, 4]) and configs with an aws-sagemaker target

let dir: string;
let signature: ModelSignature;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-sagemaker-plan-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  signature = await inspectModel(path.join(dir, 'model.onnx'));
});
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

function input(target: Record<string, unknown> = {}, model: Record<string, unknown> = {}): PlanInput<AwsSageMakerTargetConfig> {
  const config: Config = configSchema.parse({
    name: 'adder', model: { path: './model.onnx', ...model }, runtime: { intraOpThreads: 2 },
    targets: { sagemaker: { type: 'aws-sagemaker', region: 'us-east-1', instanceType: 'ml.g5.xlarge', ...target } },
  });
  return { config, stage: 'prod', targetName: 'sagemaker', target: config.targets.sagemaker as AwsSageMakerTargetConfig, signature, rootDir: dir };
}

const plan = (i: PlanInput<AwsSageMakerTargetConfig>): AwsSageMakerPlan => awsSageMakerTarget.plan(i) as AwsSageMakerPlan;

describe('the aws-sagemaker plan', () => {
  it('resolves the stack, the endpoint, the Triton config and the rollout', () => {
    // WHEN
    const p = plan(input({ autoscaling: { max: 3 } }));
    // THEN
    const { tritonConfig, ...rest } = p;
    expect(rest).toEqual({
      type: 'aws-sagemaker',
      targetName: 'sagemaker',
      stage: 'prod',
      resourceName: 'adder-prod-sagemaker',
      model: { file: signature.file, sha256: signature.sha256, bytes: signature.bytes },
      rollout: {
        strategy: 'all-at-once',
        steps: [
          { phase: 'stage', action: 'deploy stack adder-prod-sagemaker: a new Model and EndpointConfig, and SageMaker moves endpoint adder-prod-sagemaker to them blue/green (it rolls back by itself when the new instances fail their health check or the 5XX alarm fires within 300 s)' },
          { phase: 'smoke', action: 'call endpoint adder-prod-sagemaker with InvokeEndpoint' },
          { phase: 'promote', action: "keep the endpoint config (and model) that served before for `deploy-model rollback`, recorded in the endpoint's tag deploy-model:previous-endpoint-config; delete the older ones" },
          { phase: 'rollback', action: 'put the endpoint back on the endpoint config that served before (kept by UpdateReplacePolicy: Retain); on a first deploy there is none, and the new one keeps serving' },
        ],
      },
      stackName: 'adder-prod-sagemaker',
      endpointName: 'adder-prod-sagemaker',
      region: 'us-east-1',
      description: 'deploy-model adder: target sagemaker (aws-sagemaker), stage prod',
      tags: { 'deploy-model:name': 'adder', 'deploy-model:stage': 'prod', 'deploy-model:target': 'sagemaker' },
      tritonModel: 'adder',
      logGroupName: '/aws/sagemaker/Endpoints/adder-prod-sagemaker',
      image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:25.09-py3',
      tritonVersion: '25.09',
      inferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-3-1',
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      autoscaling: { min: 1, max: 3, targetInvocationsPerInstance: 1000 },
      startupHealthCheckTimeoutSeconds: 1200,
      modelDownloadTimeoutSeconds: 900,
      bakeSeconds: 300,
      logRetentionDays: 30,
      executionPolicy: {
        imageRepository: { account: '763104351884', region: 'us-east-1', repository: 'sagemaker-tritonserver' },
        logGroupName: '/aws/sagemaker/Endpoints/adder-prod-sagemaker',
        vpcNetworkInterfaces: false,
      },
      engine: 'tensorrt',
      engineCache: { path: '/opt/ml/model/adder/trt_engine_cache', repositoryDir: 'trt_engine_cache' },
    });
    // The Triton config is the planner's, with runtime.intraOpThreads for the onnxruntime backend.
    expect(tritonConfig).toEqual(planTritonConfig({ signature, modelName: 'adder', host: 'aws-sagemaker', options: input().target, runtime: { intraOpThreads: 2 } }));
    expect(tritonConfig.parameters).toEqual({ intra_op_thread_count: { string_value: '2' } });
  });

  it('is deterministic plain data: the same input plans equal, and it survives JSON', () => {
    const target = { engine: 'onnxruntime', image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/triton:24.09', instanceType: 'ml.p3.2xlarge', tritonVersion: '24.09', volumeSizeGb: 100, vpc: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] } };
    const first = plan(input(target, { batching: { maxBatchSize: 4 } }));
    expect(plan(input(target, { batching: { maxBatchSize: 4 } }))).toEqual(first);
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    expect(first).toMatchObject({
      engine: 'onnxruntime', image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/triton:24.09', startupHealthCheckTimeoutSeconds: 600, volumeSizeGb: 100,
      executionPolicy: { imageRepository: { account: '111122223333', region: 'us-east-1', repository: 'triton' }, vpcNetworkInterfaces: true },
      tritonConfig: { max_batch_size: 4, dynamic_batching: expect.any(Object) },
    });
    expect(first).not.toHaveProperty('engineCache');
  });

  it('resolves the INT8 calibration table against the config folder', () => {
    const p = plan(input({ precision: 'int8', int8Calibration: { table: 'calib/table.cache' } }));
    expect(p.int8CalibrationTable).toBe(path.join(dir, 'calib/table.cache'));
  });
});

describe('aws-sagemaker validate', () => {
  it('turns what Triton refuses into a problem with a fix', async () => {
    expect(await awsSageMakerTarget.validate!(input())).toEqual([]);
    const problems = await awsSageMakerTarget.validate!(input({ engineCachePath: '/opt/ml/model/adder' }));
    expect(problems).toEqual([expect.objectContaining({ path: 'targets.sagemaker', value: 'tensorrt', rule: expect.stringContaining('engineCachePath /opt/ml/model/adder'), fix: expect.stringContaining('Triton options') })]);
  });
});

describe('a model kept in S3 (uncompressed model data)', () => {
  it('puts the TensorRT engine cache outside /opt/ml/model, and refuses int8 whose table would ship there', () => {
    // WHEN the model is an s3:// object
    const p = plan(input({}, { path: 's3://models/adder/model.onnx' }));
    // THEN the cache is /var/tmp/trt_engine_cache, written into config.pbtxt, and nothing of it is in the repository
    expect(p.engineCache).toEqual({ path: '/var/tmp/trt_engine_cache', repositoryDir: null });
    expect(JSON.stringify(p.tritonConfig)).toContain('/var/tmp/trt_engine_cache');
    // a local file keeps it in the model's folder, shipped in model.tar.gz
    expect(plan(input()).engineCache).toEqual({ path: '/opt/ml/model/adder/trt_engine_cache', repositoryDir: 'trt_engine_cache' });
    // an engineCachePath of the user's is kept
    expect(plan(input({ engineCachePath: '/opt/ml/model/adder/engines' }, { path: 's3://models/adder/model.onnx' })).engineCache?.path).toBe('/opt/ml/model/adder/engines');
    expect(() => plan(input({ precision: 'int8', int8Calibration: { table: './cal.flatbuffers' } }, { path: 's3://models/adder/model.onnx' })))
      .toThrow(expect.objectContaining({ code: 'SAGEMAKER_S3_MODEL_INT8', message: expect.stringContaining("Deploy the model from a local file (model.path), or use precision 'fp16'") }));
  });
});
