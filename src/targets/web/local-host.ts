/**
 * The web target on `host: 'local'`: each version is a release folder under the state folder,
 * served by a detached server on 127.0.0.1 whose URL stays the same across deploys.
 *   stage:    copy the build to its release folder and serve it on a port of its own, beside the
 *             version that serves (a first deploy starts the deployment's server with it);
 *   smoke:    the page in headless Chromium;
 *   promote:  the deployment's server swaps the release in (SIGHUP: no request is refused), and
 *             the candidate's server stops;
 *   rollback: the candidate's server stops and its release goes; what served keeps serving.
 * The release that served before the last promote is kept (`kept-releases.ts`) for
 * `deploy-model rollback` (`restore-local-previous.ts`).
 */
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { BuildResult, Candidate, RolloutHooks, TargetContext, TargetDiff, TargetDriver, TargetStatus } from '../driver.js';
import type { WebBuild } from './build.js';
import { requireChromium } from './find-chromium.js';
import { openSmokePage, pageDetails, type PageSession } from './page-session.js';
import type { WebPlan } from './plan.js';
import type { WebTargetConfig } from './schema.js';
import { SERVE_FILE } from './serve-locally.js';
import { findLocalSite, inspectLocalSite, startLocalSite, stopLocalSite, swapLocalSite, type LocalSiteRecord } from './start-local-site.js';
import { readKeptReleases, removeKeptReleases, writeKeptReleases, type KeptRelease, type KeptReleases } from './kept-releases.js';

type Ctx = TargetContext<WebTargetConfig, WebPlan>;

interface LocalCandidateState {
  page: PageSession;
  release: string;
  /** The deployment's server, when one served before this deploy. */
  front?: LocalSiteRecord;
  /** A first deploy: the deployment's server itself serves the candidate. */
  fresh: boolean;
}

export const keyOf = (ctx: Ctx): string => ctx.plan.resourceName;
export const candidateKey = (key: string): string => `${key}.candidate`;
const releasesDir = (ctx: Ctx): string => path.join(ctx.stateDir, `${keyOf(ctx)}.releases`);

/** The kept releases, or none when the record cannot be read: a deploy writes it anew. */
const keptOrNone = (ctx: Ctx): Promise<KeptReleases> => readKeptReleases(ctx.stateDir, keyOf(ctx)).catch(() => ({}));

/** Copies the build (`site/` and `serve.json`) to the version's release folder, which later builds do not overwrite. */
async function keepRelease(ctx: Ctx, built: WebBuild): Promise<string> {
  const dir = path.join(releasesDir(ctx), built.version);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await cp(built.siteDir, path.join(dir, 'site'), { recursive: true });
  await cp(path.join(built.outDir, SERVE_FILE), path.join(dir, SERVE_FILE));
  return dir;
}

/** Removes every release folder but those of `keep`. */
export async function pruneReleases(ctx: Ctx, keep: readonly string[]): Promise<void> {
  const names = await readdir(releasesDir(ctx)).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => !keep.includes(n)).map((n) => rm(path.join(releasesDir(ctx), n), { recursive: true, force: true })));
}

const openCandidatePage = (ctx: Ctx, url: string) => openSmokePage(url, { webgpu: ctx.plan.webgpu, tolerance: ctx.plan.tolerance, io: ctx.io });

