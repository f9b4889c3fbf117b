import { checkModel, MODEL_INFER_PATH, MODEL_PATH, MODEL_READY_PATH, parseJsonBody, type Route, type RouteRequest, type RouteResult } from '../_http.js';
import { InferenceError } from '../core/inference-error.js';
import { isInstancesRequest } from '../core/instances.js';
import { predict } from '../core/predict.js';
import type { InferenceCore } from '../core/types.js';

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
export function serverRoutes(core: Pick<InferenceCore, 'infer' | 'metadata' | 'modelName' | 'signature'>, options: ServerRouteOptions): Route[] {
  const ready = (): RouteResult => {
    if (options.draining()) throw new InferenceError(503, 'NOT_READY', 'the server is shutting down');
    return { status: 200, body: { status: 'ready' } };
  };
  const live = (): RouteResult => ({ status: 200, body: { status: 'live' } });
  const score = async (req: RouteRequest): Promise<RouteResult> => ({ status: 200, body: await predict(core, parseJsonBody(req)) });

  const routes: Route[] = [
    // KServe v2 / Open Inference Protocol
    { method: 'GET', path: '/v2', handle: () => ({ status: 200, body: { name: 'deploy-model', version: '1', extensions: [] } }) },
    { method: 'GET', path: '/v2/health/live', handle: live },
    { method: 'GET', path: '/v2/health/ready', handle: ready },
    { method: 'GET', path: MODEL_PATH, handle: (_r, [name, v]) => { checkModel(core, name, v); return { status: 200, body: core.metadata() }; } },
    { method: 'GET', path: MODEL_READY_PATH, handle: (_r, [name, v]) => { checkModel(core, name, v); ready(); return { status: 200, body: { name, ready: true } }; } },
    {
      method: 'POST', path: MODEL_INFER_PATH, handle: async (req, [name, v]) => {
        checkModel(core, name, v);
        const body = parseJsonBody(req);
        if (isInstancesRequest(body)) throw new InferenceError(400, 'INVALID_REQUEST', 'the v2 infer route takes { "inputs": [...] }; send { "instances": [...] } to a predict route such as POST /invocations');
        return { status: 200, body: await core.infer(body as never) };
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
