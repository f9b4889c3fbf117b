import { describe, expect, it } from 'vitest';
import { readRuntimeConfig } from '../../handlers/runtime-config.js';
import { servingEnv } from '../../handlers/serving-env.js';
import { imageEnv } from '../../src/targets/container/dockerfile.js';

describe('the worker pool variables', () => {
  const base = { DM_MODEL_PATH: '/m/model.onnx' };

  it('are unset by default: one worker per CPU, no batching, the default queue', () => {
    const config = readRuntimeConfig(base);
    expect(config).not.toHaveProperty('workers');
    expect(config).not.toHaveProperty('batching');
    expect(config).not.toHaveProperty('maxQueue');
  });

  it('read DM_WORKERS, DM_MAX_BATCH_SIZE, DM_MAX_QUEUE_DELAY_MS, DM_PREFERRED_BATCH_SIZES and DM_MAX_QUEUE', () => {
    expect(readRuntimeConfig({ ...base, DM_WORKERS: '3', DM_MAX_BATCH_SIZE: '16', DM_MAX_QUEUE_DELAY_MS: '0.5', DM_PREFERRED_BATCH_SIZES: '4, 8', DM_MAX_QUEUE: '32' }))
      .toMatchObject({ workers: 3, batching: { maxBatchSize: 16, maxQueueDelayMs: 0.5, preferredBatchSizes: [4, 8] }, maxQueue: 32 });
    expect(readRuntimeConfig({ ...base, DM_WORKERS: '0' }).workers).toBe(0);
    // A batch of one is no batching; the delay defaults to 2 ms.
    expect(readRuntimeConfig({ ...base, DM_MAX_BATCH_SIZE: '1' })).not.toHaveProperty('batching');
    expect(readRuntimeConfig({ ...base, DM_MAX_BATCH_SIZE: '8' }).batching).toEqual({ maxBatchSize: 8, maxQueueDelayMs: 2 });
  });

  it('refuse values that are not numbers, naming the variable', () => {
    expect(() => readRuntimeConfig({ ...base, DM_WORKERS: 'two' })).toThrow(/DM_WORKERS is "two"/);
    expect(() => readRuntimeConfig({ ...base, DM_MAX_QUEUE: '0' })).toThrow(/DM_MAX_QUEUE is "0"/);
    expect(() => readRuntimeConfig({ ...base, DM_MAX_BATCH_SIZE: '8', DM_MAX_QUEUE_DELAY_MS: 'soon' })).toThrow(/DM_MAX_QUEUE_DELAY_MS/);
    expect(() => readRuntimeConfig({ ...base, DM_MAX_BATCH_SIZE: '8', DM_PREFERRED_BATCH_SIZES: '16' })).toThrow(/DM_PREFERRED_BATCH_SIZES contains "16"/);
  });

  const runtime = { executionProviders: ['cpu'] };

  it('servingEnv writes them from the config, and reading them back gives the same settings', () => {
    const env = servingEnv({ modelName: 'm', runtime: { executionProviders: ['cuda', 'cpu'], intraOpThreads: 2 }, batching: { maxBatchSize: 8, maxQueueDelayMs: 5, preferredBatchSizes: [4, 8] }, entry: 'server' });
    expect(env).toEqual({
      ORT_DISABLE_TELEMETRY: '1', DM_MODEL_NAME: 'm', DM_EXECUTION_PROVIDERS: 'cuda,cpu', DM_INTRA_OP_THREADS: '2',
      DM_MAX_BATCH_SIZE: '8', DM_MAX_QUEUE_DELAY_MS: '5', DM_PREFERRED_BATCH_SIZES: '4,8',
    });
    expect(readRuntimeConfig({ ...base, ...env })).toMatchObject({
      modelName: 'm', executionProviders: ['cuda', 'cpu'], intraOpThreads: 2, batching: { maxBatchSize: 8, maxQueueDelayMs: 5, preferredBatchSizes: [4, 8] },
    });
    expect(servingEnv({ modelName: 'm', runtime, entry: 'server' })).toEqual({ ORT_DISABLE_TELEMETRY: '1', DM_MODEL_NAME: 'm', DM_EXECUTION_PROVIDERS: 'cpu' });
  });

  it('the Lambda handler has no pool, so batching is not written for it', () => {
    expect(servingEnv({ modelName: 'm', runtime, batching: { maxBatchSize: 8, maxQueueDelayMs: 5 }, entry: 'lambda' })).toEqual({ ORT_DISABLE_TELEMETRY: '1', DM_MODEL_NAME: 'm', DM_EXECUTION_PROVIDERS: 'cpu' });
  });

  it('the container image carries them, and the server in it reads them back', () => {
    const env = imageEnv({ baseImage: 'b', modelName: 'm', port: 8080, contract: 'kserve-v2', serverEnv: servingEnv({ modelName: 'm', runtime, batching: { maxBatchSize: 4, maxQueueDelayMs: 1 }, entry: 'server' }) });
    expect(env).toMatchObject({ DM_MAX_BATCH_SIZE: '4', DM_MAX_QUEUE_DELAY_MS: '1', DM_MODEL_NAME: 'm' });
    expect(readRuntimeConfig(env).batching).toEqual({ maxBatchSize: 4, maxQueueDelayMs: 1 });
    expect(imageEnv({ baseImage: 'b', modelName: 'm', port: 8080, contract: 'kserve-v2' })).not.toHaveProperty('DM_MAX_BATCH_SIZE');
  });
});
