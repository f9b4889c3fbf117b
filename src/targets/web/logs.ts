/**
 * The web target's logs. On `host: 'local'`, the local web server's log under `.deploy-model/state/`
 * (when it started, which version it serves, each switch of version). Every other host serves
 * static files and runs no code of ours: the model runs in each visitor's browser, so `logs`
 * says where the host's own access logs are.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { readLogFiles, type LineParser } from '../../kits/logs/log-files.js';
import type { LogLine, LogsOptions } from '../../kits/logs/log-line.js';
import { logsElsewhere } from '../../kits/logs/logs-elsewhere.js';
import type { TargetContext } from '../driver.js';
import type { WebPlan } from './plan.js';
import type { WebTargetConfig } from './schema.js';

type Ctx = TargetContext<WebTargetConfig, WebPlan>;

/** `deploy-model web server <pid>: <message>`, as `_site-daemon.ts` writes it. */
export const parseWebServerLine: LineParser = (text) => {
  const m = /^deploy-model web server \d+: (.*)$/.exec(text);
  return m ? { source: 'server', message: m[1]! } : undefined;
};

export function webLogs(ctx: Ctx, options: LogsOptions): AsyncIterable<LogLine> {
  if (ctx.target.host === 'local') return localSiteLogs(ctx, options);
  const browser = "the model runs in each visitor's browser (its developer console shows the page's errors)";
  if (ctx.target.host === 'aws') {
    return logsElsewhere({
      targetName: ctx.targetName, type: 'web',
      where: `not kept: the site is static files in S3 behind CloudFront, which run no server code, and ${browser}. CloudFront's standard access logs are off; turn them on for the distribution (stack output DistributionId) to get a log of requests`,
      commands: [],
    });
  }
  return logsElsewhere({
    targetName: ctx.targetName, type: 'web',
    where: `with ${ctx.target.host}, the host you publish the bundle to (its access logs, if it keeps any); ${browser}`,
    commands: [],
  });
}

async function* localSiteLogs(ctx: Ctx, options: LogsOptions): AsyncGenerator<LogLine> {
  // The log file of the deployment's server (start-local-site.ts: `<stateDir>/<key>.log`).
  const file = path.join(path.resolve(ctx.stateDir), `${ctx.plan.resourceName}.log`);
  if (!existsSync(file)) {
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no logs: its local web server never ran on this machine (there is no ${file}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
      { details: { target: ctx.targetName, logFile: file } });
  }
  yield* readLogFiles({ ...options, file, parse: parseWebServerLine });
}
