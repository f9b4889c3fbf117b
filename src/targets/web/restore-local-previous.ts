/**
 * `deploy-model rollback` on the web target with `host: 'local'`: the release kept from before the
 * last promote is served again by a server of its own beside the serving one, must run the model
 * in headless Chromium, and only then is swapped in behind the same URL (SIGHUP: no request is
 * refused); the version it replaces stops serving and its release goes. Nothing is kept to go
 * forward again, so a second rollback is ROLLBACK_NO_PREVIOUS. The toolkit holds the deploy lock.
 */
import { DeployModelError } from '../../errors.js';
import type { RestoreResult, TargetContext } from '../driver.js';
import { requireChromium } from './find-chromium.js';
import { keptReleaseExists, readKeptReleases, writeKeptReleases } from './kept-releases.js';
import { candidateKey, keyOf, pruneReleases } from './local-host.js';
import type { WebPlan } from './plan.js';
import type { WebTargetConfig } from './schema.js';
import { inspectLocalSite, startLocalSite, stopLocalSite, swapLocalSite } from './start-local-site.js';

type Ctx = TargetContext<WebTargetConfig, WebPlan>;

/** Why the restored release cannot take the URL (the page's own error), or undefined when its page ran the model. */
async function pageRuns(ctx: Ctx, url: string): Promise<string | undefined> {
  // playwright-core is loaded only when a page is opened.
  const { openInBrowser } = await import('./open-in-browser.js');
  try {
    const page = await openInBrowser({ url, webgpu: ctx.plan.webgpu, io: ctx.io });
    await page.close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export async function restoreLocalPrevious(ctx: Ctx): Promise<RestoreResult> {
  const key = keyOf(ctx);
  const { record, alive } = await inspectLocalSite(ctx.stateDir, key);
  if (!record || !alive) {
    const why = record ? `its server (pid ${record.pid}) stopped running; see ${record.logFile}` : 'no local web server runs for it';
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no live version to roll back: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName } });
  }
  const live = record.version;
  const kept = await readKeptReleases(ctx.stateDir, key);
  const previous = kept.previous && kept.previous.version !== live ? kept.previous : undefined;
  if (!previous || !(await keptReleaseExists(previous))) {
    const why = previous ? `the files of version ${previous.version} are gone from ${previous.outDir}` : 'it keeps no earlier version (a first deploy, or a rollback already made)';
    throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier version to roll back to: the local web server ${key} serves version ${live} and ${why}. Deploy the earlier model or config to serve it again.`, { details: { target: ctx.targetName, liveVersion: live } });
  }
  // Before anything starts: without a browser the restored page could not be checked.
  requireChromium();

  ctx.io.info('DM_WEB_LOCAL_ROLLBACK', `Serving version ${previous.version} of ${key} again beside version ${live}; it takes ${record.url} once its page runs the model`, { from: live, to: previous.version });
  const besideKey = candidateKey(key);
  // A candidate an interrupted deploy left behind.
  await stopLocalSite(ctx.stateDir, besideKey);
  let problem: string | undefined;
  try {
    const beside = await startLocalSite({ outDir: previous.outDir, version: previous.version, stateDir: ctx.stateDir, key: besideKey });
    problem = await pageRuns(ctx, beside.url);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem) {
    await stopLocalSite(ctx.stateDir, besideKey);
    throw new DeployModelError('WEB_LOCAL_ROLLBACK_FAILED', `Version ${previous.version} of ${key} did not run again, so the rollback stopped and version ${live} keeps serving ${record.url}: ${problem}. Read the log (\`deploy-model logs --target ${ctx.targetName}\`), or deploy the earlier model or config.`, { details: { target: ctx.targetName, from: live, to: previous.version, logFile: record.logFile } });
  }
  let served;
  try {
    served = await swapLocalSite(ctx.stateDir, key, { outDir: previous.outDir, version: previous.version });
  } finally {
    await stopLocalSite(ctx.stateDir, besideKey);
  }
  // What served is taken away for good: a second rollback does not go forward again.
  await writeKeptReleases(ctx.stateDir, key, { current: { ...previous, since: new Date().toISOString() } });
  await pruneReleases(ctx, [previous.version]);
  return { from: live, to: previous.version, endpoint: served.url, details: { pid: served.pid, port: served.port, logFile: served.logFile, release: previous.outDir } };
}
