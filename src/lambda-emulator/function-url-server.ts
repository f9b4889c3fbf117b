// Serves a local function through a Function URL on loopback.
import http from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DeployModelError } from '../errors.js';
import { MAX_SYNC_PAYLOAD_BYTES, readBody } from './runtime-api.js';
import { iamCaller, toFunctionUrlEvent, toFunctionUrlResponse, type HttpResponseLike } from './function-url-event.js';
import { newTraceId } from './_trace-id.js';
import type { InvokeOptions, InvokeResult } from './types.js';

/** What the front calls into: a local function, or a fake Lambda service's function. */
export interface FunctionUrlTarget {
  readonly functionName: string;
  /** Unqualified ARN. */
  readonly functionArn: string;
  invokeRaw(payload: Buffer | string, options?: InvokeOptions): Promise<InvokeResult>;
  /** The GetFunctionConfiguration document; it doubles as the health check. */
  configuration(): Record<string, unknown>;
  /** What `GET /2015-03-31/functions/{name}/local-stats` answers: the emulator's own figures. */
  localStats?(): unknown;
}

export interface FunctionUrlServerOptions {
  /** @default - a free port */
  port?: number;
  /**
   * The URL's auth type. AWS_IAM events carry the caller's account and
   * `requestContext.authorizer.iam`; the signature itself is not verified locally.
   * @default 'AWS_IAM' (what the aws-lambda target deploys)
   */
  authType?: 'AWS_IAM' | 'NONE';
  /** The caller's account for AWS_IAM events. @default - the account of the function's ARN */
  accountId?: string;
}

export interface FunctionUrlServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const CONFIG_PATH = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/;
const STATS_PATH = /^\/2015-03-31\/functions\/([^/]+)\/local-stats$/;

/**
 * HTTP on 127.0.0.1 in front of one function: every request becomes a Function URL event, except
 * Lambda's own REST paths under `/2015-03-31/functions/{name}/` (Invoke and
 * GetFunctionConfiguration), so `@aws-sdk/client-lambda` pointed at this URL works too, and the
 * emulator's `local-stats` beside them (no Lambda API: peak memory, cold starts, warnings).
 */
export async function startFunctionUrlServer(target: FunctionUrlTarget, options: FunctionUrlServerOptions = {}): Promise<FunctionUrlServer> {
  const apiId = createHash('sha256').update(target.functionArn).digest('hex').slice(0, 32);
  const callerAccount = options.accountId ?? target.functionArn.split(':')[4];
  const iam = (options.authType ?? 'AWS_IAM') === 'AWS_IAM';
  let port = 0;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const invoke = INVOKE_PATH.exec(path);
    const config = CONFIG_PATH.exec(path);
    const stats = STATS_PATH.exec(path);
    const handled = invoke && req.method === 'POST'
      ? serveInvokeApi(target, req, res, invoke[1])
      : config && req.method === 'GET'
        ? serveDocument(target, req, res, config[1], () => target.configuration())
        : stats && req.method === 'GET' && target.localStats
          ? serveDocument(target, req, res, stats[1], () => target.localStats?.())
          : serveFunctionUrl(target, req, res, apiId, port, iam ? callerAccount : undefined);
    handled.catch((error: unknown) => {
      if (!res.headersSent) send(res, { statusCode: 500, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ message: String(error) })) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE'
        ? new DeployModelError('LOCAL_PORT_IN_USE', `Port ${options.port} on 127.0.0.1 is already in use, so the local Function URL of ${target.functionName} cannot listen there. Choose another port or leave it out to get a free one.`, { cause: error, details: { port: options.port } })
        : error);
    });
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function serveFunctionUrl(target: FunctionUrlTarget, req: http.IncomingMessage, res: http.ServerResponse, apiId: string, port: number, iamAccount: string | undefined): Promise<void> {
  const { body, tooLarge } = await readBody(req, MAX_SYNC_PAYLOAD_BYTES);
  const requestId = randomUUID();
  const event = toFunctionUrlEvent({
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    body,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    protocol: `HTTP/${req.httpVersion}`,
  }, { apiId, requestId, time: new Date(), port, traceId: newTraceId(), ...(iamAccount ? { iam: iamCaller(req.headers, iamAccount) } : {}) });
  const payload = Buffer.from(JSON.stringify(event));
  if (tooLarge || payload.length > MAX_SYNC_PAYLOAD_BYTES) {
    // Lambda's own answer carries only `message`; the Open Inference Protocol's `error` and our
    // code are added so that v2 clients read it like every other error of the endpoint.
    const body = {
      message: 'Request Entity Too Large',
      error: `the request's Function URL event is ${tooLarge ? `over ${MAX_SYNC_PAYLOAD_BYTES}` : payload.length} bytes, over Lambda's ${MAX_SYNC_PAYLOAD_BYTES}-byte limit for a synchronous invocation; send large tensors base64-encoded (parameters.content_encoding "base64"), split the batch, or deploy to the container target`,
      code: 'PAYLOAD_TOO_LARGE',
    };
    send(res, { statusCode: 413, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) });
    return;
  }
  const result = await target.invokeRaw(payload, { traceId: event.headers['x-amzn-trace-id'] });
  const response = toFunctionUrlResponse(result);
  response.headers['x-amzn-requestid'] = requestId;
  send(res, response);
}

