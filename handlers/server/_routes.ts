import { checkModel, errorResult, MODEL_INFER_PATH, MODEL_PATH, MODEL_READY_PATH, parseJsonBody, type Route, type RouteRequest, type RouteResult } from '../http.js';
import { InferenceError } from '../core/inference-error.js';
import { isInstancesRequest } from '../core/instances.js';
import { predictJson } from '../core/predict.js';
import { inferenceResponseJson } from '../core/response-json.js';
import type { InferenceCore, V2InferenceRequest } from '../core/types.js';
import { OverloadedError } from '../pool/overloaded-error.js';
import type { PoolStats, RawInferenceResult } from '../pool/types.js';
import { binaryMediaType, binaryOutputs, binaryResult, INFERENCE_HEADER_CONTENT_LENGTH, inferRawThroughBase64, parseBinaryRequest } from './binary.js';
import { modelStatistics } from './model-statistics.js';

/** What the routes use of a backend; `inferRaw` and `stats` are the worker pool's extras. */
export type RoutedCore = Pick<InferenceCore, 'infer' | 'metadata' | 'modelName' | 'signature'> & {
  inferRaw?: (request: V2InferenceRequest) => Promise<RawInferenceResult>;
  stats?: () => PoolStats;
};

const MODEL_STATS_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/stats$/;

/**
 * The body of an inference route: the binary tensor data extension when its header length is
 * given (the `Inference-Header-Content-Length` header, or `json-header-size` in a SageMaker or
 * Vertex AI binary media type), else JSON.
 */
function inferenceBody(req: RouteRequest, core: RoutedCore): unknown {
  const headerLength = req.headers[INFERENCE_HEADER_CONTENT_LENGTH] ?? binaryMediaType(req.headers['content-type'])?.headerLength;
  return headerLength === undefined ? parseJsonBody(req, core.signature) : parseBinaryRequest(Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body ?? ''), headerLength);
}

/** A v2 request answered as JSON, or with binary outputs when it asks for them, in the request's binary media type. */
async function inferV2(core: RoutedCore, body: V2InferenceRequest, req: RouteRequest): Promise<RouteResult> {
  const binary = binaryOutputs(body);
  if (!binary) return { status: 200, body: core.inferRaw ? inferenceResponseJson(core.modelName, await core.inferRaw(body)) : await core.infer(body) };
  const raw = core.inferRaw ? await core.inferRaw(body) : await inferRawThroughBase64(core, body);
  return binaryResult(core.modelName, raw, binary, binaryMediaType(req.headers['content-type'])?.type);
}

/** A full queue answers 503 with Retry-After, so clients back off. */
function withRetryAfter(handle: Route['handle']): Route['handle'] {
  return async (req, params) => {
    try {
      return await handle(req, params);
    } catch (e) {
      if (e instanceof OverloadedError) return errorResult(e, { 'retry-after': String(e.retryAfterSeconds) });
      throw e;
    }
  };
}

export interface ServerRouteOptions {
  /** Vertex AI's health route (AIP_HEALTH_ROUTE). */
  healthRoute?: string;
  /** Vertex AI's predict route (AIP_PREDICT_ROUTE). */
  predictRoute?: string;
  /** True once shutdown has begun: readiness turns 503 so load balancers stop sending. */
  draining: () => boolean;
}

/**
 * Every serving contract the container speaks, over one core:
 * KServe v2, SageMaker (`/ping`, `/invocations`), Vertex AI (AIP_* routes), Azure ML (`/`, `/score`).
 */
export function serverRoutes(core: RoutedCore, options: ServerRouteOptions): Route[] {
  const ready = (): RouteResult => {
    if (options.draining()) throw new InferenceError(503, 'NOT_READY', 'the server is shutting down');
    return { status: 200, body: { status: 'ready' } };
  };
  const live = (): RouteResult => ({ status: 200, body: { status: 'live' } });
  const score = withRetryAfter(async (req: RouteRequest): Promise<RouteResult> => {
    const body = inferenceBody(req, core);
    return isInstancesRequest(body) ? { status: 200, body: await predictJson(core, body) } : inferV2(core, body as V2InferenceRequest, req);
  });

  const routes: Route[] = [
    // KServe v2 / Open Inference Protocol
    { method: 'GET', path: '/v2', handle: () => ({ status: 200, body: { name: 'deploy-model', version: '1', extensions: ['binary_tensor_data', 'statistics'] } }) },
    { method: 'GET', path: '/v2/health/live', handle: live },
    { method: 'GET', path: '/v2/health/ready', handle: ready },
    { method: 'GET', path: MODEL_PATH, handle: (_r, [name, v]) => { checkModel(core, name, v); return { status: 200, body: core.metadata() }; } },
    { method: 'GET', path: MODEL_READY_PATH, handle: (_r, [name, v]) => { checkModel(core, name, v); ready(); return { status: 200, body: { name, ready: true } }; } },
    {
      method: 'POST', path: MODEL_INFER_PATH, handle: withRetryAfter(async (req, [name, v]) => {
        checkModel(core, name, v);
        const body = inferenceBody(req, core);
        if (isInstancesRequest(body)) throw new InferenceError(400, 'INVALID_REQUEST', 'the v2 infer route takes { "inputs": [...] }; send { "instances": [...] } to a predict route such as POST /invocations');
        return inferV2(core, body as V2InferenceRequest, req);
      }),
    },
    {
      method: 'GET', path: MODEL_STATS_PATH, handle: (_r, [name, v]) => {
        checkModel(core, name, v);
        if (!core.stats) throw new InferenceError(404, 'ROUTE_NOT_FOUND', 'statistics are kept by the worker pool; this server runs the model in-process (DM_WORKERS=0)');
        return { status: 200, body: modelStatistics(core.modelName, core.stats()) };
      },
    },
    // SageMaker
    { method: 'GET', path: '/ping', handle: ready },
    { method: 'POST', path: '/invocations', handle: score },
    // Azure ML
    { method: 'GET', path: '/', handle: ready },
    { method: 'POST', path: '/score', handle: score },
    // The Lambda adapter's routes, so one client works against both
    { method: 'GET', path: '/health', handle: ready },
    { method: 'POST', path: '/', handle: score },
  ];
  // Vertex AI's routes come from its environment and go first, so they win over any default.
  const vertex: Route[] = [];
  if (options.healthRoute) vertex.push({ method: 'GET', path: trimSlash(options.healthRoute), handle: ready });
  if (options.predictRoute) vertex.push({ method: 'POST', path: trimSlash(options.predictRoute), handle: score });
  return [...vertex, ...routes];
}

function trimSlash(path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}
