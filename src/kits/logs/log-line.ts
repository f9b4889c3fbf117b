/** What `deploy-model logs` reads from every target: lines with a time and where they came from. */

/** One line of a deployment's logs. */
export interface LogLine {
  /** When the line was written (or, where the platform does not say, received). */
  time: Date;
  /** The line, without its trailing newline. */
  message: string;
  /** Where it came from, in the platform's words: a log stream, an instance, a deployment. @default - one source only */
  source?: string;
}

/** What `logs` reads. */
export interface LogsOptions {
  /** Lines written at or after this time. @default - an hour ago (DEFAULT_LOGS_SINCE_MS) */
  since?: Date;
  /** Keep reading new lines until `signal` aborts. @default false */
  follow?: boolean;
  /** Stops a read or a follow; the lines end without an error. @default - never */
  signal?: AbortSignal;
}

/** How far back `logs` reads when `since` is not given: one hour. */
export const DEFAULT_LOGS_SINCE_MS = 60 * 60 * 1000;

/**
 * How often a follow asks again for new lines: `DEPLOY_MODEL_LOGS_POLL_MS` when set (tests),
 * else the platform's own pace (`fallbackMs`), which stays within its API's rate limits.
 */
export function logsPollMs(fallbackMs: number): number {
  const fromEnv = Number(process.env.DEPLOY_MODEL_LOGS_POLL_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : fallbackMs;
}

/**
 * Waits `ms`, or less when `signal` aborts; resolves whether the wait ran its course (false:
 * aborted). Never rejects, so a follow ends quietly on Ctrl-C.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ran: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ran);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Orders lines by time; lines of the same time keep their order (the sort is stable). */
export function byTime(a: LogLine, b: LogLine): number {
  return a.time.getTime() - b.time.getTime();
}
