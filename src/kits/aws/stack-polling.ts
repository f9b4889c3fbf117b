/** How often stack operations are polled: the caller's choice, else DEPLOY_MODEL_STACK_POLL_MS. */
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