export const localRollout: RolloutHooks<WebTargetConfig, WebPlan, LocalCandidateState> = {
  async stage(ctx: Ctx, build: BuildResult): Promise<Candidate<LocalCandidateState>> {
    requireChromium();
    const built = build.outputs as WebBuild;
    const { version } = built;
    const key = keyOf(ctx);
    const front = await findLocalSite(ctx.stateDir, key);
    // A candidate an interrupted deploy left behind.
    await stopLocalSite(ctx.stateDir, candidateKey(key));
    const moves = front !== undefined && ctx.plan.port !== undefined && ctx.plan.port !== front.port;
    const endpoint = moves ? `http://127.0.0.1:${ctx.plan.port}/` : front?.url;
    const previous = front ? { previous: front.version, previousEndpoint: front.url } : {};

    if (front && front.version === version && !moves) {
      ctx.io.info('DM_WEB_LOCAL_UNCHANGED', `Version ${version} already serves ${front.url}: smoke-testing it there`, { version, url: front.url });
      const { page, reference } = await openCandidatePage(ctx, front.url);
      return { endpoint: front.url, version, ...previous, unchanged: true, client: page.client, ...(reference ? { reference } : {}), state: { page, release: front.outDir, front, fresh: false }, details: { pid: front.pid, ...pageDetails(page.report) } };
    }

    // The same version moving to another port is served from the release it serves from now.
    const release = front?.version === version ? front.outDir : await keepRelease(ctx, built);
    ctx.io.info('DM_WEB_LOCAL_START', front
      ? `Serving version ${version} on a port of its own beside version ${front.version} (${front.url})`
      : `Starting the local web server of ${key} on 127.0.0.1${ctx.plan.port ? `:${ctx.plan.port}` : ''} with version ${version}`, { version, release });
    const started = front
      ? await startLocalSite({ outDir: release, version, stateDir: ctx.stateDir, key: candidateKey(key) })
      : await startLocalSite({ outDir: release, version, stateDir: ctx.stateDir, key, ...(ctx.plan.port === undefined ? {} : { port: ctx.plan.port }) });
    try {
      const { page, reference } = await openCandidatePage(ctx, started.url);
      return {
        endpoint: endpoint ?? started.url, version, ...previous, client: page.client, ...(reference ? { reference } : {}),
        state: { page, release, fresh: !front, ...(front ? { front } : {}) },
        details: { pid: front?.pid ?? started.pid, candidateUrl: started.url, logFile: started.logFile, ...pageDetails(page.report), sizes: built.sizes },
      };
    } catch (e) {
      await stopLocalSite(ctx.stateDir, started.key);
      if (!front) await Promise.all([rm(releasesDir(ctx), { recursive: true, force: true }), removeKeptReleases(ctx.stateDir, key)]);
      else if (release !== front.outDir && release !== (await keptOrNone(ctx)).previous?.outDir) await rm(release, { recursive: true, force: true });
      throw e;
    }
  },

  async promote(ctx: Ctx, candidate) {
    const { page, release, front, fresh } = candidate.state;
    await page.close();
    const key = keyOf(ctx);
    let served: LocalSiteRecord;
    if (fresh || !front) {
      served = (await findLocalSite(ctx.stateDir, key))!;
    } else if (ctx.plan.port !== undefined && ctx.plan.port !== front.port) {
      // Another port is another URL: the old server stops before the new one takes the port.
      await stopLocalSite(ctx.stateDir, key);
      served = await startLocalSite({ outDir: release, version: candidate.version, stateDir: ctx.stateDir, key, port: ctx.plan.port });
      await stopLocalSite(ctx.stateDir, candidateKey(key));
    } else {
      try {
        served = await swapLocalSite(ctx.stateDir, key, { outDir: release, version: candidate.version });
      } finally {
        // Swapped in or not, the candidate's own server has done its part.
        await stopLocalSite(ctx.stateDir, candidateKey(key));
      }
    }
    // What served before is kept for `deploy-model rollback`; a first deploy keeps nothing, and the
    // same version moving to another port keeps what was kept.
    const kept = await keptOrNone(ctx);
    const previous: KeptRelease | undefined = fresh || !front ? undefined
      : front.version !== candidate.version ? { version: front.version, outDir: front.outDir, since: kept.current?.version === front.version ? kept.current.since : front.startedAt }
        : kept.previous;
    const now = new Date().toISOString();
    await writeKeptReleases(ctx.stateDir, key, { current: { version: candidate.version, outDir: served.outDir, since: now }, ...(previous ? { previous } : {}) });
    await pruneReleases(ctx, previous ? [candidate.version, previous.version] : [candidate.version]);
    ctx.io.info('DM_WEB_LOCAL_LIVE', `Version ${candidate.version} serves ${served.url}`, { version: candidate.version, url: served.url, pid: served.pid });
    return { pid: served.pid, port: served.port, logFile: served.logFile };
  },

  async rollback(ctx: Ctx, candidate) {
    const { page, release, fresh, front } = candidate.state;
    await page.close();
    const key = keyOf(ctx);
    if (fresh) {
      // A first version that failed leaves nothing serving.
      await stopLocalSite(ctx.stateDir, key);
      await Promise.all([rm(releasesDir(ctx), { recursive: true, force: true }), removeKeptReleases(ctx.stateDir, key)]);
    } else {
      await stopLocalSite(ctx.stateDir, candidateKey(key));
      // The candidate may be the kept earlier version deployed again: its folder stays for rollback.
      if (release !== front?.outDir && release !== (await keptOrNone(ctx)).previous?.outDir) await rm(release, { recursive: true, force: true });
    }
    return 'removed';
  },

  async release(_ctx: Ctx, candidate) {
    await candidate.state.page.close();
  },
};

