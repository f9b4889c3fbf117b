/** Vertex AI errors translated into DeployModelErrors with the fix, and long-running operations waited for. */
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';

/** gRPC status codes that deploy-model explains. */
const GRPC = { NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

interface RpcError { code?: number; message?: string; details?: string }

function rpcMessage(e: RpcError): string {
  return (e.details || e.message || String(e)).replace(/^\d+ [A-Z_]+: /, '');
}

/**
 * Turns an error of a Vertex AI call (or a failed operation's status) into a DeployModelError
 * that says what to do. `what` names the call, e.g. "DeployModel on endpoint ...".
 */
export function vertexError(e: unknown, what: string, project: string): DeployModelError {
  if (e instanceof DeployModelError) return e;
  const err = (e ?? {}) as RpcError;
  const message = rpcMessage(err);
  const details = { call: what, grpcCode: err.code, message };
  switch (err.code) {
    case GRPC.PERMISSION_DENIED:
      if (/SERVICE_DISABLED|has not been used|is disabled/i.test(message)) {
        return new DeployModelError('VERTEX_API_DISABLED',
          `${what} failed: the Vertex AI API is not enabled in project ${project} (${message}). Run \`gcloud services enable aiplatform.googleapis.com --project ${project}\` and deploy again.`,
          { cause: e, details });
      }
      return new DeployModelError('VERTEX_PERMISSION_DENIED',
        `${what} failed: permission denied (${message}). Grant the deploying identity roles/aiplatform.user and roles/storage.objectAdmin on the staging bucket in project ${project}.`,
        { cause: e, details });
    case GRPC.UNAUTHENTICATED:
      return new DeployModelError('GCP_CREDENTIALS_INVALID',
        `${what} failed: the credentials were refused (${message}). Run \`gcloud auth application-default login\` (or refresh DEPLOY_MODEL_GCP_ACCESS_TOKEN) and deploy again.`,
        { cause: e, details });
    case GRPC.RESOURCE_EXHAUSTED:
      return new DeployModelError('VERTEX_QUOTA_EXCEEDED',
        `${what} failed: a quota is exhausted (${message}). Request more in the Google Cloud console (IAM & Admin > Quotas, filter "aiplatform.googleapis.com" and the GPU type for this region), or pick another region, machine type or fewer replicas.`,
        { cause: e, details });
    case GRPC.UNAVAILABLE:
      return new DeployModelError('VERTEX_UNAVAILABLE',
        `${what} failed: Vertex AI was unreachable (${message}). Check the network (and DEPLOY_MODEL_VERTEX_ENDPOINT if set) and retry.`,
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
    let op: PolledOperation<T>;
    try {
      op = await check(name);
    } catch (e) {
      throw vertexError(e, `Polling ${what} (operation ${name})`, project);
    }
    if (op.done) {
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
