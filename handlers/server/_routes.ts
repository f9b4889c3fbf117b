// The HTTP server's routes for every serving contract (KServe v2, SageMaker, Vertex AI, Azure ML).
import { withApiDocs } from '../api-docs/api-routes.js';
import { checkModel, DOCS, errorResult, MODEL_INFER_PATH, MODEL_PATH, MODEL_READY_PATH, parseJsonBody, type Route, type RouteRequest, type RouteResult } from '../http.js';
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
  /** Shapes for the example request of `/openapi.json` (`DM_EXAMPLE_SHAPES`). */
  exampleShapes?: Record<string, number[]>;
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
    { method: 'GET', path: '/v2', doc: DOCS.server, handle: () => ({ status: 200, body: { name: 'deploy-model', version: '1', extensions: ['binary_tensor_data', 'statistics'] } }) },
    { method: 'GET', path: '/v2/health/live', doc: DOCS.live, handle: live },
    { method: 'GET', path: '/v2/health/ready', doc: DOCS.ready, handle: ready },
    { method: 'GET', path: MODEL_PATH, doc: DOCS.model, handle: (_r, [name, v]) => { checkModel(core, name, v); return { status: 200, body: core.metadata() }; } },
    { method: 'GET', path: MODEL_READY_PATH, doc: DOCS.modelReady, handle: (_r, [name, v]) => { checkModel(core, name, v); ready(); return { status: 200, body: { name, ready: true } }; } },
    {
      method: 'POST', path: MODEL_INFER_PATH, doc: DOCS.infer, handle: withRetryAfter(async (req, [name, v]) => {
        checkModel(core, name, v);
        const body = inferenceBody(req, core);
        if (isInstancesRequest(body)) throw new InferenceError(400, 'INVALID_REQUEST', 'the v2 infer route takes { "inputs": [...] }; send { "instances": [...] } to a predict route such as POST /invocations');
        return inferV2(core, body as V2InferenceRequest, req);
      }),
    },
    // Statistics are the worker pool's; a server running the model in-process (DM_WORKERS=0) has none.
    ...(core.stats ? [statsRoute(core)] : []),
    // SageMaker
    { method: 'GET', path: '/ping', doc: DOCS.ping, handle: ready },
    { method: 'POST', path: '/invocations', doc: DOCS.invocations, handle: score },
    // Azure ML
    { method: 'GET', path: '/', doc: DOCS.root, handle: ready },
    { method: 'POST', path: '/score', doc: DOCS.score, handle: score },
    // The Lambda adapter's routes, so one client works against both
    { method: 'GET', path: '/health', doc: DOCS.health, handle: ready },
    { method: 'POST', path: '/', doc: DOCS.rootPredict, handle: score },
  ];
  // Vertex AI's routes come from its environment and go first, so they win over any default.
  const vertex: Route[] = [];
  if (options.healthRoute) vertex.push({ method: 'GET', path: trimSlash(options.healthRoute), doc: { path: trimSlash(options.healthRoute), kind: 'ready', summary: 'Vertex AI health check (AIP_HEALTH_ROUTE)' }, handle: ready });
  if (options.predictRoute) vertex.push({ method: 'POST', path: trimSlash(options.predictRoute), doc: { path: trimSlash(options.predictRoute), kind: 'predict', summary: 'Vertex AI prediction (AIP_PREDICT_ROUTE): v2 inputs or instances' }, handle: score });
  return withApiDocs([...vertex, ...routes], core, { host: 'HTTP', ...(options.exampleShapes ? { exampleShapes: options.exampleShapes } : {}) });
}

function statsRoute(core: RoutedCore): Route {
  return {
    method: 'GET', path: MODEL_STATS_PATH, doc: { path: '/v2/models/{name}/stats', kind: 'stats', summary: 'KServe v2 statistics of the worker pool: requests, batches, queue and run times' },
    handle: (_r, [name, v]) => {
      checkModel(core, name, v);
      return { status: 200, body: modelStatistics(core.modelName, core.stats!()) };
    },
  };
}

function trimSlash(path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}
