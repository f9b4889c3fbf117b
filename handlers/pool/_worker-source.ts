/**
 * The code each pool worker runs, as source text for `new Worker(source, { eval: true })`.
 *
 * Text rather than a module file because the runtime ships as one esbuild bundle (`serve.mjs`)
 * and as compiled files under `dist/`, and runs from TypeScript in tests: a worker file would need
 * a different path, and a TypeScript loader, in each. The worker needs nothing but onnxruntime,
 * so it stays small and plain JavaScript. It only runs sessions: decoding, validation, batching
 * and encoding happen on the main thread, and tensors cross as transferred typed arrays.
 */

/** A tensor as it crosses between threads: onnxruntime's type name, dims and data. */
export interface WireTensor {
  name: string;
  /** onnxruntime's element type, e.g. `float32`, `string`. */
  type: string;
  dims: number[];
  data: ArrayBufferView | string[];
}

export interface WorkerData {
  ortPath: string;
  modelPath: string;
  providers: string[];
  sessionOptions: Record<string, unknown>;
}

export type ToWorker =
  | { type: 'run'; id: number; inputs: WireTensor[]; fetches: string[] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; providers: string[]; failed: { provider: string; message: string }[]; inputNames: string[]; outputNames: string[] }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: WireTensor[]; ms: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'closed' };

// The provider fallback mirrors core/_providers.ts: onnxruntime throws when a listed provider's
// libraries are absent instead of falling back, so the one it blames is dropped and the rest retried.
export const WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const ort = require(workerData.ortPath);
let session;

function blamed(message, providers) {
  const lower = message.toLowerCase();
  const others = providers.filter((p) => p !== 'cpu');
  return others.find((p) => lower.includes('executionprovider_' + p.toLowerCase()))
    || others.find((p) => lower.includes(p.toLowerCase()))
    || others[0];
}

async function create() {
  let providers = workerData.providers.length ? workerData.providers.slice() : ['cpu'];
  const failed = [];
  for (;;) {
    try {
      session = await ort.InferenceSession.create(workerData.modelPath, Object.assign({}, workerData.sessionOptions, { executionProviders: providers }));
      return { providers, failed };
    } catch (e) {
      const message = e && e.message ? e.message : String(e);
      if (providers.every((p) => p === 'cpu')) throw e;
      const dropped = blamed(message, providers);
      failed.push({ provider: dropped, message: message.split('\n')[0] });
      providers = providers.filter((p) => p !== dropped);
      if (!providers.length) providers = ['cpu'];
    }
  }
}

// A transferred buffer moves without a copy; only one that holds nothing but this tensor may go.
function owned(data) {
  return ArrayBuffer.isView(data) && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
    && !(typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer);
}

async function run(msg) {
  const feeds = {};
  for (const t of msg.inputs) feeds[t.name] = new ort.Tensor(t.type, t.data, t.dims);
  const started = performance.now();
  const results = await session.run(feeds, msg.fetches);
  const ms = performance.now() - started;
  const outputs = [];
  const transfer = [];
  for (const name of msg.fetches) {
    const t = results[name];
    let data = t.data;
    if (ArrayBuffer.isView(data)) {
      if (!owned(data) || transfer.includes(data.buffer)) data = data.slice();
      transfer.push(data.buffer);
    }
    outputs.push({ name, type: t.type, dims: Array.from(t.dims), data });
  }
  parentPort.postMessage({ type: 'result', id: msg.id, outputs, ms }, transfer);
}

parentPort.on('message', (msg) => {
  if (msg.type === 'run') {
    run(msg).catch((e) => parentPort.postMessage({ type: 'error', id: msg.id, message: e && e.message ? e.message : String(e) }));
  } else if (msg.type === 'close') {
    Promise.resolve(session && session.release()).catch(() => {}).then(() => {
      parentPort.postMessage({ type: 'closed' });
      parentPort.close();
    });
  }
});

create().then(({ providers, failed }) => {
  parentPort.postMessage({ type: 'ready', providers, failed, inputNames: session.inputNames.slice(), outputNames: session.outputNames.slice() });
}, (e) => {
  parentPort.postMessage({ type: 'load-failed', message: e && e.message ? e.message : String(e) });
});
`;
