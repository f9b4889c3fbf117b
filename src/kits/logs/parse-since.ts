/** `--since`: a duration back from now (`90s`, `10m`, `2h`, `1d`) or a point in time (ISO 8601). */
import { DeployModelError } from '../../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The time `value` stands for: `<number><s|m|h|d|w>` counts back from `now`; anything else must
 * be an ISO 8601 date or time (`2024-05-01`, `2024-05-01T12:00:00Z`). Throws LOGS_SINCE_INVALID
 * (a usage error) with the accepted forms.
 */
export function parseSince(value: string, now: Date = new Date()): Date {
  const text = value.trim();
  const duration = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!.toLowerCase()]!);
  // Only ISO forms: Date.parse also reads "May 1" or "1", which would surprise more than help.
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)) {
    const time = new Date(text.replace(' ', 'T'));
    if (!Number.isNaN(time.getTime())) {
      if (time.getTime() > now.getTime()) {
        throw new DeployModelError('LOGS_SINCE_INVALID', `--since ${value} is in the future (now is ${now.toISOString()}). Fix: give a time in the past, or a duration such as 10m.`, { kind: 'usage', details: { since: value } });
      }
      return time;
    }
  }
  throw new DeployModelError('LOGS_SINCE_INVALID',
    `--since ${JSON.stringify(value)} is neither a duration nor an ISO time. Fix: use a number and a unit (30s, 10m, 2h, 1d, 1w) or an ISO 8601 time (2024-05-01T12:00:00Z; without a zone it is local time).`,
    { kind: 'usage', details: { since: value } });
}
