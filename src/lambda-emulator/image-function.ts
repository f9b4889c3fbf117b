/** A Lambda container image served like a local function: the image under startImageRuntime, behind its own Function URL on 127.0.0.1. */
import { randomUUID } from 'node:crypto';
import { isDeployModelError } from '../errors.js';
import { invokeResult, reportLine } from './_invoke-result.js';
import { startFunctionUrlServer, type FunctionUrlTarget } from './function-url-server.js';
import { startImageRuntime } from './image-runtime.js';
import type { InvokeOptions, InvokeResult } from './types.js';

export interface ImageFunctionSpec {
  /** The image, e.g. `localhost/deploy-model-local/<name>:<tag>`. */
  readonly image: string;
  /** `podman` or `docker`. */
  readonly builder: string;
  readonly functionName: string;
  /** AWS_LAMBDA_FUNCTION_VERSION's stand-in in the results (`x-amz-executed-version`). @default '$LATEST' */
  readonly version?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** @default 'AWS_IAM' */
  readonly functionUrlAuthType?: 'AWS_IAM' | 'NONE';
  /** @default - a free port */
  readonly port?: number;
  /** @default 'local' */
  readonly region?: string;
  /** Labels on the container, so its owner can find it after a crash. @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Every line the container prints, and the START/END/REPORT lines of each invocation. @default - dropped */
  readonly log?: (line: string) => void;
}

/** The figures a local deployment reports of an image version. */
export interface ImageFunctionStats {
  readonly invocations: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly memoryMb: number;
  /** From the container's start to its first answer: the cold start users see. */
  readonly maxInitDurationMs?: number;
  readonly refusedRuntimeApiConnections: number;
  readonly image: string;
  readonly initError?: string;
}

export interface ImageFunction extends FunctionUrlTarget {
  readonly url: string;
  readonly port: number;
  invokeRaw(payload: Buffer | string, options?: InvokeOptions): Promise<InvokeResult>;
  stats(): ImageFunctionStats;
  localStats(): ImageFunctionStats;
  stop(): Promise<void>;
}

/**
 * The time a container gets to start and poll the Runtime API for its first event, on top of the
 * function's timeout: `podman run` of a cached image takes about a second here, a first run after
 * a build longer, and Lambda gives init 10 s apart from the invocation's timeout.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
const FIRST_START_ALLOWANCE_MS = 60_000;

/** Starts the image and a Function URL in front of it. */
export async function startImageFunction(spec: ImageFunctionSpec): Promise<ImageFunction> {
  const version = spec.version ?? '$LATEST';
  const functionArn = `arn:aws:lambda:${spec.region ?? 'local'}:000000000000:function:${spec.functionName}`;
  let refused = 0;
  const counts = { invocations: 0, errors: 0, timeouts: 0 };
  let firstAnswerMs: number | undefined;
  let initError: string | undefined;
  const started = performance.now();
  const runtime = await startImageRuntime({
    image: spec.image, builder: spec.builder, ...(spec.env ? { env: spec.env } : {}), memoryMb: spec.memoryMb, functionName: spec.functionName,
    ...(spec.labels ? { labels: spec.labels } : {}),
    onLine: (line) => spec.log?.(line),
    onRefused: () => { refused++; },
  });
  const stats = (): ImageFunctionStats => ({
    ...counts, memoryMb: spec.memoryMb, refusedRuntimeApiConnections: refused, image: spec.image,
    ...(firstAnswerMs !== undefined ? { maxInitDurationMs: firstAnswerMs } : {}),
    ...(initError ? { initError } : {}),
  });

  const target: FunctionUrlTarget & { invokeRaw: ImageFunction['invokeRaw'] } = {
    functionName: spec.functionName,
    functionArn,
    async invokeRaw(payload) {
      const requestId = randomUUID();
      const t0 = performance.now();
      const first = counts.invocations === 0;
      counts.invocations++;
      spec.log?.(`START RequestId: ${requestId} Version: ${version}`);
      let body: Buffer;
      let failed: boolean;
      let errorType: string | undefined;
      try {
        const event: unknown = JSON.parse(payload.toString());
        const outcome = await runtime.invoke(event, { timeoutMs: spec.timeoutSeconds * 1000 + (first ? FIRST_START_ALLOWANCE_MS : 0) });
        body = outcome.body;
        failed = outcome.kind === 'error';
        if (outcome.kind === 'error') errorType = outcome.errorType;
        if (first && firstAnswerMs === undefined) firstAnswerMs = Math.round(performance.now() - started);
      } catch (e) {
        // No answer in time, or the container exited: an error document as Lambda's runtime would give.
        const timedOut = isDeployModelError(e) && e.code === 'LOCAL_IMAGE_NO_ANSWER';
        errorType = timedOut ? 'Sandbox.Timedout' : 'Runtime.ExitError';
        if (timedOut) counts.timeouts++;
        if (first) initError = `${errorType}: ${(e as Error).message}`;
        body = Buffer.from(JSON.stringify({ errorType, errorMessage: timedOut ? `${new Date().toISOString()} ${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds` : (e as Error).message }));
        failed = true;
      }
      if (failed) counts.errors++;
      const durationMs = performance.now() - t0;
      spec.log?.(`END RequestId: ${requestId}`);
      spec.log?.(reportLine({ requestId, durationMs, memoryMb: spec.memoryMb, ...(failed ? { status: 'error' } : {}), ...(errorType ? { errorType } : {}) }));
      return invokeResult({ requestId, body, failed, lines: [], version, started: t0 });
    },
    configuration: () => ({
      FunctionName: spec.functionName, FunctionArn: functionArn, PackageType: 'Image', ImageUri: spec.image, Version: version,
      MemorySize: spec.memoryMb, Timeout: spec.timeoutSeconds, State: 'Active', LastUpdateStatus: 'Successful',
    }),
    localStats: stats,
  };
  const server = await startFunctionUrlServer(target, { ...(spec.port ? { port: spec.port } : {}), authType: spec.functionUrlAuthType ?? 'AWS_IAM' }).catch(async (e: unknown) => {
    await runtime.stop();
    throw e;
  });
  return {
    ...target,
    url: server.url,
    port: server.port,
    stats,
    localStats: stats,
    async stop() {
      await Promise.allSettled([server.close(), runtime.stop()]);
    },
  };
}
