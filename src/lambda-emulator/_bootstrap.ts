/**
 * The runtime that runs inside a local execution environment, in the place of Lambda's managed
 * Node runtime (`/var/runtime/index.mjs`): it loads the handler exactly as that runtime resolves
 * `_HANDLER`, reports init errors, then polls the Runtime API for events and posts results.
 *
 * It is bundled into one plain ESM file by layoutFunction and started with bare `node`, so it may
 * import Node built-ins only. Never import this module: it starts polling when loaded.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const requireFromRuntime = createRequire(import.meta.url);

/** Error classes named as the managed runtime names them (`Runtime.ImportModuleError`, ...). */
class RuntimeError extends Error {
  constructor(message: string, name: string) {
    super(message);
    this.name = `Runtime.${name}`;
  }
}

interface ErrorDocument {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

function toErrorDocument(error: unknown): ErrorDocument {
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      const e = error as Error;
      return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return { errorType: 'handled', errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack' };
  }
}

function looksLikeError(o: unknown): boolean {
  const e = o as Partial<Error> | null;
  return !!e && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string';
}

function toFormatted(error: unknown): string {
  try {
    return '\t' + JSON.stringify(error, (_k, v: unknown) => {
      if (!(v instanceof Error)) return v;
      const out: Record<string, unknown> = { errorType: v.name, errorMessage: v.message, code: (v as { code?: unknown }).code, ...v };
      if (typeof v.stack === 'string') out.stack = v.stack.split('\n');
      return out;
    });
  } catch {
    return '\t' + JSON.stringify(toErrorDocument(error));
  }
}

// ---- logging: console lines carry time, request id and level, as on Lambda ----

let currentRequestId: string | undefined;

function patchConsole(): void {
  const write = (level: string) => (...args: unknown[]) => {
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`);
  };
  console.log = write('INFO');
  console.info = write('INFO');
  console.debug = write('DEBUG');
  console.warn = write('WARN');
  console.error = write('ERROR');
  console.trace = write('TRACE');
}

/**
 * Marks the end of an invocation's output on stdout and stderr before its result is posted, so
 * the executor knows when it holds the whole log of the invocation (pipes and HTTP race).
 */
function flushMarker(requestId: string): Promise<void> {
  // A container image on Lambda logs to CloudWatch, where the marker would be noise.
  if (process.env.DM_RUNTIME_LOG_MARKERS === 'off') return Promise.resolve();
  const marker = `\u0000DM_LOCAL_END ${requestId}\n`;
  const one = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => {
    try { stream.write(marker, () => resolve()); } catch { resolve(); }
  });
  return Promise.all([one(process.stdout), one(process.stderr)]).then(() => undefined);
}

// ---- the Runtime API client ----

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '';
const [apiHost, apiPort] = api.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

interface ApiResponse { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function call(method: string, urlPath: string, body?: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: apiHost,
      port: Number(apiPort),
      path: `/2018-06-01/runtime${urlPath}`,
      method,
      agent,
      headers: body === undefined ? headers : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function apiGone(error: unknown): never {
  process.stderr.write(`The Lambda Runtime API at ${api} went away (${String(error)}); the execution environment stops.\n`);
  process.exit(1);
}

async function postInitError(error: unknown): Promise<void> {
  const doc = toErrorDocument(error);
  await call('POST', '/init/error', JSON.stringify(doc), { 'lambda-runtime-function-error-type': doc.errorType }).catch(apiGone);
}

async function postInvocationError(requestId: string, error: unknown): Promise<void> {
  const doc = toErrorDocument(error);
  await flushMarker(requestId);
  await call('POST', `/invocation/${requestId}/error`, JSON.stringify(doc), { 'lambda-runtime-function-error-type': doc.errorType }).catch(apiGone);
}

async function postInvocationResponse(requestId: string, result: unknown): Promise<void> {
  let body: string;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch {
    await postInvocationError(requestId, new Error('Unable to stringify response body'));
    return;
  }
  await flushMarker(requestId);
  await call('POST', `/invocation/${requestId}/response`, body).catch(apiGone);
}

// ---- loading the handler, as the managed runtime resolves `_HANDLER` ----

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');

/** The content type that tells a Function URL the stream starts with a JSON prelude. */
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

/**
 * `awslambda.HttpResponseStream` of the managed runtime: `from(stream, { statusCode, headers })`
 * makes the first write of a response stream send the JSON prelude and 8 zero bytes before the
 * body. Streaming handlers are refused locally, but code that only refers to it must load.
 */
class HttpResponseStream {
  static from<T extends NodeJS.WritableStream & { setContentType?: (type: string) => void }>(stream: T, prelude: unknown): T {
    stream.setContentType?.(HTTP_INTEGRATION_CONTENT_TYPE);
    const head = Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8)]);
    const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    let first = true;
    stream.write = ((...args: unknown[]) => {
      if (first) {
        first = false;
        write(head);
      }
      return write(...args);
    }) as T['write'];
    return stream;
  }
}

type Handler = (event: unknown, context: unknown, callback: (err?: unknown, result?: unknown) => void) => unknown;

async function loadHandler(appRoot: string, fullHandler: string): Promise<Handler> {
  if (fullHandler.includes('..')) {
    throw new RuntimeError(`'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`, 'MalformedHandlerName');
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match) throw new RuntimeError('Bad handler', 'MalformedHandlerName');
  const [, moduleName, handlerPath] = match;

  (globalThis as Record<string, unknown>).awslambda = {
    streamifyResponse: (h: Record<symbol, unknown>) => { h[STREAMING] = 'response'; return h; },
    HttpResponseStream,
  };
  let app: unknown;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new RuntimeError(String(e), 'UserCodeSyntaxError');
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND') throw new RuntimeError(String(e), 'ImportModuleError');
    throw e;
  }
  const fn = handlerPath.split('.').reduce<unknown>((o, key) => (o ? (o as Record<string, unknown>)[key] : undefined), app);
  if (!fn) throw new RuntimeError(`${fullHandler} is undefined or not exported`, 'HandlerNotFound');
  if (typeof fn !== 'function') throw new RuntimeError(`${fullHandler} is not a function`, 'HandlerNotFound');
  if ((fn as unknown as Record<symbol, unknown>)[STREAMING] !== undefined) {
    throw new RuntimeError(`${fullHandler} is a response streaming handler (awslambda.streamifyResponse); the local executor answers buffered invocations only.`, 'MalformedStreamingHandler');
  }
  return fn as Handler;
}

