// The 503 with Retry-After for a request that finds the queue full.
import { InferenceError } from '../core/inference-error.js';

/**
 * 503 for a request that found the queue full. It carries the `Retry-After` the server sends, so
 * clients back off instead of the queue (and every request's latency) growing without bound.
 */
export class OverloadedError extends InferenceError {
  readonly retryAfterSeconds: number;

  constructor(queued: number, retryAfterSeconds: number) {
    super(503, 'OVERLOADED',
      `the server is at capacity: ${queued} requests are already waiting for the model; retry after ${retryAfterSeconds} s, or add instances`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isOverloadedError(e: unknown): e is OverloadedError {
  return e instanceof OverloadedError;
}
