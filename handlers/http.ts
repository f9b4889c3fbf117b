// What the Lambda and HTTP server adapters share: a reduced request, the route table, JSON results.
import type { ModelSignature } from '../src/model/types.js';
import type { RouteDoc } from './api-docs/openapi-document.js';
import { InferenceError, toInferenceError } from './core/inference-error.js';
import { parseRequestJson } from './core/parse-request-json.js';
import { JsonText } from './core/response-json.js';
import type { InferenceCore } from './core/types.js';

/**
 * What the Lambda and HTTP server adapters share: a request reduced to method, path, headers and
 * body, a route table, and JSON results. Adapters translate their events to this and back.
 */
export interface RouteRequest {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string | undefined>;
  /** Bytes, or text as a Lambda event carries a body that is not base64-encoded. */
  body?: Buffer | string;
}

export interface RouteResult {
  status: number;
  /** Serialised with JSON.stringify; a `JsonText` is sent as it is, a Buffer (server) as bytes. */
  body: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST';
  /** An exact path, or a pattern whose groups are handed to `handle`. */
  path: string | RegExp;
  /** What `/openapi.json` says of it. */
  doc: RouteDoc;
  handle(req: RouteRequest, params: string[]): RouteResult | Promise<RouteResult>;
}

/** What `/openapi.json` says of the routes both adapters serve. */
export const DOCS = {
  server: { path: '/v2', kind: 'server-metadata', summary: 'Server metadata (KServe v2)' },
  live: { path: '/v2/health/live', kind: 'live', summary: 'Liveness (KServe v2)' },
  ready: { path: '/v2/health/ready', kind: 'ready', summary: 'Readiness (KServe v2)' },
  model: { path: '/v2/models/{name}', kind: 'model-metadata', summary: 'Model metadata: inputs and outputs with datatypes and shapes (KServe v2)' },
  modelReady: { path: '/v2/models/{name}/ready', kind: 'model-ready', summary: 'Model readiness (KServe v2)' },
  infer: { path: '/v2/models/{name}/infer', kind: 'infer', summary: 'Inference (KServe v2 / Open Inference Protocol)' },
  ping: { path: '/ping', kind: 'ready', summary: 'SageMaker health check' },
  invocations: { path: '/invocations', kind: 'predict', summary: 'SageMaker prediction: v2 inputs or instances' },
  root: { path: '/', kind: 'ready', summary: 'Readiness' },
  score: { path: '/score', kind: 'predict', summary: 'Azure ML scoring: v2 inputs or instances' },
  health: { path: '/health', kind: 'ready', summary: 'Readiness' },
  rootPredict: { path: '/', kind: 'predict', summary: 'Prediction: v2 inputs or instances' },
} as const satisfies Record<string, RouteDoc>;

/** A body sent as it is (with the route's own content-type), such as an HTML page. */
export class TextBody extends JsonText {
  constructor(text: string) {
    super(text, Buffer.byteLength(text));
  }

  override toJSON(): unknown {
    return this.text;
  }
}

/** `/v2/models/{name}` and `/v2/models/{name}/versions/{version}`, with an optional action. */
export const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?$/;
export const MODEL_READY_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/ready$/;
export const MODEL_INFER_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer$/;

function match(route: Route, path: string): string[] | undefined {
  if (typeof route.path === 'string') return route.path === path ? [] : undefined;
  const m = route.path.exec(path);
  return m ? m.slice(1).map((g) => (g === undefined ? '' : safeDecode(g))) : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function errorResult(e: unknown, headers?: Record<string, string>): RouteResult {
  const err = toInferenceError(e);
  return { status: err.status, body: err.body, ...(headers ? { headers } : {}) };
}

/** Finds the route and runs it. Never throws: every failure becomes a JSON error result. */
export async function dispatch(routes: readonly Route[], req: RouteRequest): Promise<RouteResult> {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  const method = req.method.toUpperCase() === 'HEAD' ? 'GET' : req.method.toUpperCase();
  const allowed = new Set<string>();
  try {
    for (const route of routes) {
      const params = match(route, path);
      if (!params) continue;
      if (route.method === method) return await route.handle(req, params);
      allowed.add(route.method);
    }
  } catch (e) {
    return errorResult(e);
  }
  if (allowed.size) {
    const allow = [...allowed].join(', ');
    return errorResult(new InferenceError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${allow}`), { allow });
  }
  return errorResult(new InferenceError(404, 'ROUTE_NOT_FOUND', `no route for ${method} ${path}`));
}

/** True for `application/json`, `text/json` and `…+json` media types. */
function isJsonMediaType(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/**
 * Parses a JSON body: 415 for a content-type that is neither JSON nor absent, 400 BAD_JSON otherwise.
 * Tensor data comes back as typed arrays where it can (`parseRequestJson`); with `signature`, the
 * simple form's float32 inputs too.
 */
export function parseJsonBody(req: RouteRequest, signature?: Pick<ModelSignature, 'inputs'>): unknown {
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && contentType !== '' && !isJsonMediaType(contentType)) {
    throw new InferenceError(415, 'UNSUPPORTED_MEDIA_TYPE', `content-type "${contentType}" is not supported; send the request as JSON with content-type: application/json`);
  }
  const body = req.body ?? '';
  try {
    return parseRequestJson(body, signature ? float32Inputs(signature) : undefined);
  } catch (e) {
    // Errors as JSON.parse words them, on the text as it was decoded (an empty body has its own).
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') throw new InferenceError(400, 'BAD_JSON', 'the request body is empty; send a JSON inference request');
    throw new InferenceError(400, 'BAD_JSON', `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

function float32Inputs(signature: Pick<ModelSignature, 'inputs'>): (name: string) => boolean {
  return (name) => signature.inputs.some((s) => s.name === name && s.dtype === 'float32');
}

/** Checks `/v2/models/{name}[/versions/{v}]` names this model. */
export function checkModel(core: Pick<InferenceCore, 'modelName'>, name: string, version: string): void {
  if (name !== core.modelName) {
    throw new InferenceError(404, 'MODEL_NOT_FOUND', `model "${name}" is not served here; this endpoint serves "${core.modelName}"`);
  }
  if (version !== '' && version !== '1') {
    throw new InferenceError(404, 'MODEL_NOT_FOUND', `model "${name}" has no version "${version}"; the only version is "1"`);
  }
}
