/**
 * `deploy-model rollback` on the local target: the version kept from before the last promotion
 * starts again from its kept files beside the serving one, must come up and answer, and only then
 * is swapped in behind the same URL; the version it replaces stops. Nothing is kept to go forward
 * again, so a second rollback is ROLLBACK_NO_PREVIOUS. The toolkit holds the deploy lock.
 */
import { DeployModelError } from '../../errors.js';
import type { RestoreResult } from '../driver.js';
import type { LocalContext } from './build.js';
import { daemonState, discardCandidate, inspectDaemon, promoteCandidate, stageCandidate } from './daemon-control.js';
import { keptFilesExist, readKept, writeKept } from './kept-versions.js';

const READY_TIMEOUT_MS = 30_000;

/** The staged version's readiness through its own Function URL: its init ran and it answers. */
async function answers(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(new URL('v2/health/ready', url.endsWith('/') ? url : `${url}/`), { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
    return res.status === 200 ? undefined : `GET /v2/health/ready answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
  } catch (e) {
    return `GET /v2/health/ready failed: ${(e as Error).message}`;
  }
}

export async function restoreLocalPrevious(ctx: LocalContext): Promise<RestoreResult> {
  const key = ctx.plan.resourceName;
  const { record, alive } = await inspectDaemon(ctx.stateDir, key);
  const state = record && alive ? await daemonState(record) : undefined;
  if (!record || !state?.current) {
    const why = record && !alive ? `its daemon (pid ${record.pid}) stopped running; see ${record.logFile}` : 'nothing is serving';
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no live version to roll back: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName } });
  }
  const live = state.current.version;
  const kept = await readKept(ctx.stateDir, key);
  const previous = kept.previous && kept.previous.version !== live ? kept.previous : undefined;
  if (!previous || !(await keptFilesExist(previous))) {
    const why = previous ? `the files of version ${previous.version} are gone from the state folder` : 'it records no earlier version (a first deploy, or a rollback already made)';
    throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier version to roll back to: the local deployment ${key} serves version ${live} and ${why}. Deploy the earlier model or config to serve it again.`, { details: { target: ctx.targetName, liveVersion: live } });
  }

  ctx.io.info('DM_LOCAL_ROLLBACK', `Starting version ${previous.version} of ${key} again beside version ${live}; it takes ${record.url} once it answers`, { from: live, to: previous.version });
  const staged = await stageCandidate(record, { spec: previous.spec, version: previous.version });
  const problem = staged.candidate?.initError ? `its init failed: ${staged.candidate.initError}` : await answers(staged.candidate!.url);
  if (problem) {
    await discardCandidate(record).catch(() => undefined);
    throw new DeployModelError('LOCAL_DEPLOYMENT_FAILED', `Version ${previous.version} of ${key} did not come up again, so the rollback stopped and version ${live} keeps serving ${record.url}: ${problem}. Read the log (\`deploy-model logs --target ${ctx.targetName}\`), or deploy the earlier model or config.`, { details: { target: ctx.targetName, from: live, to: previous.version, logFile: record.logFile } });
  }
  await promoteCandidate(record);
  // What served is taken away for good: a second rollback does not go forward again.
  await writeKept(ctx.stateDir, key, { current: { ...previous, since: new Date().toISOString() } });
  return { from: live, to: previous.version, endpoint: new URL(record.url).href, details: { pid: record.pid, port: record.port, logFile: record.logFile } };
}
