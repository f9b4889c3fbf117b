/** The answer of `logs` for a target whose logs deploy-model does not read: a coded error that says where they are. */
import { DeployModelError } from '../../errors.js';
import type { LogLine } from './log-line.js';

export interface LogsElsewhere {
  readonly targetName: string;
  readonly type: string;
  /** Where the platform keeps the logs, to follow "which are": "in Cloud Logging (...)". */
  readonly where: string;
  /** Commands that read them there, each complete for this target. */
  readonly commands: readonly string[];
}

/**
 * TARGET_ACTION_UNAVAILABLE (a usage error, exit 2) naming where the target's logs are and the
 * commands that read them; `details.where` and `details.commands` carry the same for `--json`.
 */
export function logsElsewhereError(at: LogsElsewhere): DeployModelError {
  const read = at.commands.length ? ` Read them with:\n${at.commands.map((c) => `  ${c}`).join('\n')}` : '';
  return new DeployModelError('TARGET_ACTION_UNAVAILABLE',
    `Target '${at.targetName}' (${at.type}): deploy-model does not read its logs, which are ${at.where}.${read}`,
    { kind: 'usage', details: { target: at.targetName, type: at.type, action: 'logs', where: at.where, commands: [...at.commands] } });
}

/** A driver's `logs` hook that refuses on the first read, as a generator that found nothing to read would. */
export function logsElsewhere(at: LogsElsewhere): AsyncIterable<LogLine> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(logsElsewhereError(at)) }) };
}