/** Extensionless, then .js (CommonJS unless package.json says module), .mjs, .cjs, then node resolution. */
async function loadModule(appRoot: string, moduleRoot: string, moduleName: string): Promise<unknown> {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const tryRequire = (ext = ''): unknown => (fs.existsSync(base + ext) ? requireFromRuntime(base + ext) : undefined);
  const tryImport = async (ext: string): Promise<unknown> => (fs.existsSync(base + ext) ? import(pathToFileURL(base + ext).href) : undefined);

  const extensionless = tryRequire();
  if (extensionless) return extensionless;
  const typeModule = fs.existsSync(base + '.js') && folderIsTypeModule(path.dirname(base + '.js'));
  if (!typeModule) {
    const js = tryRequire('.js');
    if (js) return js;
  }
  const loaded = (typeModule && (await tryImport('.js'))) || (await tryImport('.mjs')) || tryRequire('.cjs');
  if (loaded) return loaded;
  return requireFromRuntime(requireFromRuntime.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

function folderIsTypeModule(folder: string): boolean {
  if (folder.endsWith('/node_modules')) return false;
  const pj = path.join(folder, 'package.json');
  if (fs.existsSync(pj)) {
    try {
      return (JSON.parse(fs.readFileSync(pj, 'utf8')) as { type?: unknown } | null)?.type === 'module';
    } catch {
      return false;
    }
  }
  const parent = path.dirname(folder);
  return parent === folder ? false : folderIsTypeModule(parent);
}

// ---- the invoke loop ----

interface NextEvent { requestId: string; body: string; headers: http.IncomingHttpHeaders }

async function nextInvocation(): Promise<NextEvent> {
  const res = await call('GET', '/invocation/next').catch(apiGone);
  if (res.status !== 200) apiGone(`GET /invocation/next answered ${res.status}`);
  const requestId = String(res.headers['lambda-runtime-aws-request-id'] ?? '');
  return { requestId, body: res.body.toString('utf8'), headers: res.headers };
}

let beforeExit: () => void = () => {};
let onUncaught: (error: unknown, exitCode: number) => void = (error, exitCode) => {
  void postInitError(error).then(() => process.exit(exitCode));
};

function parseHeaderJson(value: string | string[] | undefined, name: string): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new Error(`Cannot parse ${name} as json: ${String(e)}`);
  }
}

