// The Lambda adapter: events in, route results out, within Lambda's payload limits.
import { withApiDocs } from '../api-docs/api-routes.js';
import { checkModel, dispatch, DOCS, errorResult, MODEL_INFER_PATH, MODEL_PATH, MODEL_READY_PATH, parseJsonBody, type Route, type RouteRequest, type RouteResult } from '../http.js';
import { InferenceError, toInferenceError, type InferenceErrorBody } from '../core/inference-error.js';
import { isInstancesRequest } from '../core/instances.js';
import { predict, predictJson } from '../core/predict.js';
import { inferenceResponseJson, JsonText } from '../core/response-json.js';
import type { InferenceCore } from '../core/types.js';
import { httpEventRequest } from './_events.js';

/** Lambda's limit on a synchronous invocation's request payload: 6 MiB. */
export const LAMBDA_PAYLOAD_LIMIT = 6_291_456;
/**
 * What the Runtime API takes back from the function as its response: 6 MiB and 100 bytes
 * (`MaxPayloadSize` of AWS's Lambda runtime interface emulator, interop/model.go).
 */
export const LAMBDA_RESPONSE_SLACK_BYTES = 100;

export interface LambdaHandlerOptions {
  /**
   * Largest request body (after base64 decoding), in bytes; the encoded response may be 100 bytes
   * more, as Lambda's Runtime API allows.
   * @default 6291456 (Lambda's synchronous payload limit)
   */
  maxPayloadBytes?: number;
  /** Shapes for the example request in `/openapi.json` and `/docs` (`DM_EXAMPLE_SHAPES`). @default - dynamic dims as 1 */
  exampleShapes?: Record<string, number[]>;
  /**
   * Where unexpected (500) errors are logged.
   * @default console.error
   */
  log?: (line: string) => void;
}

export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export type LambdaHandler = (event: unknown, context?: unknown) => Promise<unknown>;

const JSON_HEADERS = { 'content-type': 'application/json' };

function tooLarge(what: 'request' | 'response', bytes: number, limit: number): InferenceError {
  return new InferenceError(413, 'PAYLOAD_TOO_LARGE',
    `the ${what} is ${bytes} bytes, over the ${limit}-byte limit of a synchronous Lambda invocation; `
    + (what === 'request'
      ? 'send large tensors base64-encoded (parameters.content_encoding "base64"), split the batch, or deploy to the container target'
      : 'ask for base64 outputs (parameters.output_encoding "base64"), request fewer outputs, split the batch, or deploy to the container target'));
}

/**
 * The body's size in bytes when it is over `limit`. A string is measured only when it could be:
 * a UTF-16 unit is at most 3 bytes of UTF-8.
 */
