import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { DeployModelError } from '../../../src/errors.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { awsLambdaTarget, type AwsLambdaPlan, type AwsLambdaTargetConfig } from '../../../src/targets/aws-lambda/index.js';
import type { PlanInput } from '../../../src/targets/target-module.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';

// GIVEN the tiny `add` model and configs with an aws-lambda target

let dir: string;
let signature: ModelSignature;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-plan-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  signature = await inspectModel(path.join(dir, 'model.onnx'));
});
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

function input(target: Record<string, unknown> = {}, options: { name?: string; stage?: string; targetName?: string; runtime?: Record<string, unknown> } = {}): PlanInput<AwsLambdaTargetConfig> {
  const targetName = options.targetName ?? 'lambda';
  const config: Config = configSchema.parse({
    name: options.name ?? 'adder', model: { path: './model.onnx' }, ...(options.runtime ? { runtime: options.runtime } : {}),
    targets: { [targetName]: { type: 'aws-lambda', region: 'eu-west-1', ...target } },
  });
  return { config, stage: options.stage ?? 'prod', targetName, target: config.targets[targetName] as AwsLambdaTargetConfig, signature, rootDir: dir };
}

const plan = (i: PlanInput<AwsLambdaTargetConfig>): AwsLambdaPlan => awsLambdaTarget.plan(i) as AwsLambdaPlan;

describe('the aws-lambda plan', () => {
  it('resolves every value the stack, the build and the rollout use', () => {
    // WHEN
    const p = plan(input());
    // THEN
    expect(p).toEqual({
      type: 'aws-lambda',
      targetName: 'lambda',
      stage: 'prod',
      resourceName: 'adder-prod-lambda',
      model: { file: signature.file, sha256: signature.sha256, bytes: signature.bytes },
      rollout: {
        strategy: 'all-at-once',
        steps: [
          { phase: 'stage', action: 'deploy stack adder-prod-lambda: CloudFormation publishes the new version beside the one the live alias serves, and the alias stays' },
          { phase: 'smoke', action: 'invoke the new version by its number with Lambda Invoke' },
          { phase: 'promote', action: 'deploy stack adder-prod-lambda again with the live alias, and the Function URL on it, on the new version' },
          { phase: 'rollback', action: 'nothing to move: the live alias stays on the version it serves (on a first deploy it already serves the new one)' },
        ],
      },
      stackName: 'adder-prod-lambda',
      region: 'eu-west-1',
      description: 'deploy-model adder: target lambda (aws-lambda), stage prod',
      tags: { 'deploy-model:name': 'adder', 'deploy-model:stage': 'prod', 'deploy-model:target': 'lambda' },
      modelName: 'adder',
      architecture: 'x86_64',
      package: 'zip',
      packageReason: "zip: model 0.0 MB + handler + onnxruntime layer (x86_64) = 50.0 MB unzipped fit Lambda's 250 MB limit for a function and its layers",
      runtime: 'nodejs22.x',
      memoryMb: 1024,
      timeoutSeconds: 30,
      ephemeralStorageMb: 512,
      provisionedConcurrency: 0,
      logRetentionDays: 30,
      urlAuth: 'iam',
      weights: 'bundled',
      aliasName: 'live',
      environment: { ORT_DISABLE_TELEMETRY: '1', DM_MODEL_NAME: 'adder', DM_EXECUTION_PROVIDERS: 'cpu' },
    });
  });

  it('is deterministic plain data: the same input plans equal, and it survives JSON', () => {
    const first = plan(input({ memoryMb: 2048, reservedConcurrency: 4, provisionedConcurrency: 1, architecture: 'arm64', url: { auth: 'none' } }));
    const second = plan(input({ memoryMb: 2048, reservedConcurrency: 4, provisionedConcurrency: 1, architecture: 'arm64', url: { auth: 'none' } }));
    expect(second).toEqual(first);
    expect(JSON.parse(JSON.stringify(first))).toEqual(first);
    expect(first).toMatchObject({ memoryMb: 2048, reservedConcurrency: 4, provisionedConcurrency: 1, architecture: 'arm64', urlAuth: 'none' });
  });

  it('derives the memory from the model size unless the target sets it, and the environment from runtime.*', () => {
    // GIVEN a 300 MB model (by its signature) and runtime settings
    const big = { ...input({}, { runtime: { intraOpThreads: 2 } }), signature: { ...signature, bytes: 300 * 1024 * 1024 } };
    // THEN max(1024, 4 x 300 + 512) = 1712, rounded up to 64 = 1728
    expect(plan(big)).toMatchObject({ memoryMb: 1728, model: { bytes: 300 * 1024 * 1024 }, environment: { DM_MODEL_NAME: 'adder', DM_INTRA_OP_THREADS: '2' } });
    expect(plan({ ...big, target: { ...big.target, memoryMb: 3008 } }).memoryMb).toBe(3008);
  });

  it('refuses a stack name CloudFormation would refuse, naming where it came from', () => {
    const e = (() => { try { plan(input({}, { stage: 'qa_1' })); } catch (err) { return err; } })();
    expect(e).toBeInstanceOf(DeployModelError);
    expect(e).toMatchObject({ code: 'STACK_NAME_INVALID', details: { stackName: 'adder-qa_1-lambda', stage: 'qa_1' } });
  });
});

describe('aws-lambda validate', () => {
  it('passes a small model and refuses a zip that cannot fit 250 MB unzipped with the layer, pointing at the image and the container target', async () => {
    expect(await awsLambdaTarget.validate!(input())).toEqual([]);
    const problems = await awsLambdaTarget.validate!({ ...input({ package: 'zip' }), signature: { ...signature, bytes: 260 * 1024 * 1024 } });
    expect(problems).toEqual([expect.objectContaining({ path: 'targets.lambda', rule: expect.stringContaining('250 MB unzipped'), fix: expect.stringMatching(/package: 'image'.*type: 'container'/) })]);
    // Left to choose, the same model ships as an image, which validate leaves to the build's 10 GB check.
    expect(await awsLambdaTarget.validate!({ ...input(), signature: { ...signature, bytes: 260 * 1024 * 1024 } })).toEqual([]);
  });
});
