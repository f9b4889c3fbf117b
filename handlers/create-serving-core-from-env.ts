// Picks the server's backend from the environment: a worker pool or the in-process core.
import type { InferenceCore } from './core/types.js';
import { createWorkerPool } from './pool/create-worker-pool.js';
import type { WorkerPool } from './pool/types.js';
import { createCoreFromEnv, loadSignature, readRuntimeConfig } from './runtime-config.js';

type Env = Record<string, string | undefined>;

/**
 * The server's backend from the environment: a worker pool (`DM_WORKERS`, batching), or the
 * in-process core when `DM_WORKERS=0`.
 */
export async function createServingCoreFromEnv(env: Env = process.env, log?: (line: string) => void): Promise<InferenceCore | WorkerPool> {
  const config = readRuntimeConfig(env);
  if (config.workers === 0) {
    if (config.batching) throw new Error('DM_MAX_BATCH_SIZE needs the worker pool; it cannot be used with DM_WORKERS=0');
    return createCoreFromEnv(env, log);
  }
  const { signaturePath, workers, ...rest } = config;
  const signature = await loadSignature(signaturePath);
  return createWorkerPool({ ...rest, ...(workers === undefined ? {} : { workers }), signature, ...(log ? { log } : {}) });
}
