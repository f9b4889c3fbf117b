// Runs a load against an endpoint and summarises its latencies.
import { performance } from 'node:perf_hooks';
import type { InferenceClient } from '../smoke/run-smoke.js';
import type { V2Request } from '../smoke/smoke-input.js';

export interface RunLoadOptions {
  /** Calls the deployed target; its `latencyMs` is what is recorded. */
  client: InferenceClient;
  request: V2Request;
  /** Requests in flight at once: each of this many loops sends its next request when its last one is answered. */
  concurrency: number;
  durationMs: number;
  /**
   * Requests sent (one at a time) before measuring, so cold starts and first-run costs stay out of the figures.
   * @default 1
   */
  warmupRequests?: number;
}

export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadRun {
  concurrency: number;
  durationMs: number;
  /** Answered with 200. */
  ok: number;
  /** Other statuses, or calls that threw, by status (`error` for a throw). */
  failed: Record<string, number>;
  /** 200s per second. */
  throughput: number;
  /** Of the 200s, milliseconds. */
  latencyMs: LatencySummary;
  /** Every 200's latency in milliseconds, in completion order. */
  latencies: number[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarizeLatencies(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    min: round(sorted[0] ?? 0),
    mean: round(sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0),
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

/**
 * A closed-loop load: `concurrency` loops send the request back to back for `durationMs`.
 * Works with any target's client (HTTP, the Lambda SDK, ...), so the figures include the client
 * a user of that target would use.
 */
export async function runLoad(options: RunLoadOptions): Promise<LoadRun> {
  const { client, request, concurrency, durationMs } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency is ${concurrency}; it must be a positive integer`);
  for (let i = 0; i < (options.warmupRequests ?? 1); i++) await client(request).catch(() => undefined);
  const latencies: number[] = [];
  const failed: Record<string, number> = {};
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      try {
        const call = await client(request);
        if (call.status === 200) latencies.push(call.latencyMs);
        else failed[String(call.status)] = (failed[String(call.status)] ?? 0) + 1;
      } catch {
        failed.error = (failed.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = performance.now() - started;
  return {
    concurrency, durationMs: Math.round(elapsed), ok: latencies.length, failed,
    throughput: Math.round((latencies.length / (elapsed / 1000)) * 100) / 100,
    latencyMs: summarizeLatencies(latencies), latencies: latencies.map((l) => Math.round(l * 1000) / 1000),
  };
}
