/**
 * The web driver: builds the static bundle, then hands the rollout to the host's half: served on
 * 127.0.0.1 (`local-host.ts`), a CDK stack on S3 + CloudFront (`aws-host.ts`), or smoke-tested here
 * and published by hand (`publish-host.ts`). Every deploy's smoke test runs the page in headless Chromium.
 */
import type { BuildResult, TargetContext, TargetDriver } from '../driver.js';
import { smokeRequest } from '../../smoke/smoke-input.js';
import { sitePath, type WebPlan } from './plan.js';
import type { WebTargetConfig } from './schema.js';

type Ctx = TargetContext<WebTargetConfig, WebPlan>;
type HostHalf = Omit<TargetDriver<WebTargetConfig, WebPlan>, 'build'>;

/** The host's half, loaded on first use: only the AWS half loads the CDK and toolkit-lib. */
async function hostOf(ctx: Ctx): Promise<HostHalf> {
  switch (ctx.target.host) {
    case 'local': return (await import('./local-host.js')).localHost;
    case 'aws': return (await import('./aws-host.js')).awsHost;
    default: return (await import('./publish-host.js')).publishHost;
  }
}

/**
 * Writes the bundle the plan describes (reference outputs from onnxruntime-node included) and
 * reports the plan's warnings (a model too large for a browser tab, threads without effect).
 */
async function buildWeb(ctx: Ctx): Promise<BuildResult> {
  for (const w of ctx.plan.problems.filter((p) => p.level === 'warning')) {
    ctx.io.warn(`DM_${w.code}`, `${ctx.targetName}: ${w.path}: ${w.value}: ${w.rule}. Fix: ${w.fix}.`, w);
  }
  const { build } = await import('./build.js');
  const request = await smokeRequest(ctx.signature, ctx.config, ctx.loaded.rootDir);
  const built = await build(ctx.plan, { outDir: ctx.workDir, signature: ctx.signature, smokeRequest: request, io: ctx.io });
  return {
    artifacts: [
      ...built.files.map((f) => ({ kind: `site/${f.path}`, file: sitePath(built.siteDir, f.path), bytes: f.bytes, sha256: f.sha256 })),
      { kind: 'client.ts', file: built.clientFile, bytes: Buffer.byteLength(ctx.plan.clientSource) },
    ],
    outputs: built,
  };
}

export const webDriver: TargetDriver<WebTargetConfig, WebPlan> = {
  build: buildWeb,

  /** On AWS, the CDK assembly in `cdk.out/<stack>`; on the other hosts the bundle is all there is. */
  async synth(ctx: Ctx, build: BuildResult) {
    const host = await hostOf(ctx);
    return host.synth ? host.synth(ctx, build) : build;
  },

  rollout: {
    stage: async (ctx: Ctx, build) => (await hostOf(ctx)).rollout.stage(ctx, build),
    promote: async (ctx: Ctx, candidate) => (await hostOf(ctx)).rollout.promote(ctx, candidate),
    rollback: async (ctx: Ctx, candidate) => (await hostOf(ctx)).rollout.rollback(ctx, candidate),
    release: async (ctx: Ctx, candidate) => (await hostOf(ctx)).rollout.release?.(ctx, candidate),
  },

  connect: async (ctx: Ctx) => (await hostOf(ctx)).connect(ctx),
  status: async (ctx: Ctx) => (await hostOf(ctx)).status(ctx),
  destroy: async (ctx: Ctx) => (await hostOf(ctx)).destroy(ctx),
  /** host 'local' serves the release kept from before the last promote again; the other hosts say what to do instead. */
  restorePrevious: async (ctx: Ctx, build) => (await hostOf(ctx)).restorePrevious!(ctx, build),
  diff: async (ctx: Ctx, build) => (await hostOf(ctx)).diff!(ctx, build),
  /** host 'local': the local server's log; the other hosts serve static files, and it says so. */
  async *logs(ctx: Ctx, options) { yield* (await import('./logs.js')).webLogs(ctx, options); },
};
