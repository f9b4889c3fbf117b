// Reads the serving environment (DM_* variables) both entry points start from.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ModelSignature } from '../src/model/types.js';
import type { InferenceCore } from './core/types.js';
import type { BatchingOptions } from './pool/batching.js';
import { SERVING_ENV } from './serving-env.js';

/**
 * The environment both entry points (the Lambda handler and the container server) read:
 *
 * - `DM_MODEL_PATH`: the model; default `model/model.onnx` under `LAMBDA_TASK_ROOT` or the cwd.
 * - `DM_SIGNATURE_PATH`: the ModelSignature JSON the build step writes; default `signature.json`
 *   beside the model.
 * - `DM_MODEL_NAME`: the name in v2 routes and responses; default `model`.
 * - `DM_EXECUTION_PROVIDERS`: comma list, e.g. `cuda,cpu`; default `cpu`.
 * - `DM_INTRA_OP_THREADS`: onnxruntime intra-op threads; default onnxruntime's choice (Lambda),
 *   the CPUs divided by the workers (server).
 *
 * and the server's worker pool (the Lambda handler runs one request at a time and ignores them):
 *
 * - `DM_WORKERS`: worker threads, each with its own session; `0` runs the model on the server's
 *   thread; default one per CPU (a cgroup CPU limit counts).
 * - `DM_MAX_BATCH_SIZE`: above 1, concurrent requests are merged into batches of up to this many
 *   rows; default off.
 * - `DM_MAX_QUEUE_DELAY_MS`: how long a request waits for others to join its batch; default 2.
 * - `DM_PREFERRED_BATCH_SIZES`: comma list of batch sizes dispatched as soon as reached.
 * - `DM_MAX_QUEUE`: requests waiting for a worker before new ones get 503; default 256.
 */
export interface RuntimeConfig {
  modelPath: string;
  signaturePath: string;
  modelName: string;
  executionProviders: string[];
  intraOpThreads?: number;
  /** Unset: one per CPU. */
  workers?: number;
  /** Unset: no batching. */
  batching?: BatchingOptions;
  maxQueue?: number;
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, min: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`${name} is "${raw}"; it must be a whole number, ${min} or more (or unset for the default)`);
  return Number(raw);
}

function batchingFromEnv(env: Env): BatchingOptions | undefined {
  const maxBatchSize = intVar(env, SERVING_ENV.maxBatchSize, 1);
  if (maxBatchSize === undefined || maxBatchSize <= 1) return undefined;
  const delay = env[SERVING_ENV.maxQueueDelayMs]?.trim();
  if (delay && !(/^\d+(\.\d+)?$/.test(delay))) throw new Error(`DM_MAX_QUEUE_DELAY_MS is "${delay}"; it must be a number of milliseconds, 0 or more`);
  const preferred = (env[SERVING_ENV.preferredBatchSizes] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of preferred) {
    if (!/^[1-9]\d*$/.test(p) || Number(p) > maxBatchSize) {
      throw new Error(`DM_PREFERRED_BATCH_SIZES contains "${p}"; each size must be a whole number from 1 to DM_MAX_BATCH_SIZE (${maxBatchSize})`);
    }
  }
  return {
    maxBatchSize,
    maxQueueDelayMs: delay ? Number(delay) : 2,
    ...(preferred.length ? { preferredBatchSizes: preferred.map(Number) } : {}),
  };
}

export function readRuntimeConfig(env: Env = process.env, cwd: string = process.cwd()): RuntimeConfig {
  const modelPath = resolve(env.DM_MODEL_PATH || join(env.LAMBDA_TASK_ROOT || cwd, 'model', 'model.onnx'));
  const signaturePath = resolve(env.DM_SIGNATURE_PATH || join(dirname(modelPath), 'signature.json'));
  const providers = (env[SERVING_ENV.executionProviders] ?? '').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  const threads = env[SERVING_ENV.intraOpThreads]?.trim();
  if (threads && !/^[1-9]\d*$/.test(threads)) {
    throw new Error(`DM_INTRA_OP_THREADS is "${threads}"; it must be a positive integer (or unset for onnxruntime's choice)`);
  }
  const workers = intVar(env, 'DM_WORKERS', 0);
  const batching = batchingFromEnv(env);
  const maxQueue = intVar(env, 'DM_MAX_QUEUE', 1);
  return {
    modelPath,
    signaturePath,
    modelName: env[SERVING_ENV.modelName]?.trim() || 'model',
    executionProviders: providers.length ? providers : ['cpu'],
    ...(threads ? { intraOpThreads: Number(threads) } : {}),
    ...(workers === undefined ? {} : { workers }),
    ...(batching ? { batching } : {}),
    ...(maxQueue === undefined ? {} : { maxQueue }),
  };
}

function isTensorSpecList(v: unknown): boolean {
  return Array.isArray(v) && v.every((t) => typeof t === 'object' && t !== null
    && typeof (t as { name?: unknown }).name === 'string'
    && typeof (t as { dtype?: unknown }).dtype === 'string'
    && ((t as { shape?: unknown }).shape === null || Array.isArray((t as { shape?: unknown }).shape)));
}

/** Reads the signature JSON, checking the fields the runtime relies on. */
export async function loadSignature(path: string): Promise<ModelSignature> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the model signature ${path} (${(e as Error).message}); the build step writes it beside the model, or set DM_SIGNATURE_PATH`, { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`the model signature ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  const sig = parsed as Partial<ModelSignature> | null;
  if (!sig || typeof sig !== 'object' || !isTensorSpecList(sig.inputs) || !isTensorSpecList(sig.outputs)) {
    throw new Error(`the model signature ${path} is not a ModelSignature: it needs "inputs" and "outputs" arrays of { name, dtype, shape }`);
  }
  return sig as ModelSignature;
}

/**
 * Creates the in-process core from the environment (the Lambda handler's: one request at a time);
 * errors name the variable or file to fix.
 */
export async function createCoreFromEnv(env: Env = process.env, log?: (line: string) => void): Promise<InferenceCore> {
  const { modelPath, signaturePath, modelName, executionProviders, intraOpThreads } = readRuntimeConfig(env);
  // Loaded here, not at the top: the server's main thread never needs onnxruntime when a pool runs the model.
  const [{ createInferenceCore }, signature] = await Promise.all([import('./core/create-inference-core.js'), loadSignature(signaturePath)]);
  return createInferenceCore({ modelPath, signature, modelName, executionProviders, ...(intraOpThreads ? { intraOpThreads } : {}), ...(log ? { log } : {}) });
}
