// The container entry point: reads the environment and starts the HTTP server.
import { exampleShapesFromEnv } from './api-docs/api-routes.js';
import { createServingCoreFromEnv } from './create-serving-core-from-env.js';
import { startServer } from './server/create-server.js';

/**
 * The container entry point, bundled to `serve.mjs`. Reads the Lambda adapter's variables
 * (DM_MODEL_PATH, DM_SIGNATURE_PATH, DM_MODEL_NAME, DM_EXECUTION_PROVIDERS, DM_INTRA_OP_THREADS)
 * and the platform's:
 *
 * - port: `AIP_HTTP_PORT` (Vertex AI), else `PORT`, else 8080 (SageMaker's);
 * - host: `HOST`, default 0.0.0.0;
 * - `AIP_HEALTH_ROUTE` and `AIP_PREDICT_ROUTE` (Vertex AI);
 * - `DM_MAX_BODY_BYTES` (default 64 MiB), `DM_REQUEST_TIMEOUT_MS` (default 60000);
 * - the worker pool: `DM_WORKERS` (default one per CPU; 0 runs the model on this thread),
 *   `DM_MAX_BATCH_SIZE`, `DM_MAX_QUEUE_DELAY_MS`, `DM_PREFERRED_BATCH_SIZES`, `DM_MAX_QUEUE`
 *   (see runtime-config.ts).
 *
 * SIGTERM or SIGINT: stop accepting, let in-flight requests finish (up to
 * `DM_SHUTDOWN_TIMEOUT_MS`, default 30000), exit 0.
 */
const log = (line: string) => console.error(line);
const env = process.env;

function intEnv(name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} is "${raw}"; it must be a non-negative integer`);
  return Number(raw);
}

async function main(): Promise<void> {
  const port = intEnv('AIP_HTTP_PORT', intEnv('PORT', 8080));
  const core = await createServingCoreFromEnv(env, log);
  const exampleShapes = exampleShapesFromEnv(env);
  const server = await startServer({
    core,
    port,
    host: env.HOST?.trim() || '0.0.0.0',
    maxBodyBytes: intEnv('DM_MAX_BODY_BYTES', 64 * 1024 * 1024),
    requestTimeoutMs: intEnv('DM_REQUEST_TIMEOUT_MS', 60_000),
    ...(env.AIP_HEALTH_ROUTE ? { healthRoute: env.AIP_HEALTH_ROUTE } : {}),
    ...(env.AIP_PREDICT_ROUTE ? { predictRoute: env.AIP_PREDICT_ROUTE } : {}),
    ...(exampleShapes ? { exampleShapes } : {}),
    log,
  });
  const pool = 'workers' in core
    ? `${core.workers} worker${core.workers > 1 ? 's' : ''} × ${core.intraOpThreads} thread${core.intraOpThreads > 1 ? 's' : ''}, batching ${core.batching ? `up to ${core.batching.maxBatchSize} within ${core.batching.maxQueueDelayMs} ms` : 'off'}`
    : 'in-process';
  log(`deploy-model: serving model "${core.modelName}" on ${server.url} (execution providers: ${core.executionProviders.join(', ')}; ${pool})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`deploy-model: ${signal} received; finishing in-flight requests`);
    void server.close({ timeoutMs: intEnv('DM_SHUTDOWN_TIMEOUT_MS', 30_000) })
      .then(() => core.close())
      .then(() => { log('deploy-model: stopped'); process.exit(0); }, (e: unknown) => { log(`deploy-model: shutdown failed: ${String(e)}`); process.exit(1); });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  log(`deploy-model: the inference server could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
