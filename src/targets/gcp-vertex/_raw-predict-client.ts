/** The inference client over PredictionService.RawPredict, for smoke tests and `invoke`. */
import { performance } from 'node:perf_hooks';
import type { v1 } from '@google-cloud/aiplatform';
import type { InferenceClient } from '../../smoke/run-smoke.js';

/** gRPC status → the HTTP status Vertex AI's REST surface would answer, so smoke checks read the same on every target. */
const HTTP_OF_GRPC: Record<number, number> = { 3: 400, 4: 504, 5: 404, 7: 403, 8: 429, 9: 400, 12: 501, 13: 500, 14: 503, 16: 401 };
const GRPC_NAMES: Record<number, string> = { 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND', 7: 'PERMISSION_DENIED', 8: 'RESOURCE_EXHAUSTED', 9: 'FAILED_PRECONDITION', 12: 'UNIMPLEMENTED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 16: 'UNAUTHENTICATED' };

function parse(text: string): unknown {
  try { return JSON.parse(text); } catch { return text; }
}

/**
 * Sends v2 requests through `PredictionService.RawPredict` on an endpoint: the body reaches the
 * container's predict route (Triton's `/v2/models/<name>/infer`) unchanged, and the answer comes
 * back as it left the container. RawPredict is not retried by the client (not idempotent).
 */
export function rawPredictClient(prediction: v1.PredictionServiceClient, endpoint: string, timeoutMs = 60_000): InferenceClient {
  return async (request) => {
    const started = performance.now();
    try {
      const [body] = await prediction.rawPredict(
        { endpoint, httpBody: { contentType: 'application/json', data: Buffer.from(JSON.stringify(request)) } },
        { timeout: timeoutMs },
      );
      const latencyMs = performance.now() - started;
      return { status: 200, body: parse(Buffer.from(body.data ?? []).toString('utf8')), latencyMs };
    } catch (e) {
      const latencyMs = performance.now() - started;
      const code = (e as { code?: number }).code;
      if (typeof code !== 'number') throw e;
      const message = String((e as { details?: string }).details || (e as Error).message).replace(/^\d+ [A-Z_]+: /, '');
      const parsed = parse(message);
      return {
        status: HTTP_OF_GRPC[code] ?? 500,
        body: typeof parsed === 'object' && parsed !== null ? parsed : { error: { code: GRPC_NAMES[code] ?? `GRPC_${code}`, message } },
        latencyMs,
      };
    }
  };
}