async function logTail(file: string, lines = 20): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).slice(-lines);
}

export const localHost: Omit<TargetDriver<WebTargetConfig, WebPlan>, 'build' | 'synth'> = {
  rollout: localRollout,

  /** The deployment's page, opened in headless Chromium; `close()` closes the browser. */
  async connect(ctx: Ctx) {
    const record = await findLocalSite(ctx.stateDir, keyOf(ctx));
    if (!record) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) is not being served: no local web server runs for it. Run \`deploy-model deploy --target ${ctx.targetName}\`.`, { details: { target: ctx.targetName } });
    }
    requireChromium();
    const { page, reference } = await openSmokePage(record.url, { webgpu: ctx.target.webgpu, tolerance: ctx.target.tolerance, io: ctx.io });
    return { endpoint: record.url, version: record.version, client: page.client, ...(reference ? { reference } : {}), close: () => page.close(), details: { pid: record.pid, ...pageDetails(page.report) } };
  },

  /** Read from the server itself; a record whose server stopped is reported as failed with its log. */
  async status(ctx: Ctx): Promise<TargetStatus> {
    const { record, alive } = await inspectLocalSite(ctx.stateDir, keyOf(ctx));
    if (!record) return { state: 'not-deployed' };
    const details = { pid: record.pid, port: record.port, logFile: record.logFile, siteDir: record.siteDir, startedAt: record.startedAt };
    if (!alive) return { state: 'failed', endpoint: record.url, version: record.version, details: { ...details, stopped: true, logTail: await logTail(record.logFile) } };
    const candidate = await inspectLocalSite(ctx.stateDir, candidateKey(keyOf(ctx)));
    const { previous } = await keptOrNone(ctx);
    return { state: 'running', endpoint: record.url, version: record.version, details: { ...details, ...(candidate.alive ? { candidate: candidate.record!.version } : {}), ...(previous && previous.version !== record.version ? { previousVersion: previous.version } : {}) } };
  },

  /** Stops the servers and removes the releases, the kept earlier one included; a second destroy finds nothing. */
  async destroy(ctx: Ctx) {
    const key = keyOf(ctx);
    const front = await stopLocalSite(ctx.stateDir, key);
    const candidate = await stopLocalSite(ctx.stateDir, candidateKey(key));
    await Promise.all([rm(releasesDir(ctx), { recursive: true, force: true }), removeKeptReleases(ctx.stateDir, key)]);
    return { removed: front || candidate };
  },

  /** Serves the release kept from before the last promote again, behind the same URL, once it runs beside the serving one. */
  async restorePrevious(ctx: Ctx) {
    return (await import('./restore-local-previous.js')).restoreLocalPrevious(ctx);
  },

  /** The served version and port against this build and plan. */
  async diff(ctx: Ctx, build: BuildResult): Promise<TargetDiff> {
    const { version } = build.outputs as WebBuild;
    const record = await findLocalSite(ctx.stateDir, keyOf(ctx));
    const resource = `${keyOf(ctx)} (local web server)`;
    if (!record) return { unchanged: false, changes: [{ resource, action: 'create', detail: `serve version ${version} on 127.0.0.1${ctx.plan.port ? `:${ctx.plan.port}` : ''}` }] };
    const changes: TargetDiff['changes'] = [];
    if (record.version !== version) changes.push({ resource, action: 'update', detail: `version ${record.version} → ${version} (swapped in behind ${record.url} after its smoke test)` });
    if (ctx.plan.port !== undefined && ctx.plan.port !== record.port) changes.push({ resource, action: 'replace', detail: `port ${record.port} → ${ctx.plan.port}`, disruptive: true });
    return { unchanged: changes.length === 0, changes };
  },
};
