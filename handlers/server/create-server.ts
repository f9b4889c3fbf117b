// The HTTP server adapter over the inference core or the worker pool.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModelSignature } from '../../src/model/types.js';
import { dispatch, errorResult, type RouteRequest, type RouteResult } from '../http.js';
import { InferenceError, type InferenceErrorBody } from '../core/inference-error.js';
import { JsonText } from '../core/response-json.js';
import type { InferenceCore } from '../core/types.js';
import { createWorkerPool } from '../pool/create-worker-pool.js';
import type { BatchingOptions } from '../pool/batching.js';
import { adoptRequestBuffer } from '../core/base64.js';
import { BinaryBody, binaryMediaType, INFERENCE_HEADER_CONTENT_LENGTH } from './binary.js';
import { serverRoutes, type RoutedCore } from './_routes.js';

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ServerOptions {
  /**
   * The inference backend: a worker pool (`createWorkerPool`), the in-process core, or anything
   * with the same interface. A pool's `inferRaw` and `stats` serve binary outputs and the
   * statistics route.
   */
  core: InferenceCore & Pick<RoutedCore, 'inferRaw' | 'stats'>;
  /**
   * Largest request body in bytes; larger bodies get 413.
   * @default 67108864 (64 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Time allowed to receive a whole request (headers and body), in milliseconds.
   * @default 60000
   */
  requestTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open, in milliseconds. Longer than the 60 s idle
   * timeout of the load balancers in front (ALB, SageMaker, Vertex), so they close first.
   * @default 65000
   */
  keepAliveTimeoutMs?: number;
  /** Vertex AI's health route (AIP_HEALTH_ROUTE). @default - none */
  healthRoute?: string;
  /** Vertex AI's predict route (AIP_PREDICT_ROUTE). @default - none */
  predictRoute?: string;
  /** Shapes for the example request in `/openapi.json` and `/docs` (`DM_EXAMPLE_SHAPES`). @default - dynamic dims as 1 */
  exampleShapes?: Record<string, number[]>;
  /**
   * Where server errors (500) are logged.
   * @default console.error
   */
  log?: (line: string) => void;
}

