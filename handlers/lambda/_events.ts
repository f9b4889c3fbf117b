// Reads the Lambda events that carry HTTP (Function URLs, API Gateway, ALB) into route requests.
import type { RouteRequest } from '../http.js';

/**
 * Lambda events that carry HTTP: Function URLs and API Gateway HTTP APIs (payload 2.0), and API
 * Gateway REST APIs (payload 1.0, also the shape ALB sends). Anything else is a direct invoke.
 */

export type HttpEventKind = 'v2' | 'v1';

export interface HttpEvent extends RouteRequest {
  kind: HttpEventKind;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lowerHeaders(headers: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!isObject(headers)) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
  }
  return out;
}

/** A text body stays the string it arrived as: turning it into bytes and back cost two copies. */
function decodeBody(body: unknown, isBase64Encoded: unknown): Buffer | string | undefined {
  if (typeof body !== 'string') return undefined;
  return isBase64Encoded === true ? Buffer.from(body, 'base64') : body;
}

/** An HTTP API stage other than `$default` prefixes rawPath with `/{stage}`; routes ignore it. */
function stripStage(path: string, stage: unknown): string {
  if (typeof stage !== 'string' || stage === '' || stage === '$default') return path;
  const prefix = `/${stage}`;
  if (path === prefix) return '/';
  return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
}

/** The HTTP request inside a Lambda event, or undefined when the event is not an HTTP event. */
export function httpEventRequest(event: unknown): HttpEvent | undefined {
  if (!isObject(event)) return undefined;
  const ctx = isObject(event.requestContext) ? event.requestContext : {};
  if (event.version === '2.0' && isObject(ctx.http) && typeof ctx.http.method === 'string') {
    const rawPath = typeof event.rawPath === 'string' ? event.rawPath : typeof ctx.http.path === 'string' ? ctx.http.path : '/';
    const body = decodeBody(event.body, event.isBase64Encoded);
    return { kind: 'v2', method: ctx.http.method, path: stripStage(rawPath, ctx.stage), headers: lowerHeaders(event.headers), body };
  }
  if (typeof event.httpMethod === 'string' && typeof event.path === 'string') {
    const body = decodeBody(event.body, event.isBase64Encoded);
    return { kind: 'v1', method: event.httpMethod, path: event.path, headers: lowerHeaders(event.headers), body };
  }
  return undefined;
}
