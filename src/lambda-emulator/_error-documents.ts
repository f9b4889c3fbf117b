/** The error documents Lambda answers when the platform, not the handler, failed an invocation. */
import type { InitOutcome } from './_execution-environment.js';

/**
 * Lambda gives the init phase 10 s; an init that has not finished by then is stopped and run
 * again inside the first invocation, within that invocation's timeout.
 */
export const INIT_LIMIT_MS = 10_000;

export interface ErrorDoc { errorType: string; errorMessage: string }

export function timeoutError(requestId: string, seconds: number): ErrorDoc {
  return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds` };
}

export function exitError(requestId: string, code: number | null, signal: NodeJS.Signals | null): ErrorDoc {
  const how = signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`;
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}` };
}

/** A runtime killed for using more than the function's memory. */
export function outOfMemoryError(requestId: string): ErrorDoc {
  return { errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed` };
}

/**
 * /tmp above the function's ephemeral storage. Lambda fails the write itself (ENOSPC); locally
 * the size is measured after the invocation, so the invocation is failed in its place.
 */
export function ephemeralStorageError(requestId: string, usedMb: number, limitMb: number): ErrorDoc {
  return {
    errorType: 'Local.EphemeralStorageExceeded',
    errorMessage: `RequestId: ${requestId} Error: /tmp holds ${usedMb} MB, over the function's ephemeral storage of ${limitMb} MB; on Lambda the writes past ${limitMb} MB fail with ENOSPC (no space left on device). Raise ephemeralStorageMb or write less to /tmp.`,
  };
}

/** The error document an invocation answers when init failed. */
export function initFailure(init: InitOutcome, requestId: string | undefined, timeoutSeconds: number): ErrorDoc {
  const id = requestId ?? 'init';
  switch (init.kind) {
    case 'init-error':
      try {
        const doc = JSON.parse(init.body.toString('utf8')) as Partial<ErrorDoc>;
        return { ...doc, errorType: doc.errorType ?? init.errorType ?? 'Runtime.Unknown', errorMessage: doc.errorMessage ?? '' };
      } catch {
        return { errorType: init.errorType ?? 'Runtime.Unknown', errorMessage: init.body.toString('utf8') };
      }
    case 'exit':
      return exitError(id, init.code, init.signal);
    case 'timeout':
      return timeoutError(id, timeoutSeconds);
    default:
      return { errorType: 'Runtime.Unknown', errorMessage: 'init did not finish' };
  }
}
