/**
 * The web target on a static host the user publishes the bundle to (`netlify`, `cloudflare-pages`,
 * `vercel`, `nginx`, `github-pages`): deploy serves the bundle on 127.0.0.1 with the headers the
 * host's file sets, smoke-tests it there, and says which folder to publish. Where it is then served
 * is out of deploy-model's sight: connect, status and destroy say so.
 */
import { DeployModelError } from '../../errors.js';
import type { BuildResult, Candidate, RolloutHooks, TargetContext, TargetDriver } from '../driver.js';
import type { WebBuild } from './build.js';
import { requireChromium } from './find-chromium.js';
import { openSmokePage, pageDetails, type PageSession } from './page-session.js';
import type { WebPlan } from './plan.js';
import { serveLocally, type LocalSite } from './serve-locally.js';
import type { WebTargetConfig } from './schema.js';

type Ctx = TargetContext<WebTargetConfig, WebPlan>;

interface PublishCandidateState { page: PageSession; site: LocalSite; siteDir: string }

async function close(state: PublishCandidateState): Promise<void> {
  await state.page.close();
  await state.site.close();
}

const publishRollout: RolloutHooks<WebTargetConfig, WebPlan, PublishCandidateState> = {
  async stage(ctx: Ctx, build: BuildResult): Promise<Candidate<PublishCandidateState>> {
    requireChromium();
    const built = build.outputs as WebBuild;
    const site = await serveLocally({ siteDir: built.siteDir, plan: ctx.plan });
    try {
      const { page, reference } = await openSmokePage(site.url, { webgpu: ctx.plan.webgpu, tolerance: ctx.plan.tolerance, io: ctx.io });
      return {
        endpoint: built.siteDir, version: built.version, client: page.client, ...(reference ? { reference } : {}),
        state: { page, site, siteDir: built.siteDir },
        details: { publishTo: ctx.plan.host, siteDir: built.siteDir, ...pageDetails(page.report), sizes: built.sizes },
      };
    } catch (e) {
      await site.close();
      throw e;
    }
  },

  async promote(ctx: Ctx, candidate) {
    await close(candidate.state);
    ctx.io.info('DM_WEB_PUBLISH', `Version ${candidate.version} passed its smoke test: publish ${candidate.state.siteDir} to ${ctx.plan.host}; deploy-model does not upload to it`, { siteDir: candidate.state.siteDir, host: ctx.plan.host });
  },

  async rollback(_ctx: Ctx, candidate) {
    await close(candidate.state);
    return 'removed';
  },

  async release(_ctx: Ctx, candidate) {
    await close(candidate.state);
  },
};

export const publishHost: Omit<TargetDriver<WebTargetConfig, WebPlan>, 'build' | 'synth'> = {
  rollout: publishRollout,

  async connect(ctx: Ctx) {
    throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' is a bundle published to ${ctx.target.host} by hand, so deploy-model does not know where it is served. \`deploy-model deploy --target ${ctx.targetName}\` smoke-tests it on 127.0.0.1 before you publish it; open the published page to check it there.`, { details: { target: ctx.targetName, host: ctx.target.host } });
  },

  async status(ctx: Ctx) {
    return { state: 'unknown', details: { host: ctx.target.host, reason: `published to ${ctx.target.host} by hand: deploy-model does not track it`, siteDir: `${ctx.workDir}/site` } };
  },

  async destroy(ctx: Ctx) {
    ctx.io.info('DM_WEB_PUBLISHED_BY_HAND', `Target '${ctx.targetName}' is published to ${ctx.target.host} by hand: remove it there. Nothing of it runs here.`, { host: ctx.target.host });
    return { removed: false };
  },

  /** The host serves what was published last; publishing the earlier folder again is the rollback. */
  async restorePrevious(ctx: Ctx) {
    throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' is a bundle published to ${ctx.target.host} by hand, so deploy-model cannot put an earlier version back there. Publish the earlier folder again: deploy the earlier model or config (\`deploy-model deploy --target ${ctx.targetName}\` smoke-tests it and writes it to ${ctx.workDir}/site), then publish that folder to ${ctx.target.host}, or use the host's own history of deploys where it keeps one.`, { kind: 'usage', details: { target: ctx.targetName, type: ctx.target.type, action: 'rollback', host: ctx.target.host, siteDir: `${ctx.workDir}/site` } });
  },

  async diff(ctx: Ctx, build: BuildResult) {
    const built = build.outputs as WebBuild;
    return { unchanged: false, changes: [{ resource: built.siteDir, action: 'update', detail: `smoke-test version ${built.version} on 127.0.0.1, then publish the folder to ${ctx.plan.host} by hand` }] };
  },
};
