/**
 * The azure-ml target's logs: what each online deployment's inference-server container (Triton)
 * printed, read through `onlineDeployments.getLogs`. Azure ML keeps only the container's recent
 * output (the last TAIL_LINES lines are asked for); a history needs the endpoint's
 * AmlOnlineEndpointConsoleLog sent to a Log Analytics workspace.
 */
import type { DeployModelError } from '../../errors.js';
import { parseLines } from '../../kits/logs/log-files.js';
import { byTime, logsPollMs, pause, type LogLine, type LogsOptions } from '../../kits/logs/log-line.js';
import type { AzureApi } from './_azure-api.js';
import type { AzureContext } from './build.js';

/** How many of a container's last lines one read asks for. */
export const TAIL_LINES = 5000;

export interface AzureLogsAt {
  api: AzureApi;
  endpoint: string;
  /** The error when the endpoint does not exist. */
  notDeployed: () => DeployModelError;
}

/**
 * The lines of every deployment of the endpoint (`blue`, `green`: the source), oldest first, from
 * `since` on: a line's time is the one it starts with, else the line's before (a line with none
 * before it is taken as read now). With `follow`, asks again every few seconds and yields the
 * lines that came after the ones already read, for deployments created since too.
 */
export async function* azureLogs(_ctx: AzureContext, at: AzureLogsAt, options: LogsOptions): AsyncGenerator<LogLine> {
  const { since, signal } = options;
  const keep = (line: LogLine) => !since || line.time.getTime() >= since.getTime();
  const endpoint = await at.api.findEndpoint(at.endpoint);
  if (!endpoint) throw at.notDeployed();
  const seen = new Map<string, string[]>();
  const read = async (): Promise<LogLine[]> => {
    const lines: LogLine[] = [];
    for (const { name } of await at.api.listDeployments(at.endpoint)) {
      const texts = await readContainer(at, name);
      if (!texts) continue;
      const fresh = newLines(seen.get(name) ?? [], texts);
      seen.set(name, texts);
      lines.push(...parseLines(fresh, new Date()).map((l) => ({ ...l, source: name })));
    }
    return lines.filter(keep).sort(byTime);
  };
  yield* await read();
  if (!options.follow) return;
  // getLogs is a Resource Manager call: ARM allows some hundreds of reads a minute per principal.
  const pollMs = logsPollMs(5000);
  while (await pause(pollMs, signal)) {
    yield* await read();
  }
}

/** A deployment's container lines, or undefined when the deployment is gone (deleted by a rollout meanwhile). */
async function readContainer(at: AzureLogsAt, deployment: string): Promise<string[] | undefined> {
  try {
    const content = await at.api.deploymentLogs(at.endpoint, deployment, 'InferenceServer', TAIL_LINES);
    return content.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  } catch (e) {
    if ((e as DeployModelError).details?.statusCode === 404) return undefined;
    throw e;
  }
}

/**
 * The lines of `next` that follow those of `prev`: both are the tail of the same log, so the
 * longest end of `prev` that `next` starts with is what was read already.
 */
export function newLines(prev: readonly string[], next: readonly string[]): string[] {
  for (let k = Math.min(prev.length, next.length); k > 0; k--) {
    const start = prev.length - k;
    let same = true;
    for (let i = 0; i < k && same; i++) same = prev[start + i] === next[i];
    if (same) return next.slice(k);
  }
  return [...next];
}
