/** The inference client over an online endpoint's scoring URI, for smoke tests and `invoke`. */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { InferenceClient } from '../../smoke/run-smoke.js';

export interface ScoringClientOptions {
  /** The infer URL (`<scoring base>/v2/models/<name>/infer`). */
  url: string;
  /** Returns the bearer credential: an endpoint key or an Azure ML token. Never logged. */
  credential: () => Promise<string>;
  /** Sends `azureml-model-deployment`, which routes to that deployment whatever the traffic split. */
  deployment?: string;
  /** Extra trusted CA (PEM). */
  ca?: string;
  timeoutMs?: number;
}

/**
 * POSTs v2 requests to an Azure ML online endpoint. On node:https rather than fetch, so that a
 * CA can be added per client; the key only ever goes into the Authorization header.
 */
export function scoringClient(options: ScoringClientOptions): InferenceClient {
  const url = new URL(options.url);
  const transport = url.protocol === 'http:' ? http : https;
  return async (request) => {
    const bearer = await options.credential();
    const body = Buffer.from(JSON.stringify(request));
    const started = performance.now();
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = transport.request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          authorization: `Bearer ${bearer}`,
          ...(options.deployment ? { 'azureml-model-deployment': options.deployment } : {}),
        },
        ...(options.ca && transport === https ? { ca: options.ca } : {}),
        timeout: options.timeoutMs ?? 60_000,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin}${url.pathname} within ${options.timeoutMs ?? 60_000} ms`)));
      req.on('error', (e) => reject(new Error(`${url.origin}${url.pathname}: ${e.message}`)));
      req.end(body);
    });
    const latencyMs = performance.now() - started;
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* keep the text: the smoke check shows it */ }
    return { status, body: parsed, latencyMs };
  };
}
