// An inference client that posts v2 JSON to a URL.
import { performance } from 'node:perf_hooks';
import type { InferenceClient } from './run-smoke.js';

/** A client that POSTs v2 JSON to a URL; the body of any answer is parsed as JSON when it can be. */
export function httpInferenceClient(url: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): InferenceClient {
  return async (request) => {
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    const latencyMs = performance.now() - started;
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* keep the text: the smoke check shows it */ }
    return { status: res.status, body, latencyMs };
  };
}
