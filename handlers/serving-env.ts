/**
 * The environment variables that set the server's worker pool and batching, written from the
 * config by the targets that run the server (the container's image env). Kept apart from
 * `runtime-config.ts` so build-time code can import it without loading onnxruntime.
 */
export interface ServingEnvInput {
  /** `model.batching` of the config. */
  batching?: { maxBatchSize: number; maxQueueDelayMs: number; preferredBatchSizes?: readonly number[] };
  /** `runtime.intraOpThreads` of the config. */
  intraOpThreads?: number;
}

export function servingEnv(input: ServingEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  if (input.intraOpThreads !== undefined) env.DM_INTRA_OP_THREADS = String(input.intraOpThreads);
  const b = input.batching;
  if (b) {
    env.DM_MAX_BATCH_SIZE = String(b.maxBatchSize);
    env.DM_MAX_QUEUE_DELAY_MS = String(b.maxQueueDelayMs);
    if (b.preferredBatchSizes?.length) env.DM_PREFERRED_BATCH_SIZES = b.preferredBatchSizes.join(',');
  }
  return env;
}
