// The worker pool's options, statistics and interface.
import type { InferenceCore, InferenceCoreOptions, RawInferenceResult, V2InferenceRequest } from '../core/types.js';

export type { RawInferenceResult, RawOutput } from '../core/types.js';
import type { BatchingOptions } from './batching.js';

export interface WorkerPoolOptions extends InferenceCoreOptions {
  /**
   * Worker threads, each with its own session.
   * @default - one per CPU (`poolSize`), or the CPUs divided by `intraOpThreads` when that is set
   */
  workers?: number;
  /**
   * onnxruntime intra-op threads per worker's session.
   * @default - the CPUs divided by the workers (1 with the default worker count)
   */
  intraOpThreads?: number;
  /**
   * Merge concurrent requests along the first dim. Needs a model whose every input and output has
   * a dynamic first dim; a `maxBatchSize` of 1 turns it off.
   * @default - off
   */
  batching?: BatchingOptions;
  /**
   * Requests waiting for a worker beyond which new ones are refused with 503 OVERLOADED and a
   * Retry-After header.
   * @default 256
   */
  maxQueue?: number;
  /**
   * Path of onnxruntime-node's entry point, which each worker requires.
   * @default - resolved from this module (the bundle's or the package's node_modules, NODE_PATH)
   */
  ortPath?: string;
  /** Called for every run a worker starts, with the requests merged into it and their rows. */
  onBatch?: (batch: { requests: number; rows: number }) => void;
}

/** A count and the total time it took, in nanoseconds (as Triton's statistics report them). */
export interface TimedCount {
  count: number;
  ns: number;
}

export interface PoolStats {
  workers: number;
  intraOpThreads: number;
  /** The batching in effect; null when off. */
  batching: BatchingOptions | null;
  /** Requests waiting for a worker now. */
  queued: number;
  /** Runs in progress now. */
  running: number;
  /** Requests answered (rows counted once per request). */
  inferenceCount: number;
  /** Runs of the model: fewer than requests when batching merged them. */
  executionCount: number;
  /** Requests refused because the queue was full. */
  rejected: number;
  success: TimedCount;
  fail: TimedCount;
  /** Time requests spent waiting for a worker. */
  queue: TimedCount;
  /** Time in `session.run`, per run. */
  computeInfer: TimedCount;
  /** Runs by the number of rows merged into them, ascending. */
  batches: { batchSize: number; count: number; requests: number; computeInfer: TimedCount }[];
}

/**
 * The worker pool: an `InferenceCore` (the HTTP adapter takes it as is) whose sessions run on
 * worker threads, so the event loop stays free while the model runs.
 */
export interface WorkerPool extends InferenceCore {
  readonly workers: number;
  readonly intraOpThreads: number;
  /** The batching in effect; undefined when off. */
  readonly batching?: BatchingOptions;
  /** Like `infer`, but the outputs come back unencoded (for the binary tensor data extension). */
  inferRaw(request: V2InferenceRequest): Promise<RawInferenceResult>;
  stats(): PoolStats;
}
