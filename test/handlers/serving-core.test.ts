import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServingCoreFromEnv } from '../../handlers/create-serving-core-from-env.js';
import type { WorkerPool } from '../../handlers/pool/types.js';
import { MODELS, signatureOf, validInput } from './_models.js';

describe('createServingCoreFromEnv', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deploy-model-serving-'));
    await writeFile(join(dir, 'signature.json'), JSON.stringify(await signatureOf('cls')));
    env = { DM_MODEL_PATH: resolve(MODELS.cls.path), DM_SIGNATURE_PATH: join(dir, 'signature.json'), DM_MODEL_NAME: 'cls' };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds a worker pool with the batching the variables ask for', async () => {
    const core = await createServingCoreFromEnv({ ...env, DM_WORKERS: '1', DM_MAX_BATCH_SIZE: '4', DM_MAX_QUEUE_DELAY_MS: '1', DM_MAX_QUEUE: '8' }) as WorkerPool;
    try {
      expect(core.workers).toBe(1);
      expect(core.batching).toEqual({ maxBatchSize: 4, maxQueueDelayMs: 1 });
      const { tensors } = await validInput('cls');
      expect((await core.infer({ inputs: tensors })).outputs[0].shape).toEqual([1, 2]);
    } finally {
      await core.close();
    }
  });

  it('DM_WORKERS=0 runs the model in-process, where batching is refused', async () => {
    const core = await createServingCoreFromEnv({ ...env, DM_WORKERS: '0' });
    try {
      expect('workers' in core).toBe(false);
    } finally {
      await core.close();
    }
    await expect(createServingCoreFromEnv({ ...env, DM_WORKERS: '0', DM_MAX_BATCH_SIZE: '4' })).rejects.toThrow(/DM_MAX_BATCH_SIZE needs the worker pool/);
  });
});
