// The Lambda Runtime API a local function's runtime polls for work.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { canIdentifyPeers, isPeerInProcessTree } from './_peer-socket.js';

/** Lambda's synchronous payload limit for an invocation request (the Invoke API's own limit). */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * What the Runtime API accepts from the runtime as a response: 6 MiB and 100 bytes
 * (`MaxPayloadSize` of Lambda's runtime interface emulator, interop/model.go).
 */
export const MAX_RESPONSE_PAYLOAD_BYTES = MAX_SYNC_PAYLOAD_BYTES + 100;

const PREFIX = '/2018-06-01/runtime';

export interface RuntimeInvocation {
  requestId: string;
  /** The event, JSON bytes. */
  payload: Buffer;
  /** Epoch milliseconds by which the function must answer. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  /** Client context as JSON text. */
  clientContext?: string;
}

export type RuntimeOutcome =
  | { kind: 'response'; body: Buffer }
  | { kind: 'error'; body: Buffer; errorType?: string };

export interface RuntimeApiHooks {
  /** The runtime polled for the next event: init is over (on the first poll) and it is idle. */
  onNext?(): void;
  /** The runtime reported that init failed; `body` is its error document. */
  onInitError?(body: Buffer, errorType: string | undefined): void;
  /**
   * The process the API serves: only connections that it, or a process it started, holds are
   * answered, as Lambda's Runtime API is reachable only from inside the execution environment.
   * Unset (or `undefined` returned) refuses every connection where the machine can tell peers
   * apart (Linux); elsewhere nothing is checked.
   */
  runtimePid?(): number | undefined;
  /** A connection from another process was closed unanswered. */
  onRefused?(clientPort: number): void;
}

export interface RuntimeApi {
  /** `127.0.0.1:<port>`, the value of AWS_LAMBDA_RUNTIME_API. */
  readonly address: string;
  /** Hands an event to the runtime (at once, or at its next poll); resolves with what it posts back. */
  dispatch(invocation: RuntimeInvocation): Promise<RuntimeOutcome>;
  /** Whether the runtime has received the event and not answered it yet (a runtime that dies before never saw it). */
  delivered(requestId: string): boolean;
  close(): Promise<void>;
}

interface Pending {
  invocation: RuntimeInvocation;
  resolve(outcome: RuntimeOutcome): void;
}

/**
 * Serves the Lambda Runtime API (2018-06-01) on loopback for one execution environment: the
 * runtime long-polls `invocation/next`, then posts `invocation/{id}/response` or `/error`, or
 * `init/error` when it cannot start. One server per environment, so a killed environment's late
 * calls can never touch its successor, and it answers only connections held by the runtime
 * process or a process it started (see `runtimePid`): no other local process can take an event,
 * answer one, or stall the queue by polling.
 */
export async function startRuntimeApi(hooks: RuntimeApiHooks = {}): Promise<RuntimeApi> {
  const queue: Pending[] = [];
  const pollers: http.ServerResponse[] = [];
  // Delivered and not answered yet: at most one for a runtime that takes one event at a time.
  const inFlight = new Map<string, Pending>();
  const checkPeers = canIdentifyPeers();

  const deliver = () => {
    while (queue.length > 0 && pollers.length > 0) {
      const res = pollers.shift() as http.ServerResponse;
      if (res.destroyed || res.writableEnded) continue;
      const pending = queue.shift() as Pending;
      const inv = pending.invocation;
      inFlight.set(inv.requestId, pending);
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': inv.requestId,
        'lambda-runtime-deadline-ms': String(inv.deadlineMs),
        'lambda-runtime-invoked-function-arn': inv.invokedFunctionArn,
        'lambda-runtime-trace-id': inv.traceId,
      };
      if (inv.clientContext !== undefined) headers['lambda-runtime-client-context'] = inv.clientContext;
      res.writeHead(200, headers).end(inv.payload);
    }
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const answer = (status: number, doc: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    };
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
      pollers.push(res);
      res.on('close', () => {
        const i = pollers.indexOf(res);
        if (i >= 0) pollers.splice(i, 1);
      });
      hooks.onNext?.();
      deliver();
      return;
    }
    readBody(req, MAX_RESPONSE_PAYLOAD_BYTES).then(({ body, tooLarge }) => {
      const errorType = headerValue(req.headers['lambda-runtime-function-error-type']);
      if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
        hooks.onInitError?.(body, errorType);
        answer(202, { status: 'OK' });
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method !== 'POST' || !m) {
        answer(404, { errorType: 'InvalidRequest', errorMessage: `Unknown Runtime API route ${req.method} ${url}` });
        return;
      }
      const id = decodeURIComponent(m[1]);
      const pending = inFlight.get(id);
      if (!pending) {
        answer(400, { errorType: 'InvalidRequestID', errorMessage: `Invalid request ID: ${id}` });
        return;
      }
      inFlight.delete(id);
      if (tooLarge) {
        answer(413, { errorType: 'RequestEntityTooLarge', errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).` });
        pending.resolve({
          kind: 'error',
          errorType: 'Function.ResponseSizeTooLarge',
          body: Buffer.from(JSON.stringify({
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_PAYLOAD_BYTES} bytes).`,
          })),
        });
        return;
      }
      answer(202, { status: 'OK' });
      pending.resolve(m[2] === 'response' ? { kind: 'response', body } : { kind: 'error', body, errorType });
    }, () => res.destroy());
  });
  let port = 0;
  server.on('connection', (socket: Socket) => {
    if (!checkPeers) return;
    const pid = hooks.runtimePid?.();
    const clientPort = socket.remotePort ?? 0;
    // Checked before a byte is read, so another process can neither take nor answer an event.
    if (pid === undefined || !isPeerInProcessTree(clientPort, port, pid)) {
      socket.destroy();
      hooks.onRefused?.(clientPort);
    }
  });
  // The runtime holds a long poll open for as long as the function idles.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    address: `127.0.0.1:${port}`,
    dispatch(invocation) {
      return new Promise<RuntimeOutcome>((resolve) => {
        queue.push({ invocation, resolve });
        deliver();
      });
    },
    delivered: (requestId) => inFlight.has(requestId),
    async close() {
      for (const res of pollers.splice(0)) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Reads a body, keeping at most `limit` bytes; the rest is drained and reported as too large. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve({ body: size <= limit ? Buffer.concat(chunks) : Buffer.alloc(0), tooLarge: size > limit, size }));
    req.on('error', reject);
  });
}