function invokeOnce(handler: Handler, next: NextEvent): Promise<void> {
  return new Promise<void>((resolve) => {
    const { requestId, headers } = next;
    currentRequestId = requestId;
    const trace = headers['lambda-runtime-trace-id'];
    if (typeof trace === 'string') process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;

    let finished = false;
    let waitForEmptyEventLoop = true;
    const complete = (result: unknown) => { void postInvocationResponse(requestId, result).then(resolve); };
    const fail = (error: unknown) => {
      console.error('Invoke Error', toFormatted(error instanceof Error ? error : new Error(String(error))));
      void postInvocationError(requestId, error).then(resolve);
    };
    const once = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
      if (finished) return;
      finished = true;
      beforeExit = () => {};
      fn(...args);
    };
    const done = once((err?: unknown, result?: unknown) => (err !== undefined && err !== null ? fail(err) : complete(result)));
    const callback = once((err?: unknown, result?: unknown) => {
      if (err !== undefined && err !== null) fail(err);
      else if (!waitForEmptyEventLoop) complete(result);
      // The callback style answers once the event loop is empty, unless the handler opts out.
      else beforeExit = () => setImmediate(() => { beforeExit = () => {}; complete(result); });
    });
    // A handler that neither returns a promise nor calls back answers null when the loop empties.
    beforeExit = () => { beforeExit = () => {}; finished = true; complete(null); };
    onUncaught = (error, exitCode) => { void postInvocationError(requestId, error).then(() => process.exit(exitCode)); };

    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    const env = process.env;
    try {
      const context = {
        get callbackWaitsForEmptyEventLoop() { return waitForEmptyEventLoop; },
        set callbackWaitsForEmptyEventLoop(value: boolean) { waitForEmptyEventLoop = value; },
        succeed: (result: unknown) => done(null, result),
        fail: (err: unknown) => done(err === undefined || err === null ? 'handled' : err, null),
        done,
        functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName: env.AWS_LAMBDA_FUNCTION_NAME,
        memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
        clientContext: parseHeaderJson(headers['lambda-runtime-client-context'], 'ClientContext'),
        identity: parseHeaderJson(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
        invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: requestId,
        getRemainingTimeInMillis: () => deadline - Date.now(),
      };
      const result = handler(JSON.parse(next.body), context, callback);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(
          (value) => done(null, value),
          (err: unknown) => done(err === undefined || err === null ? 'handled' : err, null),
        );
      }
    } catch (err) {
      callback(err);
    }
  });
}

async function main(): Promise<void> {
  if (!api.includes(':')) {
    process.stderr.write('AWS_LAMBDA_RUNTIME_API is not set: this runtime only runs inside a local execution environment.\n');
    process.exit(1);
  }
  patchConsole();
  process.on('uncaughtException', (error) => {
    console.error('Uncaught Exception', toFormatted(error));
    onUncaught(error, 129);
  });
  process.on('unhandledRejection', (reason) => {
    const error = new RuntimeError(String(reason), 'UnhandledPromiseRejection');
    console.error('Unhandled Promise Rejection', toFormatted(error));
    onUncaught(error, 128);
  });
  process.on('beforeExit', () => beforeExit());

  let handler: Handler;
  try {
    // A container image names its handler as the ENTRYPOINT's argument (the image's CMD), as aws-lambda-ric takes it.
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), process.argv[2] ?? process.env._HANDLER ?? '');
  } catch (error) {
    console.error('Init Error', toFormatted(error));
    await postInitError(error);
    process.exit(129);
  }
  for (;;) {
    const next = await nextInvocation();
    await invokeOnce(handler, next);
  }
}

void main();
