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
  /** `model.inputs` of the config: their shapes make the example request of `/openapi.json` and `/docs`. */
  inputs?: Readonly<Record<string, { readonly shape: readonly number[] }>>;
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
  exampleShapes: 'DM_EXAMPLE_SHAPES',
} as const;

/**
 * onnxruntime's own switch for its telemetry uploader (Linux and macOS, started with the first
 * session; it would resolve and post to mobile.events.data.microsoft.com). onnxruntime-node 1.30
 * has no session option for it, only this variable, read from the process environment.
 */
export const ORT_TELEMETRY_OFF = { ORT_DISABLE_TELEMETRY: '1' } as const;

/**
 * Turns onnxruntime's telemetry off for this process unless the environment already decided.
 * Call it on the main thread before the first session: a worker thread's `process.env` is a copy
 * that onnxruntime does not read.
 */
export function disableOrtTelemetry(env: Record<string, string | undefined> = process.env): void {
  env.ORT_DISABLE_TELEMETRY ??= ORT_TELEMETRY_OFF.ORT_DISABLE_TELEMETRY;
}

export function servingEnv(input: ServingEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    ...ORT_TELEMETRY_OFF,
    [SERVING_ENV.modelName]: input.modelName,
    [SERVING_ENV.executionProviders]: input.runtime.executionProviders.join(','),
  };
  if (input.runtime.intraOpThreads !== undefined) env[SERVING_ENV.intraOpThreads] = String(input.runtime.intraOpThreads);
  const shapes = Object.entries(input.inputs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (shapes.length) env[SERVING_ENV.exampleShapes] = JSON.stringify(Object.fromEntries(shapes.map(([k, v]) => [k, v.shape])));
  const b = input.batching;
  if (b && input.entry === 'server') {
    env[SERVING_ENV.maxBatchSize] = String(b.maxBatchSize);
    env[SERVING_ENV.maxQueueDelayMs] = String(b.maxQueueDelayMs);
    if (b.preferredBatchSizes?.length) env[SERVING_ENV.preferredBatchSizes] = b.preferredBatchSizes.join(',');
  }
  return env;
}
