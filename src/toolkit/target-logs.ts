/** `Toolkit.logs`: one target's logs through its driver's hook, with the default window and a coded refusal. */
import { DeployModelError } from '../errors.js';
import { DEFAULT_LOGS_SINCE_MS, type LogLine, type LogsOptions } from '../kits/logs/log-line.js';
import type { TargetContext, TargetDriver } from '../targets/driver.js';

/**
 * Reads the target's logs from `since` (an hour ago unless given). A driver without a `logs`
 * hook answers TARGET_ACTION_UNAVAILABLE; a driver's own refusal says where the logs are.
 */
export async function* targetLogs(ctx: TargetContext, driverOf: () => Promise<TargetDriver>, options: LogsOptions): AsyncGenerator<LogLine> {
  const driver = await driverOf();
  if (!driver.logs) {
    throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' (${ctx.target.type}) has no logs that deploy-model can read. Read them where the ${ctx.target.type} platform keeps them.`,
      { kind: 'usage', details: { target: ctx.targetName, type: ctx.target.type, action: 'logs' } });
  }
  const since = options.since ?? new Date(Date.now() - DEFAULT_LOGS_SINCE_MS);
  ctx.io.debug('DM_LOGS_START', `Reading the logs of ${ctx.targetName} since ${since.toISOString()}${options.follow ? ', then following them' : ''}`, { since: since.toISOString(), follow: Boolean(options.follow) });
  yield* driver.logs(ctx, { ...options, since });
}
