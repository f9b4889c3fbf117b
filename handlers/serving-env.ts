/**
 * The one place the serving environment (`DM_*`) is derived from the config: every target that
 * runs the project's runtime (the Lambda function on aws-lambda and local, the container's server)
 * gets its variables from here, and `runtime-config.ts` reads the same names back. Kept apart
 * from `runtime-config.ts` so build-time code can import it without loading onnxruntime.
 */
export interface ServingEnvInput {
  /** The config's `name`: the model name in v2 routes and responses. */
  modelName: string;
  /** `runtime` of the config. */
  runtime: {
    executionProviders: readonly string[];
    intraOpThreads?: number;
  };
  /** `model.batching` of the config; only the server's worker pool batches. */
  batching?: { maxBatchSize: number; maxQueueDelayMs: number; preferredBatchSizes?: readonly number[] };
  /**
   * Which entry point reads it: the Lambda handler runs one request at a time and has no pool,
   * so batching is written for the server only.
   */
  entry: 'lambda' | 'server';
}

/** The names, so readers and writers cannot drift apart. */
export const SERVING_ENV = {
  modelName: 'DM_MODEL_NAME',
  executionProviders: 'DM_EXECUTION_PROVIDERS',
  intraOpThreads: 'DM_INTRA_OP_THREADS',
  maxBatchSize: 'DM_MAX_BATCH_SIZE',
  maxQueueDelayMs: 'DM_MAX_QUEUE_DELAY_MS',
  preferredBatchSizes: 'DM_PREFERRED_BATCH_SIZES',
} as const;

export function servingEnv(input: ServingEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    [SERVING_ENV.modelName]: input.modelName,
    [SERVING_ENV.executionProviders]: input.runtime.executionProviders.join(','),
  };
  if (input.runtime.intraOpThreads !== undefined) env[SERVING_ENV.intraOpThreads] = String(input.runtime.intraOpThreads);
  const b = input.batching;
  if (b && input.entry === 'server') {
    env[SERVING_ENV.maxBatchSize] = String(b.maxBatchSize);
    env[SERVING_ENV.maxQueueDelayMs] = String(b.maxQueueDelayMs);
    if (b.preferredBatchSizes?.length) env[SERVING_ENV.preferredBatchSizes] = b.preferredBatchSizes.join(',');
  }
  return env;
}