export interface RuntimeServer {
  readonly server: http.Server;
  /** True once `close` has been called. */
  readonly draining: boolean;
  listen(port?: number, host?: string): Promise<AddressInfo>;
  /**
   * Graceful shutdown: stops accepting connections, answers 503 to new requests on open
   * connections, lets in-flight requests finish, then resolves. After `timeoutMs` the remaining
   * connections are cut.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** The JSON header length of a binary tensor data request (0 for any other body). */
function binaryHeaderLength(req: http.IncomingMessage): number {
  const raw = req.headers[INFERENCE_HEADER_CONTENT_LENGTH] ?? binaryMediaType(req.headers['content-type'])?.headerLength;
  const n = Number(raw);
  return typeof raw === 'string' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** A fresh buffer for `bytes` of body whose byte `headerLength` falls on an 8-byte boundary. */
function bodyBuffer(bytes: number, headerLength: number): Buffer {
  const pad = (8 - (headerLength % 8)) % 8;
  const buffer = new ArrayBuffer(pad + bytes);
  adoptRequestBuffer(buffer);
  return Buffer.from(buffer, pad, bytes);
}

function headerRecord(headers: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * The HTTP server adapter on node:http, speaking KServe v2 (with the binary tensor data extension
 * and statistics), SageMaker, Vertex AI and Azure ML. `InferenceSession.run` blocks the thread it
 * runs on, so pass a worker pool (`createWorkerPool`) as `core` to keep this event loop free; the
 * in-process core serves one request at a time.
 */
export function createServer(options: ServerOptions): RuntimeServer {
  const { core } = options;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = options.log ?? ((line: string) => console.error(line));
  let draining = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;

  const routes = serverRoutes(core, { healthRoute: options.healthRoute, predictRoute: options.predictRoute, draining: () => draining, ...(options.exampleShapes ? { exampleShapes: options.exampleShapes } : {}) });

  function send(res: http.ServerResponse, result: RouteResult): void {
    // 503s (overloaded, shutting down) are expected under load; logging each would flood the log.
    if (result.status >= 500 && result.status !== 503) {
      const err = result.body as Partial<InferenceErrorBody>;
      if (typeof err.error === 'string') log(`deploy-model: ${err.code}: ${err.error}`);
    }
    // Binary tensor data responses arrive as pieces of bytes, with their own content-type.
    const json = result.body instanceof JsonText ? result.body : undefined;
    const pieces = result.body instanceof BinaryBody ? result.body : undefined;
    const body = pieces ? '' : Buffer.isBuffer(result.body) ? result.body : json ? json.text : JSON.stringify(result.body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': pieces ? pieces.bytes : json ? json.bytes : Buffer.byteLength(body),
      ...result.headers,
    };
    if (draining) headers.connection = 'close';
    res.writeHead(result.status, headers);
    if (!pieces) return void res.end(body);
    // One writev for the header and every output, none of them copied into one buffer first.
    res.cork();
    for (const piece of pieces.chunks) res.write(piece);
    res.end();
  }

  function tooLarge(bytes: number | undefined): InferenceError {
    return new InferenceError(413, 'PAYLOAD_TOO_LARGE',
      `the request body${bytes === undefined ? '' : ` (${bytes} bytes)`} is over the server's ${maxBody}-byte limit; send large tensors base64-encoded (parameters.content_encoding "base64"), split the batch, or raise maxBodyBytes`);
  }

  /** Reads the body up to the limit; resolves undefined (having answered 413) when it is over. */
  function readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      const reject413 = (bytes: number | undefined) => {
        // Discard the rest of the upload so the client can read the answer, then close.
        req.removeAllListeners('data');
        req.resume();
        res.setHeader('connection', 'close');
        send(res, errorResult(tooLarge(bytes)));
        resolve(undefined);
      };
      if (Number.isFinite(declared) && declared > maxBody) return reject413(declared);
      // With its length known, the body goes straight into a buffer of its own, laid out so the
      // binary tensors after a JSON header start 8-byte aligned: the codec then takes them as
      // they lie, and a worker pool gets the buffer transferred (one copy from the socket, in all).
      const sized = Number.isSafeInteger(declared) && declared >= 0 ? bodyBuffer(declared, binaryHeaderLength(req)) : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        if (sized && size + chunk.length <= sized.length) chunk.copy(sized, size);
        else chunks.push(chunk);
        size += chunk.length;
        if (size > maxBody) return reject413(undefined);
      });
      req.on('end', () => resolve(sized && size === sized.length ? sized : Buffer.concat(sized ? [sized.subarray(0, Math.min(size, sized.length)), ...chunks] : chunks)));
      req.on('error', reject);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    inFlight++;
    try {
      if (draining) {
        req.resume();
        return send(res, errorResult(new InferenceError(503, 'NOT_READY', 'the server is shutting down; retry on another instance')));
      }
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req, res);
      if (res.headersSent) return;
      const url = new URL(req.url ?? '/', 'http://localhost');
      const request: RouteRequest = { method: req.method ?? 'GET', path: url.pathname, headers: headerRecord(req.headers), body };
      send(res, await dispatch(routes, request));
    } catch (e) {
      if (!res.headersSent) send(res, errorResult(e));
      else res.destroy();
    } finally {
      inFlight--;
      if (draining) {
        server.closeIdleConnections();
        if (inFlight === 0) drained?.();
      }
    }
  }

  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  const server = http.createServer({
    requestTimeout,
    keepAliveTimeout,
    // Node requires headersTimeout <= requestTimeout.
    headersTimeout: Math.min(requestTimeout, 60_000),
    // How often Node checks the timeouts above; its default (30 s) would let a short timeout slip.
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
  }, (req, res) => void handle(req, res));
  // A client error (malformed HTTP, a request too slow to arrive) must not take the process down.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const body = JSON.stringify(timeout
      ? { error: `the request was not received within ${requestTimeout} ms`, code: 'REQUEST_TIMEOUT' }
      : { error: `malformed HTTP request (${err.code ?? err.message})`, code: 'BAD_REQUEST' });
    socket.end(`HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\ncontent-type: application/json\r\n`
      + `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });

  return {
    server,
    get draining() { return draining; },
    listen(port = 8080, host = '0.0.0.0') {
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    async close({ timeoutMs = 30_000 } = {}) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const finished = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => { drained = resolve; });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => { server.closeAllConnections(); resolve(); }, timeoutMs);
        timer.unref();
      });
      await Promise.race([finished.then(() => closed), deadline]);
      clearTimeout(timer);
    },
  };
}

export interface StartServerOptions extends Omit<ServerOptions, 'core'> {
  /** A ready core or pool; otherwise one is created from `modelPath` and `signature`. */
  core?: ServerOptions['core'];
  modelPath?: string;
  signature?: ModelSignature;
  /** @default 'model' */
  modelName?: string;
  /** @default ['cpu'] */
  executionProviders?: string[];
  /**
   * Worker threads running the model; 0 runs it on the server's own thread (in-process core).
   * @default - one per CPU (see `poolSize`)
   */
  workers?: number;
  /** @default - the CPUs divided by the workers */
  intraOpThreads?: number;
  /** Dynamic batching in the pool. @default - off */
  batching?: BatchingOptions;
  /** Requests waiting for a worker beyond which the server answers 503. @default 256 */
  maxQueue?: number;
  /** @default 8080 (SageMaker's port) */
  port?: number;
  /** @default '0.0.0.0' */
  host?: string;
}

export interface StartedServer extends RuntimeServer {
  readonly core: ServerOptions['core'];
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
}

/**
 * Creates the core (unless given one), the server, and listens. `close` also releases a core that
 * this call created.
 */
export async function startServer(options: StartServerOptions): Promise<StartedServer> {
  const { core: given, modelPath, signature, modelName, executionProviders, workers, intraOpThreads, batching, maxQueue, port, host, ...serverOptions } = options;
  let core = given;
  if (!core) {
    if (!modelPath || !signature) throw new Error('startServer needs either `core`, or `modelPath` and `signature`');
    const coreOptions = {
      modelPath, signature, modelName: modelName ?? 'model',
      ...(executionProviders ? { executionProviders } : {}),
      ...(intraOpThreads === undefined ? {} : { intraOpThreads }),
      ...(serverOptions.log ? { log: serverOptions.log } : {}),
    };
    core = workers === 0
      ? await (await import('../core/create-inference-core.js')).createInferenceCore(coreOptions)
      : await createWorkerPool({ ...coreOptions, ...(workers === undefined ? {} : { workers }), ...(batching ? { batching } : {}), ...(maxQueue === undefined ? {} : { maxQueue }) });
  }
  const owned = !given;
  const runtime = createServer({ ...serverOptions, core });
  let address: AddressInfo;
  try {
    address = await runtime.listen(port ?? 8080, host ?? '0.0.0.0');
  } catch (e) {
    if (owned) await core.close();
    throw e;
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const started = core;
  return {
    server: runtime.server,
    get draining() { return runtime.draining; },
    listen: runtime.listen,
    async close(closeOptions) {
      await runtime.close(closeOptions);
      if (owned) await started.close();
    },
    core: started,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
  };
}
