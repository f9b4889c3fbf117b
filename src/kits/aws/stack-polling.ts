/** How often stack operations are polled, and how long one is waited for: the caller's choice, else the environment. */
/**
 * Environment variable that sets how often stack events are polled, in milliseconds, when the
 * caller does not. A test knob: local AWS fakes settle in milliseconds, AWS in seconds.
 */
export const STACK_POLL_ENV = 'DEPLOY_MODEL_STACK_POLL_MS';

/** The polling interval from the option or `DEPLOY_MODEL_STACK_POLL_MS`; undefined for the default. */
export function stackPollingInterval(pollingIntervalMs?: number): number | undefined {
  if (pollingIntervalMs !== undefined) return pollingIntervalMs;
  const fromEnv = Number(process.env[STACK_POLL_ENV]);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : undefined;
}

/**
 * Environment variable that sets how long one stack operation is waited for, in minutes
 * (fractions allowed), when the caller does not say: past it, deploy-model stops waiting and
 * reports AWS_STACK_TIMEOUT (or the target's own timeout error).
 */
export const STACK_TIMEOUT_ENV = 'DEPLOY_MODEL_STACK_TIMEOUT_MINUTES';

/** The stack timeout in minutes: `DEPLOY_MODEL_STACK_TIMEOUT_MINUTES` when set, else `fallback`. */
export function stackTimeoutMinutes(fallback: number): number {
  const fromEnv = Number(process.env[STACK_TIMEOUT_ENV]);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}
