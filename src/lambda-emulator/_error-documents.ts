/** The error documents Lambda answers when the platform, not the handler, failed an invocation. */
import type { InitOutcome } from './_execution-environment.js';

/** Lambda gives init 10 s, then retries it within the function timeout; locally: the larger. */
export const INIT_LIMIT_MS = 10_000;

export interface ErrorDoc { errorType: string; errorMessage: string }

export function timeoutError(requestId: string, seconds: number): ErrorDoc {
  return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds` };
}

export function exitError(requestId: string, code: number | null, signal: NodeJS.Signals | null): ErrorDoc {
  const how = signal ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`;
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}` };
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
      return timeoutError(id, Math.max(INIT_LIMIT_MS / 1000, timeoutSeconds));
    default:
      return { errorType: 'Runtime.Unknown', errorMessage: 'init did not finish' };
  }
}