async function serveInvokeApi(target: FunctionUrlTarget, req: http.IncomingMessage, res: http.ServerResponse, rawName: string): Promise<void> {
  const { body, tooLarge } = await readBody(req, MAX_SYNC_PAYLOAD_BYTES);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const named = parseFunctionName(decodeURIComponent(rawName));
  const qualifier = url.searchParams.get('Qualifier') ?? named.qualifier;
  if (named.name !== target.functionName) {
    const arn = named.name.startsWith('arn:') ? named.name : target.functionArn.replace(/[^:]+$/, named.name);
    sendApiError(res, 404, 'ResourceNotFoundException', `Function not found: ${arn}${qualifier ? `:${qualifier}` : ''}`);
    return;
  }
  if (tooLarge) {
    sendApiError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    return;
  }
  const payload = body.length === 0 ? Buffer.from('{}') : body;
  try {
    JSON.parse(payload.toString('utf8'));
  } catch (error) {
    sendApiError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
    return;
  }
  const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  const requestId = randomUUID();
  if (invocationType === 'DryRun') {
    send(res, { statusCode: 204, headers: { 'x-amzn-requestid': requestId }, body: Buffer.alloc(0) });
    return;
  }
  const clientContextB64 = header(req, 'x-amz-client-context');
  const invokeOptions = {
    qualifier: qualifier ?? undefined,
    clientContext: clientContextB64 ? Buffer.from(clientContextB64, 'base64').toString('utf8') : undefined,
  };
  if (invocationType === 'Event') {
    // Asynchronous invocation: accepted now, run in order with the others, result discarded.
    target.invokeRaw(payload, invokeOptions).catch(() => undefined);
    send(res, { statusCode: 202, headers: { 'x-amzn-requestid': requestId }, body: Buffer.alloc(0) });
    return;
  }
  const result = await target.invokeRaw(payload, invokeOptions);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amzn-requestid': result.requestId,
    'x-amz-executed-version': result.executedVersion,
  };
  if (result.functionError) headers['x-amz-function-error'] = result.functionError;
  if (header(req, 'x-amz-log-type') === 'Tail') headers['x-amz-log-result'] = Buffer.from(result.logs, 'utf8').toString('base64');
  send(res, { statusCode: 200, headers, body: result.rawPayload });
}

async function serveDocument(target: FunctionUrlTarget, req: http.IncomingMessage, res: http.ServerResponse, rawName: string, document: () => unknown): Promise<void> {
  req.resume();
  const named = parseFunctionName(decodeURIComponent(rawName));
  if (named.name !== target.functionName) {
    sendApiError(res, 404, 'ResourceNotFoundException', `Function not found: ${named.name}`);
    return;
  }
  send(res, { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(document())) });
}

/** `name`, `name:qualifier`, `123456789012:function:name[:q]` or the full ARN. */
export function parseFunctionName(value: string): { name: string; qualifier?: string } {
  const parts = value.split(':');
  const fn = parts.indexOf('function');
  if (fn >= 0 && fn + 1 < parts.length) return { name: parts[fn + 1], qualifier: parts[fn + 2] };
  return { name: parts[0], qualifier: parts[1] };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendApiError(res: http.ServerResponse, status: number, type: string, message: string): void {
  send(res, {
    statusCode: status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': randomUUID() },
    body: Buffer.from(JSON.stringify({ Type: 'User', message })),
  });
}

function send(res: http.ServerResponse, response: HttpResponseLike): void {
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': String(response.body.length) });
  res.end(response.body);
}
