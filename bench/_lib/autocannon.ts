// Drives an HTTP endpoint with autocannon for the benchmarks, with the result fields they read.
import { createRequire } from 'node:module';

/** The part of autocannon's result the benchmarks read (the package ships no types). */
export interface LoadResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  requests: { average: number; total: number };
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  method: 'POST';
  headers: Record<string, string>;
  body: Buffer | string;
}

const autocannon = createRequire(import.meta.url)('autocannon') as (options: LoadOptions) => Promise<LoadResult>;

/** Drives `url` with autocannon (a maintained HTTP load generator) from this process. */
export function load(options: LoadOptions): Promise<LoadResult> {
  return autocannon(options);
}
