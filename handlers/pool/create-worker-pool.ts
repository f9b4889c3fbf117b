// The worker pool: one onnxruntime session per worker thread, with a bounded queue and batching.
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { DTYPES, ortType } from '../../src/model/dtypes.js';
import type { Dtype, ModelSignature } from '../../src/model/types.js';
import { isRequestBuffer } from '../core/base64.js';
import { decodeInferenceRequest, encodeOutputTensor } from '../core/codec.js';
import { InferenceError, kernelRefusal, toInferenceError } from '../core/inference-error.js';
import { modelMetadata } from '../core/metadata.js';
import type { DecodedTensor, V2InferenceRequest, V2InferenceResponse } from '../core/types.js';
import { BatchQueue, type QueuedJob } from './_batch-queue.js';
import { PoolCounters } from './_pool-stats.js';
import { resolveOrtPath, spawnWorker, stopWorker, type ReadyWorker } from './_spawn-worker.js';
import type { FromWorker, WireTensor, WorkerData } from './_worker-source.js';
import { batchingProblem, batchKey, batchRows, checkBatchingOptions, mergeInputs, splitOutput } from './batching.js';
import { OverloadedError } from './overloaded-error.js';
import { poolSize } from './pool-size.js';
import type { RawInferenceResult, RawOutput, WorkerPool, WorkerPoolOptions } from './types.js';

export const DEFAULT_MAX_QUEUE = 256;

const ORT_TO_DTYPE = new Map<string, Dtype>(DTYPES.filter((d) => ortType(d)).map((d) => [ortType(d)!, d]));

interface Job extends QueuedJob {
  inputs: DecodedTensor[];
  fetches: string[];
  resolve(outputs: WireTensor[]): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  batch?: { jobs: Job[]; rows: number[] };
}

function checkNames(ready: ReadyWorker, signature: ModelSignature, modelPath: string): void {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n, i) => n === b[i]);
  const sigIn = signature.inputs.map((s) => s.name);
  const sigOut = signature.outputs.map((s) => s.name);
  if (!same(ready.inputNames, sigIn) || !same(ready.outputNames, sigOut)) {
    throw new InferenceError(500, 'SIGNATURE_MISMATCH',
      `the signature does not describe ${modelPath}: it lists inputs [${sigIn.join(', ')}] and outputs [${sigOut.join(', ')}], the model has inputs [${ready.inputNames.join(', ')}] and outputs [${ready.outputNames.join(', ')}]; rebuild the signature from this model`);
  }
  for (const spec of signature.inputs) {
    if (spec.dtype === 'unsupported' || !ortType(spec.dtype)) {
      throw new InferenceError(500, 'UNSUPPORTED_DATATYPE', `input "${spec.name}" has element type ${spec.onnxTypeName}, which onnxruntime-node cannot serve`);
    }
  }
}

/**
 * Typed arrays that own their whole buffer, or views into a request body's own buffer, move to the
 * worker without a copy (a view that is not transferred would copy its whole buffer).
 */
function transferList(tensors: readonly WireTensor[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const t of tensors) {
    const d = t.data;
    if (!ArrayBuffer.isView(d) || !(d.buffer instanceof ArrayBuffer) || out.includes(d.buffer)) continue;
    if ((d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) || isRequestBuffer(d.buffer)) out.push(d.buffer);
  }
  return out;
}

/**
 * Starts `workers` worker threads, each loading the model into its own onnxruntime session
 * (intra-op threads chosen so the sessions together fill the CPUs once), and returns a core that
 * queues requests for them: decoding and validation happen here, on the calling thread, the runs
 * on the workers. With `batching`, requests waiting together are merged along the first dim.
 * Rejects with MODEL_LOAD_FAILED (onnxruntime's message) when a worker cannot load the model.
 */
