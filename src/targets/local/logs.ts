/**
 * The local target's logs: its daemon's log file under `.deploy-model/state/` (the daemon's own
 * lines and every line its functions wrote: INIT_START, START, END, REPORT and the runtime's
 * output), the rotated older file beside it, and what the daemon printed before its log opened.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { readLogFiles, type LineParser } from '../../kits/logs/log-files.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import { readRecord } from './daemon-records.js';
import type { LocalContext } from './build.js';

/** `deploy-model local daemon <pid>: <message>` (the daemon's own lines) or `[<version>] <line>` (a function's). */
export const parseLocalLine: LineParser = (text) => {
  const daemon = /^deploy-model local daemon \d+: (.*)$/.exec(text);
  if (daemon) return { source: 'daemon', message: daemon[1]! };
  const fn = /^\[([^\]]+)\] (.*)$/.exec(text);
  return fn ? { source: fn[1]!, message: fn[2]! } : undefined;
};

/** The daemon's log files: where its record says, else where the daemon writes them (`<stateDir>/<key>.log`). */
async function logFileOf(ctx: LocalContext): Promise<string> {
  const key = ctx.plan.resourceName;
  const record = await readRecord(ctx.stateDir, key).catch(() => undefined);
  return record?.logFile ?? path.join(path.resolve(ctx.stateDir), `${key}.log`);
}

/** The logs outlive the daemon (a destroyed or crashed deployment's logs stay readable) until the next deploy rotates them away. */
export async function* localLogs(ctx: LocalContext, options: LogsOptions): AsyncGenerator<LogLine> {
  const file = await logFileOf(ctx);
  const rotated = `${file}.1`;
  const errFile = file.replace(/\.log$/, '.err');
  if (!existsSync(file) && !existsSync(rotated)) {
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no logs: it was never deployed on this machine (there is no ${file}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
      { details: { target: ctx.targetName, logFile: file } });
  }
  yield* readLogFiles({ ...options, file, rotated, extra: [errFile], parse: parseLocalLine });
}