function overLimit(body: Buffer | string | undefined, limit: number): number | undefined {
  if (body === undefined) return undefined;
  if (typeof body === 'string' && body.length * 3 <= limit) return undefined;
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  return bytes > limit ? bytes : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The Lambda adapter: Function URL and API Gateway events become routed HTTP requests, a direct
 * invoke of a v2 request returns the v2 response object. It never throws: a thrown error would
 * surface as a Lambda function error instead of a response the client can read.
 */
export function createLambdaHandler(core: InferenceCore, options: LambdaHandlerOptions = {}): LambdaHandler {
  const limit = options.maxPayloadBytes ?? LAMBDA_PAYLOAD_LIMIT;
  const responseLimit = limit + LAMBDA_RESPONSE_SLACK_BYTES;
  const log = options.log ?? ((line: string) => console.error(line));
  const ready = (): RouteResult => ({ status: 200, body: { status: 'ready' } });
  const infer = async (req: RouteRequest): Promise<RouteResult> => ({ status: 200, body: await predictJson(core, parseJsonBody(req, core.signature)) });

  const routes: Route[] = withApiDocs([
    // KServe v2 / Open Inference Protocol
    { method: 'GET', path: '/v2', doc: DOCS.server, handle: () => ({ status: 200, body: { name: 'deploy-model', version: '1', extensions: [] } }) },
    { method: 'GET', path: '/v2/health/live', doc: DOCS.live, handle: () => ({ status: 200, body: { status: 'live' } }) },
    { method: 'GET', path: '/v2/health/ready', doc: DOCS.ready, handle: ready },
    { method: 'GET', path: MODEL_PATH, doc: DOCS.model, handle: (_r, [name, v]) => { checkModel(core, name, v); return { status: 200, body: core.metadata() }; } },
    { method: 'GET', path: MODEL_READY_PATH, doc: DOCS.modelReady, handle: (_r, [name, v]) => { checkModel(core, name, v); return { status: 200, body: { name, ready: true } }; } },
    {
      method: 'POST', path: MODEL_INFER_PATH, doc: DOCS.infer, handle: async (req, [name, v]) => {
        checkModel(core, name, v);
        const body = parseJsonBody(req, core.signature);
        if (isInstancesRequest(body)) throw new InferenceError(400, 'INVALID_REQUEST', `the v2 infer route takes { "inputs": [...] }; send { "instances": [...] } to POST /invocations`);
        return { status: 200, body: core.inferRaw ? inferenceResponseJson(core.modelName, await core.inferRaw(body as never)) : await core.infer(body as never) };
      },
    },
    // SageMaker's and Azure ML's routes, as the container serves them, so one client works against both
    { method: 'GET', path: '/ping', doc: DOCS.ping, handle: ready },
    { method: 'POST', path: '/invocations', doc: DOCS.invocations, handle: infer },
    { method: 'GET', path: '/', doc: DOCS.root, handle: ready },
    { method: 'POST', path: '/score', doc: DOCS.score, handle: infer },
    { method: 'GET', path: '/health', doc: DOCS.health, handle: ready },
    { method: 'POST', path: '/', doc: DOCS.rootPredict, handle: infer },
  ], core, { host: 'an AWS Lambda Function URL', ...(options.exampleShapes ? { exampleShapes: options.exampleShapes } : {}) });

  // Client errors are the client's to read; server errors also go to the function's log.
  const logServerError = (status: number, body: unknown) => {
    const err = body as Partial<InferenceErrorBody>;
    if (status >= 500 && typeof err.error === 'string') log(`deploy-model: ${err.code}: ${err.error}`);
  };

  async function http(event: NonNullable<ReturnType<typeof httpEventRequest>>): Promise<LambdaHttpResult> {
    let result: RouteResult;
    const requestBytes = overLimit(event.body, limit);
    if (requestBytes !== undefined) {
      result = errorResult(tooLarge('request', requestBytes, limit));
    } else {
      result = await dispatch(routes, event);
    }
    logServerError(result.status, result.body);
    const json = result.body instanceof JsonText ? result.body : undefined;
    const body = json ? json.text : JSON.stringify(result.body);
    // The response Lambda returns is this object serialized, so the body's quotes count twice.
    // Escaping at most doubles a byte, so the exact (costly: 6 ms for 1.4 MB) count is only
    // needed near the limit.
    const bodyBytes = json ? json.bytes : Buffer.byteLength(body);
    const headers = { ...JSON_HEADERS, ...result.headers };
    const wrapper = (b: string): LambdaHttpResult => ({ statusCode: result.status, headers, body: b, isBase64Encoded: false });
    // Near the limit, the exact size of what the runtime will send: this object, serialised.
    const encoded = 2 * bodyBytes + 512 <= responseLimit ? undefined : Buffer.byteLength(JSON.stringify(wrapper(body)));
    if (encoded !== undefined && encoded > responseLimit) {
      result = errorResult(tooLarge('response', encoded, responseLimit));
      return { statusCode: result.status, headers: { ...JSON_HEADERS, ...result.headers }, body: JSON.stringify(result.body), isBase64Encoded: false };
    }
    return wrapper(body);
  }

  async function direct(event: unknown): Promise<unknown> {
    try {
      if (!isObject(event) || !('inputs' in event || 'instances' in event)) {
        throw new InferenceError(400, 'INVALID_EVENT', `the event is ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event === 'object' ? 'an object without "inputs"' : `a ${typeof event}`}; invoke with a v2 inference request { "inputs": [...] }, or through a Function URL or API Gateway`);
      }
      const response = await predict(core, event);
      const bytes = Buffer.byteLength(JSON.stringify(response));
      if (bytes > responseLimit) throw tooLarge('response', bytes, responseLimit);
      return response;
    } catch (e) {
      const err = toInferenceError(e);
      logServerError(err.status, err.body);
      return err.body;
    }
  }

  return async (event: unknown): Promise<unknown> => {
    try {
      const req = httpEventRequest(event);
      return req ? await http(req) : await direct(event);
    } catch (e) {
      // Only a bug gets here; answer rather than fail the invocation.
      const err = toInferenceError(e);
      log(`deploy-model: ${err.code}: ${err.message}`);
      return { statusCode: err.status, headers: JSON_HEADERS, body: JSON.stringify(err.body), isBase64Encoded: false };
    }
  };
}