export async function createWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  const { modelPath, signature, modelName } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const size = poolSize({ workers: options.workers, intraOpThreads: options.intraOpThreads });
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  if (!Number.isInteger(maxQueue) || maxQueue < 1) throw new RangeError(`maxQueue is ${maxQueue}; it must be a positive integer`);
  const batching = options.batching && options.batching.maxBatchSize > 1 ? checkBatchingOptions(options.batching) : undefined;
  if (batching) {
    const problem = batchingProblem(signature);
    if (problem) {
      throw new InferenceError(500, 'BATCHING_UNSUPPORTED', `batching is on (max batch size ${batching.maxBatchSize}), but requests to ${modelPath} cannot be merged: ${problem}. Turn batching off (unset DM_MAX_BATCH_SIZE, or remove model.batching), or re-export the model with a dynamic batch dim`);
    }
  }

  const data: WorkerData = {
    ortPath: options.ortPath ?? resolveOrtPath(),
    modelPath,
    providers: options.executionProviders ?? ['cpu'],
    sessionOptions: {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: size.intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Idle intra-op threads spin for work by default, taking CPU the other workers and the
      // server's own thread need.
      ...(size.intraOpThreads > 1 ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
    },
  };
  let nextName = 0;
  const spawn = () => spawnWorker(data, `deploy-model-ort-${nextName++}`);

  // Every worker settles (loaded, or failed and gone) before a failure is reported, so no thread
  // is left loading the model when the caller gives up and exits.
  const settled = await Promise.allSettled(Array.from({ length: size.workers }, spawn));
  const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((w) => stopWorker(w.worker)));
    const message = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
    throw new InferenceError(500, 'MODEL_LOAD_FAILED', `could not load the model ${modelPath}: ${message}`, { cause: failure.reason });
  }
  const first = started[0];
  try {
    checkNames(first, signature, modelPath);
  } catch (e) {
    await Promise.all(started.map((w) => stopWorker(w.worker)));
    throw e;
  }
  if (first.failed.length) {
    log(`deploy-model: execution provider${first.failed.length > 1 ? 's' : ''} ${first.failed.map((f) => `"${f.provider}" (${f.message})`).join(', ')} could not be loaded; running on [${first.providers.join(', ')}]`);
  }
  // Later workers (replacements) load with what the first one settled on.
  data.providers = first.providers;

  const servableOutputs = signature.outputs.filter((s) => s.dtype !== 'unsupported' && ortType(s.dtype)).map((s) => s.name);
  const metadata = modelMetadata(signature, modelName);
  const counters = new PoolCounters();
  const queue = new BatchQueue<Job>(batching);
  const slots: Slot[] = [];
  const idle: Slot[] = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  let drained: (() => void) | undefined;

  const running = () => slots.filter((s) => s.batch).length;
  const checkDrained = () => {
    if (drained && queue.length === 0 && running() === 0) drained();
  };

  function schedule(): void {
    if (timer) { clearTimeout(timer); timer = undefined; }
    while (idle.length > 0 && queue.length > 0) {
      const { batch, waitMs } = queue.take(performance.now(), closing);
      if (!batch) {
        if (waitMs !== undefined) timer = setTimeout(schedule, waitMs);
        break;
      }
      dispatch(idle.pop()!, batch);
    }
    checkDrained();
  }

  function dispatch(slot: Slot, jobs: Job[]): void {
    const now = performance.now();
    for (const j of jobs) counters.waited(now - j.enqueuedAt);
    const merged = jobs.length === 1 ? jobs[0].inputs : mergeInputs(jobs.map((j) => j.inputs));
    const inputs: WireTensor[] = merged.map((t) => ({ name: t.name, type: ortType(t.dtype)!, dims: t.shape, data: t.data }));
    const rows = jobs.map((j) => j.rows);
    slot.batch = { jobs, rows };
    options.onBatch?.({ requests: jobs.length, rows: rows.reduce((a, b) => a + b, 0) });
    try {
      // A single request's arrays go as they are; a merged batch's are fresh copies, so the
      // requests keep theirs for a retry one by one.
      slot.worker.postMessage({ type: 'run', id: ++seq, inputs, fetches: jobs[0].fetches }, transferList(inputs));
    } catch (e) {
      slot.batch = undefined;
      idle.push(slot);
      for (const j of jobs) j.reject(e);
    }
  }

  function finished(slot: Slot, msg: FromWorker): void {
    const batch = slot.batch;
    if (!batch || (msg.type !== 'result' && msg.type !== 'error')) return;
    slot.batch = undefined;
    idle.push(slot);
    const { jobs, rows } = batch;
    if (msg.type === 'result') {
      counters.run(rows.reduce((a, b) => a + b, 0), jobs.length, msg.ms);
      const split = jobs.length === 1 ? msg.outputs.map((o) => [o]) : msg.outputs.map((o) => splitOutput(o, rows));
      if (split.every((s) => s !== undefined)) {
        jobs.forEach((j, i) => j.resolve(split.map((s) => s![i])));
      } else {
        // An output without the batch dim cannot be cut into rows: run these requests alone.
        retryAlone(jobs);
      }
    } else if (jobs.length > 1) {
      // One bad request must not fail the others merged with it.
      retryAlone(jobs);
    } else {
      jobs[0].reject(kernelRefusal(msg.message) ?? new InferenceError(500, 'INFERENCE_FAILED', `model "${modelName}" failed on this input: ${msg.message}`));
    }
    schedule();
  }

  function retryAlone(jobs: Job[]): void {
    for (const j of jobs) j.key = undefined;
    queue.unshift(jobs);
  }

  function attach(ready: ReadyWorker): void {
    const slot: Slot = { worker: ready.worker };
    slots.push(slot);
    idle.push(slot);
    ready.worker.on('message', (msg: FromWorker) => finished(slot, msg));
    ready.worker.on('error', (e) => log(`deploy-model: a model worker failed: ${e.message}`));
    ready.worker.on('exit', (code) => {
      slots.splice(slots.indexOf(slot), 1);
      const at = idle.indexOf(slot);
      if (at >= 0) idle.splice(at, 1);
      if (slot.batch) {
        const err = new InferenceError(500, 'INFERENCE_FAILED', `the worker running model "${modelName}" exited (code ${code}) during this request`);
        for (const j of slot.batch.jobs) j.reject(err);
        slot.batch = undefined;
      }
      if (closing) return checkDrained();
      log(`deploy-model: a model worker exited (code ${code}); starting a new one`);
      spawn().then((replacement) => {
        if (closing) return void stopWorker(replacement.worker);
        attach(replacement);
        schedule();
      }, (e: unknown) => log(`deploy-model: a replacement model worker could not start: ${e instanceof Error ? e.message : String(e)}`));
    });
  }
  for (const w of started) attach(w);

  function submit(inputs: DecodedTensor[], fetches: string[]): Promise<WireTensor[]> {
    if (closing) throw new InferenceError(503, 'NOT_READY', `model "${modelName}" is shutting down`);
    if (queue.length >= maxQueue) {
      counters.rejected++;
      const seconds = Math.min(60, Math.max(1, Math.ceil((queue.length * counters.meanRunMs(100)) / slots.length / 1000)));
      throw new OverloadedError(queue.length, seconds);
    }
    const key = batching ? batchKey(inputs, fetches) : undefined;
    return new Promise<WireTensor[]>((resolve, reject) => {
      queue.push({ key, rows: key === undefined ? 1 : batchRows(inputs), enqueuedAt: performance.now(), inputs, fetches, resolve, reject });
      schedule();
    });
  }

  async function inferRaw(request: V2InferenceRequest): Promise<RawInferenceResult> {
    const started = performance.now();
    try {
      const decoded = decodeInferenceRequest(request, signature);
      const fetches = decoded.outputs ?? servableOutputs;
      for (const name of fetches) {
        if (!servableOutputs.includes(name)) {
          throw new InferenceError(400, 'UNKNOWN_OUTPUT', `output "${name}" has an element type onnxruntime-node cannot return; request one of ${servableOutputs.map((n) => `"${n}"`).join(', ')}`);
        }
      }
      const wire = await submit(decoded.inputs, fetches);
      const outputs: RawOutput[] = wire.map((t) => {
        const dtype = ORT_TO_DTYPE.get(t.type);
        if (!dtype) throw new InferenceError(500, 'INFERENCE_FAILED', `output "${t.name}" has onnxruntime type ${t.type}, which the runtime cannot encode`);
        return { name: t.name, dtype, dims: t.dims, data: t.data };
      });
      counters.done(true, performance.now() - started);
      return { ...(decoded.id === undefined ? {} : { id: decoded.id }), outputEncoding: decoded.outputEncoding, outputs };
    } catch (e) {
      counters.done(false, performance.now() - started);
      throw toInferenceError(e);
    }
  }

  return {
    modelName,
    signature,
    executionProviders: first.providers,
    workers: size.workers,
    intraOpThreads: size.intraOpThreads,
    ...(batching ? { batching } : {}),
    metadata: () => metadata,
    inferRaw,
    async infer(request: V2InferenceRequest): Promise<V2InferenceResponse> {
      const raw = await inferRaw(request);
      return {
        model_name: modelName,
        model_version: '1',
        ...(raw.id === undefined ? {} : { id: raw.id }),
        outputs: raw.outputs.map((o) => encodeOutputTensor(o.name, o.dtype, o.dims, o.data, raw.outputEncoding)),
      };
    },
    stats: () => counters.snapshot({ workers: size.workers, intraOpThreads: size.intraOpThreads, batching, queued: queue.length, running: running() }),
    async close() {
      if (closing) return;
      closing = true;
      if (slots.length === 0) {
        for (const j of queue.clear()) j.reject(new InferenceError(503, 'NOT_READY', `model "${modelName}" is shutting down`));
      }
      await new Promise<void>((resolve) => {
        drained = resolve;
        schedule();
      });
      if (timer) clearTimeout(timer);
      await Promise.all([...slots].map((s) => stopWorker(s.worker)));
    },
  };
}
