/** Vertex AI errors translated into DeployModelErrors with the fix, and long-running operations waited for. */
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';

/** gRPC status codes that deploy-model explains. */
const GRPC = { NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

/** A gRPC error as google-gax raises it: `reason` and `errorInfoMetadata` come from the status's google.rpc.ErrorInfo. */
interface RpcError { code?: number; message?: string; details?: string; reason?: string; errorInfoMetadata?: Record<string, string> }

function rpcMessage(e: RpcError): string {
  return (e.details || e.message || String(e)).replace(/^\d+ [A-Z_]+: /, '');
}

/**
 * A rate limit rather than a used-up quota: ErrorInfo reason RATE_LIMIT_EXCEEDED, or a quota
 * counted per minute ("Quota exceeded for quota metric 'Resource management requests' and limit
 * '... per minute ...'"). It clears within a minute, so it is retried; a quota such as a region's
 * GPUs is not.
 */
export function isRateLimited(e: unknown): boolean {
  const err = (e ?? {}) as RpcError;
  if (err.code !== GRPC.RESOURCE_EXHAUSTED) return false;
  return err.reason === 'RATE_LIMIT_EXCEEDED' || /per minute|rate limit/i.test(rpcMessage(err));
}

/**
 * Whether a failed call may be sent again: a rate limit always (the request was turned away
 * before any work), UNAVAILABLE only for calls that change nothing or the same thing twice
 * (AIP-194): the client library's own config retries none of the Vertex AI methods.
 */
export function isRetryable(e: unknown, idempotent: boolean): boolean {
  return isRateLimited(e) || (idempotent && (e as RpcError | undefined)?.code === GRPC.UNAVAILABLE);
}

/**
 * Turns an error of a Vertex AI call (or a failed operation's status) into a DeployModelError
 * that says what to do. `what` names the call, e.g. "DeployModel on endpoint ...".
 */
export function vertexError(e: unknown, what: string, project: string): DeployModelError {
  if (e instanceof DeployModelError) return e;
  const err = (e ?? {}) as RpcError;
  const message = rpcMessage(err);
  const details = { call: what, grpcCode: err.code, message, ...(err.reason ? { reason: err.reason } : {}) };
  if (isRateLimited(err)) {
    return new DeployModelError('VERTEX_RATE_LIMITED',
      `${what} failed: Vertex AI kept refusing the calls for their rate, past deploy-model's retries with backoff (${message}). Fix: wait a minute and deploy again; run fewer deploys (or other tools calling Vertex AI) at once in project ${project}; if it keeps happening, ask for a higher ${err.errorInfoMetadata?.quota_metric ? `'${err.errorInfoMetadata.quota_metric}'` : 'requests-per-minute'} quota in the Google Cloud console (IAM & Admin > Quotas).`,
      { cause: e, details });
  }
  switch (err.code) {
    case GRPC.PERMISSION_DENIED:
      if (/SERVICE_DISABLED|has not been used|is disabled/i.test(message)) {
        return new DeployModelError('VERTEX_API_DISABLED',
          `${what} failed: the Vertex AI API is not enabled in project ${project} (${message}). Run \`gcloud services enable aiplatform.googleapis.com --project ${project}\` and deploy again.`,
          { cause: e, details });
      }
      return new DeployModelError('VERTEX_PERMISSION_DENIED',
        `${what} failed: permission denied (${message}). Fix: grant the deploying identity roles/aiplatform.user in project ${project}${err.errorInfoMetadata?.permission ? ` (the role includes ${err.errorInfoMetadata.permission})` : ''} and roles/storage.objectAdmin on the staging bucket, e.g. \`gcloud projects add-iam-policy-binding ${project} --member=<identity> --role=roles/aiplatform.user\`.`,
        { cause: e, details });
    case GRPC.UNAUTHENTICATED:
      return new DeployModelError('GCP_CREDENTIALS_INVALID',
        `${what} failed: Google Cloud refused the credentials${err.reason ? ` (${err.reason})` : ''}: ${message} Fix: run \`gcloud auth application-default login\` (or set DEPLOY_MODEL_GCP_ACCESS_TOKEN to a fresh \`gcloud auth print-access-token\`) and deploy again.`,
        { cause: e, details });
    case GRPC.RESOURCE_EXHAUSTED:
      return new DeployModelError('VERTEX_QUOTA_EXCEEDED',
        `${what} failed: a quota is exhausted (${message}). Request more in the Google Cloud console (IAM & Admin > Quotas, filter "aiplatform.googleapis.com" and the GPU type for this region), or pick another region, machine type or fewer replicas.`,
        { cause: e, details });
    case GRPC.UNAVAILABLE:
      return new DeployModelError('VERTEX_UNAVAILABLE',
        `${what} failed: Vertex AI was unavailable (${message}). A call that reads was retried with backoff; one that changes something is not, as it may have taken effect. Fix: check the network (and DEPLOY_MODEL_VERTEX_ENDPOINT if set) and https://status.cloud.google.com, then deploy again: deploy-model finds what a previous attempt made by its names and labels.`,
        { cause: e, details });
    default:
      return new DeployModelError('VERTEX_API_ERROR', `${what} failed: ${message}`, { cause: e, details });
  }
}

export interface PolledOperation<T> {
  done?: boolean | null;
  error?: { code?: number | null; message?: string | null } | null;
  result?: T | null;
}

export interface WaitOptions<T> {
  /** What is waited for, in words, e.g. "deploying model ... on endpoint ...". */
  what: string;
  /** The operation's resource name. */
  name: string;
  /** One poll: `client.checkXProgress(name)`. */
  check: (name: string) => Promise<PolledOperation<T>>;
  io: IoHelper;
  timeoutMs: number;
  pollMs: number;
  project: string;
  /** Called while waiting; resolves early for tests. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function minutes(ms: number): string {
  if (ms >= 60_000) return `${Math.round(ms / 6_000) / 10} min`;
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Polls a long-running operation until it is done, at most `timeoutMs`. A failed operation
 * becomes a DeployModelError carrying its message; one that outlives the wait becomes
 * VERTEX_OPERATION_TIMEOUT naming the operation, so the user can look it up.
 */
export async function waitForOperation<T>(options: WaitOptions<T>): Promise<T> {
  const { what, name, check, io, timeoutMs, pollMs, project } = options;
  const sleep = options.sleep ?? sleepFor;
  const started = Date.now();
  let lastReport = started;
  for (;;) {
    let op: PolledOperation<T> | undefined;
    try {
      op = await check(name);
    } catch (e) {
      // google-gax retries GetOperation on UNAVAILABLE itself; a rate limit, or an outage longer
      // than its retries, only delays the answer: poll again until the operation's own timeout.
      if (!isRetryable(e, true)) throw vertexError(e, `Polling ${what} (operation ${name})`, project);
      io.debug('DM_VERTEX_POLL_RETRY', `Polling ${what}: ${rpcMessage(e as RpcError)}; polling again`, { operation: name });
    }
    if (op?.done) {
      if (op.error && op.error.code) {
        const failed = vertexError({ code: op.error.code, message: op.error.message ?? '' }, what, project);
        if (failed.code !== 'VERTEX_API_ERROR') throw failed;
        throw new DeployModelError('VERTEX_OPERATION_FAILED',
          `${what} failed (operation ${name}): ${op.error.message ?? `code ${op.error.code}`}. See the model's logs in Cloud Logging (resource "Vertex AI Endpoint") for the container's own messages.`,
          { details: { operation: name, code: op.error.code, message: op.error.message } });
      }
      return op.result as T;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      throw new DeployModelError('VERTEX_OPERATION_TIMEOUT',
        `Gave up waiting for ${what} after ${minutes(elapsed)} (operationTimeoutMinutes allows ${minutes(timeoutMs)}); operation ${name} is still running in Google Cloud. Look it up with \`gcloud ai operations describe ${name.split('/').pop()} --region ${name.split('/')[3] ?? ''}\`, and raise operationTimeoutMinutes if this step takes longer for this model.`,
        { details: { operation: name, waitedMs: elapsed, timeoutMs } });
    }
    if (Date.now() - lastReport >= 60_000) {
      lastReport = Date.now();
      io.info('DM_VERTEX_WAITING', `Still ${what} (${minutes(elapsed)})`, { operation: name, elapsedMs: elapsed });
    }
    await sleep(Math.min(pollMs, Math.max(1, timeoutMs - elapsed)));
  }
}
