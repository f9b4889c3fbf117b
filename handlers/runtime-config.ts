import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ModelSignature } from '../src/model/types.js';
import { createInferenceCore } from './core/create-inference-core.js';
import type { InferenceCore } from './core/types.js';

/**
 * The environment both entry points (the Lambda handler and the container server) read:
 *
 * - `DM_MODEL_PATH`: the model; default `model/model.onnx` under `LAMBDA_TASK_ROOT` or the cwd.
 * - `DM_SIGNATURE_PATH`: the ModelSignature JSON the build step writes; default `signature.json`
 *   beside the model.
 * - `DM_MODEL_NAME`: the name in v2 routes and responses; default `model`.
 * - `DM_EXECUTION_PROVIDERS`: comma list, e.g. `cuda,cpu`; default `cpu`.
 * - `DM_INTRA_OP_THREADS`: onnxruntime intra-op threads; default onnxruntime's choice.
 */
export interface RuntimeConfig {
  modelPath: string;
  signaturePath: string;
  modelName: string;
  executionProviders: string[];
  intraOpThreads?: number;
}

type Env = Record<string, string | undefined>;

export function readRuntimeConfig(env: Env = process.env, cwd: string = process.cwd()): RuntimeConfig {
  const modelPath = resolve(env.DM_MODEL_PATH || join(env.LAMBDA_TASK_ROOT || cwd, 'model', 'model.onnx'));
  const signaturePath = resolve(env.DM_SIGNATURE_PATH || join(dirname(modelPath), 'signature.json'));
  const providers = (env.DM_EXECUTION_PROVIDERS ?? '').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  const threads = env.DM_INTRA_OP_THREADS?.trim();
  if (threads && !/^[1-9]\d*$/.test(threads)) {
    throw new Error(`DM_INTRA_OP_THREADS is "${threads}"; it must be a positive integer (or unset for onnxruntime's choice)`);
  }
  return {
    modelPath,
    signaturePath,
    modelName: env.DM_MODEL_NAME?.trim() || 'model',
    executionProviders: providers.length ? providers : ['cpu'],
    ...(threads ? { intraOpThreads: Number(threads) } : {}),
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

/** Creates the core from the environment; errors name the variable or file to fix. */
export async function createCoreFromEnv(env: Env = process.env, log?: (line: string) => void): Promise<InferenceCore> {
  const config = readRuntimeConfig(env);
  const signature = await loadSignature(config.signaturePath);
  return createInferenceCore({ ...config, signature, ...(log ? { log } : {}) });
}
