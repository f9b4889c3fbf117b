// The queue of pending requests and the dynamic batching rule that groups them.
import type { BatchingOptions } from './batching.js';

/** What the queue needs to know of a request. */
export interface QueuedJob {
  /** Requests with the same key can be merged; undefined: never merged. */
  key: string | undefined;
  /** Its first dim: the rows it adds to a batch. */
  rows: number;
  /** `performance.now()` when it was queued. */
  enqueuedAt: number;
}

export interface Take<J> {
  /** The jobs to run together now. */
  batch?: J[];
  /** When nothing is ready: milliseconds until the oldest waiting group is due. */
  waitMs?: number;
}

/**
 * The pending requests, and the rule that turns them into batches (Triton's dynamic batcher):
 * a group of requests with the same key is dispatched when it reaches `maxBatchSize` rows (or the
 * next request would not fit), when its rows reach a preferred batch size, or when its oldest
 * request has waited `maxQueueDelayMs`. Without batching, requests go one by one, oldest first.
 * Groups are looked at in the order of their oldest request, so one that is still waiting does not
 * hold back another that is ready.
 */
export class BatchQueue<J extends QueuedJob> {
  private jobs: J[] = [];

  constructor(private readonly batching: BatchingOptions | undefined) {}

  get length(): number {
    return this.jobs.length;
  }

  push(job: J): void {
    this.jobs.push(job);
  }

  /** Puts jobs back at the head, ahead of everything (a batch being retried one by one). */
  unshift(jobs: readonly J[]): void {
    this.jobs.unshift(...jobs);
  }

  /** Removes and returns every job. */
  clear(): J[] {
    const all = this.jobs;
    this.jobs = [];
    return all;
  }

  /** The next batch that is ready at `now`; with `flush`, waiting groups are ready too (shutdown). */
  take(now: number, flush = false): Take<J> {
    if (this.jobs.length === 0) return {};
    const batching = this.batching;
    if (!batching) return { batch: this.jobs.splice(0, 1) };
    const seen = new Set<string>();
    let waitMs: number | undefined;
    for (let i = 0; i < this.jobs.length; i++) {
      const head = this.jobs[i];
      if (head.key === undefined) return { batch: this.jobs.splice(i, 1) };
      if (seen.has(head.key)) continue;
      seen.add(head.key);
      const group = this.group(i, batching.maxBatchSize);
      const ready = flush || group.full || now - head.enqueuedAt >= batching.maxQueueDelayMs;
      let chosen = group.jobs;
      if (!ready) {
        const preferred = this.preferredPrefix(group.jobs, batching.preferredBatchSizes);
        if (preferred === 0) {
          const due = head.enqueuedAt + batching.maxQueueDelayMs - now;
          waitMs = waitMs === undefined ? due : Math.min(waitMs, due);
          continue;
        }
        chosen = group.jobs.slice(0, preferred);
      }
      const taken = new Set(chosen);
      this.jobs = this.jobs.filter((j) => !taken.has(j));
      return { batch: chosen };
    }
    return waitMs === undefined ? {} : { waitMs: Math.max(0, waitMs) };
  }

  /** The jobs with the key of jobs[start], oldest first, while they fit in `max` rows. */
  private group(start: number, max: number): { jobs: J[]; full: boolean } {
    const key = this.jobs[start].key;
    const jobs: J[] = [];
    let rows = 0;
    for (let i = start; i < this.jobs.length; i++) {
      const job = this.jobs[i];
      if (job.key !== key) continue;
      // A request larger than the limit runs alone; otherwise the group ends where one does not fit.
      if (jobs.length > 0 && rows + job.rows > max) return { jobs, full: true };
      jobs.push(job);
      rows += job.rows;
      if (rows >= max) return { jobs, full: true };
    }
    return { jobs, full: false };
  }

  /** How many leading jobs make the largest preferred batch size exactly; 0 when none does. */
  private preferredPrefix(jobs: readonly J[], preferred: readonly number[] | undefined): number {
    if (!preferred?.length) return 0;
    let rows = 0;
    let best = 0;
    jobs.forEach((job, i) => {
      rows += job.rows;
      if (preferred.includes(rows)) best = i + 1;
    });
    return best;
  }
}
