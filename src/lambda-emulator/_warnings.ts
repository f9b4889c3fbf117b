/**
 * The emulator's warnings, declared once with their codes: each says what would go differently
 * on Lambda, or how the run differs from it, and what to do.
 */
import { LAMBDA_NODE_RUNTIME } from './_lambda-environment.js';
import { INIT_LIMIT_MS } from './_error-documents.js';
import { LAMBDA_NODE_MAJOR, type RuntimeNode } from './lambda-node.js';
import type { MemoryEnforcement } from './_memory-limit.js';
import type { LocalFunctionWarning } from './types.js';

const seconds = (ms: number) => (ms / 1000).toFixed(1);

export const WARNINGS = {
  nodeFallback: (fn: string, node: RuntimeNode): LocalFunctionWarning => ({
    code: 'DM_LOCAL_NODE_FALLBACK',
    message: `The local function ${fn} runs on Node ${node.version}, not on the Node ${LAMBDA_NODE_MAJOR} of ${LAMBDA_NODE_RUNTIME}: ${node.fallback}.`,
    data: { node: node.version, binary: node.binary },
  }),

  runtimeApiRefused: (fn: string, clientPort: number, refused: number): LocalFunctionWarning => ({
    code: 'DM_LOCAL_RUNTIME_API_REFUSED',
    message: `Another process on this machine (client port ${clientPort}) tried the Runtime API of ${fn} and was turned away (${refused} so far): only the function's own runtime may take or answer its invocations.`,
    data: { clientPort, refused },
  }),

  slowInit: (fn: string, initMs: number, timeoutSeconds: number): LocalFunctionWarning => ({
    code: 'DM_LOCAL_SLOW_INIT',
    message: `Init of ${fn} took ${seconds(initMs)} s, over Lambda's 10 s init limit: Lambda stops it at 10 s and runs it again inside the first request, which then waits ${seconds(initMs)} s before the handler starts, within its ${timeoutSeconds} s timeout. That is the cold start users will see; make init faster (a smaller model, more memory) to stay under 10 s.`,
    data: { initMs: Math.round(initMs), limitMs: INIT_LIMIT_MS, timeoutSeconds },
  }),

  slowInitFailed: (fn: string, initMs: number, errorType: string): LocalFunctionWarning => ({
    code: 'DM_LOCAL_SLOW_INIT',
    message: `Init of ${fn} did not finish within Lambda's 10 s init limit, and failed again inside the first request (${errorType}) after ${seconds(initMs)} s. On Lambda every cold start fails the same way; make init faster or raise the timeout.`,
    data: { initMs: Math.round(initMs), limitMs: INIT_LIMIT_MS, errorType },
  }),

  outOfMemory: (fn: string, when: string, usedMb: number | undefined, memoryMb: number, enforcement: MemoryEnforcement): LocalFunctionWarning => ({
    code: 'DM_LOCAL_OUT_OF_MEMORY',
    message: `${fn} used ${usedMb ?? 'more than'} MB during ${when}, over its memorySize of ${memoryMb} MB: Lambda kills it (Runtime.OutOfMemory), and so did the local run. Raise memoryMb, or use a smaller model or batch.`,
    data: { maxMemoryUsedMb: usedMb, memoryMb, enforcement },
  }),

  ephemeralStorage: (fn: string, usedMb: number, ephemeralStorageMb: number): LocalFunctionWarning => ({
    code: 'DM_LOCAL_EPHEMERAL_STORAGE',
    message: `${fn} left ${usedMb} MB in /tmp, over its ephemeral storage of ${ephemeralStorageMb} MB: on Lambda the writes past the limit fail with ENOSPC. Raise ephemeralStorageMb or write less to /tmp.`,
    data: { usedMb, ephemeralStorageMb },
  }),

  /** Debug, not a warning: how memoryMb is held on this machine. */
  memoryEnforcement: (fn: string, memoryMb: number, enforcement: MemoryEnforcement): LocalFunctionWarning => ({
    code: 'DM_LOCAL_MEMORY_ENFORCEMENT',
    message: `${fn}: memoryMb ${memoryMb} is held by ${enforcement === 'measured' ? 'sampling the runtime\'s peak resident memory (no cgroup can be made here)' : `a ${enforcement} memory limit and the runtime's sampled peak resident memory`}`,
    data: { enforcement },
  }),
};
