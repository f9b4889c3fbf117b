// The counters behind the worker pool's statistics.
import type { BatchingOptions } from './batching.js';
import type { PoolStats, TimedCount } from './types.js';

const ns = (ms: number) => Math.round(ms * 1e6);

/** The counters behind `WorkerPool.stats()`. */
export class PoolCounters {
  inferenceCount = 0;
  executionCount = 0;
  rejected = 0;
  readonly success: TimedCount = { count: 0, ns: 0 };
  readonly fail: TimedCount = { count: 0, ns: 0 };
  readonly queue: TimedCount = { count: 0, ns: 0 };
  readonly computeInfer: TimedCount = { count: 0, ns: 0 };
  private readonly batches = new Map<number, { count: number; requests: number; computeInfer: TimedCount }>();

  /** A run of `requests` merged requests, `rows` rows in all, that took `ms` in session.run. */
  run(rows: number, requests: number, ms: number): void {
    this.executionCount++;
    this.computeInfer.count++;
    this.computeInfer.ns += ns(ms);
    const b = this.batches.get(rows) ?? { count: 0, requests: 0, computeInfer: { count: 0, ns: 0 } };
    b.count++;
    b.requests += requests;
    b.computeInfer.count++;
    b.computeInfer.ns += ns(ms);
    this.batches.set(rows, b);
  }

  waited(ms: number): void {
    this.queue.count++;
    this.queue.ns += ns(ms);
  }

  done(ok: boolean, ms: number): void {
    const t = ok ? this.success : this.fail;
    t.count++;
    t.ns += ns(ms);
    if (ok) this.inferenceCount++;
  }

  /** Mean milliseconds per run so far; `fallback` before the first. */
  meanRunMs(fallback: number): number {
    return this.computeInfer.count ? this.computeInfer.ns / this.computeInfer.count / 1e6 : fallback;
  }

  snapshot(fixed: { workers: number; intraOpThreads: number; batching?: BatchingOptions; queued: number; running: number }): PoolStats {
    return {
      workers: fixed.workers,
      intraOpThreads: fixed.intraOpThreads,
      batching: fixed.batching ?? null,
      queued: fixed.queued,
      running: fixed.running,
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      rejected: this.rejected,
      success: { ...this.success },
      fail: { ...this.fail },
      queue: { ...this.queue },
      computeInfer: { ...this.computeInfer },
      batches: [...this.batches.entries()].sort(([a], [b]) => a - b)
        .map(([batchSize, b]) => ({ batchSize, count: b.count, requests: b.requests, computeInfer: { ...b.computeInfer } })),
    };
  }
}
