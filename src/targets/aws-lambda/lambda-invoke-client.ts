/** Calls one version (or alias) of a deployed function with Lambda Invoke, as an InferenceClient. */
import { performance } from 'node:perf_hooks';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeployModelError } from '../../errors.js';
import { errorBody, readErrorBody } from '../../smoke/error-body.js';
import type { InferenceCall, InferenceClient } from '../../smoke/run-smoke.js';
import { accessDenied, awsReason, isAccessDenied, isCredentialsError, isThrottling, noCredentials } from '../../kits/aws/aws-errors.js';
import { overrideNote } from '../../kits/aws/endpoint-override.js';

export interface LambdaInvokeClientOptions {
  readonly functionName: string;
  /** A version number, or the `live` alias. */
  readonly qualifier: string;
  readonly region: string;
  /**
   * The Lambda client to send with.
   * @default - a client for `region` with the SDK's credential chain and endpoint variables
   */
  readonly client?: LambdaClient;
}

/**
 * The HTTP status a v2 error code stands for. A direct invoke answers `{ error }` without a
 * status (the handler has no HTTP response to put it in), so the smoke checks get it back here.
 */
const ERROR_STATUS: Record<string, number> = {
  MODEL_NOT_FOUND: 404, ROUTE_NOT_FOUND: 404, METHOD_NOT_ALLOWED: 405, PAYLOAD_TOO_LARGE: 413, UNSUPPORTED_MEDIA_TYPE: 415,
  INFERENCE_FAILED: 500, INTERNAL: 500, MODEL_LOAD_FAILED: 500, SIGNATURE_MISMATCH: 500, NOT_READY: 503,
};

/** Lambda answers a function error (an exception, an init failure, a timeout) like this. */
interface FunctionErrorPayload { errorType?: string; errorMessage?: string }

/**
 * An InferenceClient that calls one version (or alias) of the function with Lambda's Invoke API,
 * sending the v2 request as the event. A function error becomes a 502 with
 * `{ error: <message>, code: <errorType> }`, an `{ error, code }` answer the status its code stands for.
 */
export function lambdaInvokeClient(options: LambdaInvokeClientOptions): InferenceClient {
  const client = options.client ?? new LambdaClient({ region: options.region });
  return async (request): Promise<InferenceCall> => {
    const started = performance.now();
    let out;
    try {
      out = await client.send(new InvokeCommand({
        FunctionName: options.functionName,
        Qualifier: options.qualifier,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(request)),
      }));
    } catch (e) {
      throw invokeError(e, options);
    }
    const latencyMs = performance.now() - started;
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* keep the text: the smoke check shows it */ }
    if (out.FunctionError) {
      const p = (typeof body === 'object' && body !== null ? body : {}) as FunctionErrorPayload;
      return { status: 502, body: errorBody(p.errorType ?? out.FunctionError, p.errorMessage ?? String(text).slice(0, 500)), latencyMs };
    }
    const error = readErrorBody(body);
    if (error) return { status: ERROR_STATUS[error.code ?? ''] ?? 400, body, latencyMs };
    return { status: 200, body, latencyMs };
  };
}

/**
 * Why Invoke itself failed (not the function: a function error is an answer). The SDK retried
 * throttling and 5xx answers with backoff before this; what is left says what to do.
 */
function invokeError(e: unknown, options: LambdaInvokeClientOptions): DeployModelError {
  const { functionName, qualifier, region } = options;
  const what = `${functionName}:${qualifier}`;
  const details = { functionName, qualifier, region };
  if (isCredentialsError(e)) return noCredentials(region, `invoke ${what}`, e);
  if (isAccessDenied(e)) return accessDenied(region, `invoke ${what}`, e);
  const err = e as { $metadata?: { httpStatusCode?: number }; Reason?: string };
  if (isThrottling(e)) {
    // TooManyRequestsException's Reason says which limit: the account's concurrency, the function's reserved concurrency, or the call rate.
    const reason = err.Reason ? ` (${err.Reason})` : '';
    return new DeployModelError('AWS_INVOKE_THROTTLED',
      `Lambda throttled the invocations of ${what} in ${region}${reason}, past the SDK's retries: ${plain(awsReason(e))}. The concurrency of the function or of the account is used up. Fix: deploy again when the load is lower, give the function its own concurrency with \`reservedConcurrency\` in the target's config, or ask for a higher "Concurrent executions" quota in the Service Quotas console.${overrideNote('Lambda')}`,
      { cause: e, details: { ...details, reason: err.Reason } });
  }
  const status = err.$metadata?.httpStatusCode ?? 0;
  if (status >= 500) {
    return new DeployModelError('AWS_INVOKE_FAILED',
      `Lambda answered ${status} to the invocations of ${what} in ${region}, past the SDK's retries: ${plain(awsReason(e))}. This is a fault of the Lambda service, not of the function. Fix: run the command again in a few minutes; the AWS Health Dashboard shows whether Lambda has trouble in ${region}.${overrideNote('Lambda')}`,
      { cause: e, details: { ...details, status } });
  }
  return new DeployModelError('AWS_INVOKE_FAILED', `Invoking ${what} in ${region} failed: ${plain(awsReason(e))}. Check that the credentials may call lambda:InvokeFunction on it.${overrideNote('Lambda')}`, { cause: e, details });
}

/** A reason without its final full stop, to go inside a sentence. */
const plain = (text: string): string => text.replace(/\.\s*$/, '');
