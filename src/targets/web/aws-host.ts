/**
 * The web target on `host: 'aws'`: one CDK stack (a private S3 bucket behind CloudFront, the site
 * uploaded by the stack), deployed with toolkit-lib like the other AWS targets.
 *   stage:    read the deployed template, then deploy the stack with the new site: CloudFront
 *             serves the new page from then on (a static site has no slot to stage it beside);
 *   smoke:    the deployed URL in headless Chromium;
 *   promote:  nothing more;
 *   rollback: deploy the template read before again, which uploads the previous site back; on a
 *             first deploy there is none, and the page stays (reported as kept).
 */
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { WEB_SITE_VERSION_OUTPUT, WEB_STATIC_SITE_OUTPUTS as OUT } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import { describeStack, type StackDescription } from '../../kits/aws/describe-stack.js';
import { destroyStack } from '../../kits/aws/destroy-stack.js';
import { readStackTemplate, redeployTemplate } from '../../kits/aws/redeploy-template.js';
import { stackOutputsMissing } from '../../kits/aws/stack-outputs-missing.js';
import type { BuildResult, Candidate, RolloutHooks, TargetContext, TargetDiff, TargetDriver, TargetStatus } from '../driver.js';
import type { WebBuild } from './build.js';
import { requireChromium } from './find-chromium.js';
import { openSmokePage, pageDetails, type PageSession } from './page-session.js';
import { webStackName, type WebPlan, type WebStackPlan } from './plan.js';
import type { WebTargetConfig } from './schema.js';

type Ctx = TargetContext<WebTargetConfig, WebPlan>;

interface AwsCandidateState {
  page: PageSession;
  /** The template deployed before this deploy; undefined on a first deploy. */
  previousTemplate?: string;
}

/** Replacing or deleting one of these takes the site off its URL. */
const SERVING_TYPES: ReadonlySet<string> = new Set(['AWS::CloudFront::Distribution', 'AWS::S3::Bucket']);

/**
 * The stack's name and region, from the plan; connect, status and destroy also run for a config
 * the planner refused (the toolkit then gives the base plan), so they are derived again there.
 */
function stackOf(ctx: Ctx): Pick<WebStackPlan, 'stackName' | 'region'> {
  if (ctx.plan.aws) return ctx.plan.aws;
  if (!ctx.target.region) {
    throw new DeployModelError('WEB_REGION_MISSING', `targets.${ctx.targetName}.region is not set: the web target on AWS needs the region of its bucket and stack, e.g. region: 'eu-west-1'.`, { kind: 'usage', details: { target: ctx.targetName } });
  }
  return { stackName: webStackName({ config: ctx.config, stage: ctx.loaded.stage, targetName: ctx.targetName }), region: ctx.target.region };
}

/** The site's URL and version, or NOT_DEPLOYED with the fix. */
function deployedSite(ctx: Ctx, stack: StackDescription | undefined, stackName: string, region: string): { url: string; version?: string } {
  const url = stack?.outputs[OUT.url];
  if (stack && !url && /_COMPLETE$/.test(stack.status) && !stack.status.startsWith('DELETE')) throw stackOutputsMissing(stackName, region, [OUT.url], stack.outputs);
  if (!stack || !url) {
    throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no deployed site: stack ${stackName} ${stack ? `is ${stack.status} without outputs` : 'does not exist'} in ${region}. Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName, stackName, status: stack?.status } });
  }
  return { url, ...(stack.outputs[WEB_SITE_VERSION_OUTPUT] ? { version: stack.outputs[WEB_SITE_VERSION_OUTPUT] } : {}) };
}

/** What `status` says about the stack, from CloudFormation's status alone. */
export function webStackState(stack: StackDescription): TargetStatus['state'] {
  const s = stack.status;
  if (s === 'DELETE_COMPLETE') return 'not-deployed';
  if (s === 'DELETE_IN_PROGRESS') return 'stopped';
  if (s === 'ROLLBACK_COMPLETE' || s.endsWith('_FAILED')) return 'failed';
  // An update in progress or rolled back keeps a site serving.
  if (s.startsWith('UPDATE_') && stack.outputs[OUT.url]) return 'running';
  if (s.endsWith('_IN_PROGRESS')) return 'creating';
  if (s.endsWith('_COMPLETE')) return 'running';
  return 'unknown';
}

// Synth, deploy and diff load aws-cdk-lib and toolkit-lib; status, smoke and invoke do not.
async function synthFor(ctx: Ctx, built: WebBuild, outdir?: string) {
  const aws = ctx.plan.aws!;
  const { synthChecked } = await import('./synth.js');
  return synthChecked({ plan: { ...ctx.plan, aws }, siteDir: built.siteDir, version: built.version, rootDir: ctx.loaded.rootDir, io: ctx.io, ...(outdir ? { outdir } : {}) });
}

export const awsRollout: RolloutHooks<WebTargetConfig, WebPlan, AwsCandidateState> = {
  async stage(ctx: Ctx, build: BuildResult): Promise<Candidate<AwsCandidateState>> {
    // Before anything is uploaded: without a browser the new page could not be checked.
    requireChromium();
    const built = build.outputs as WebBuild;
    const { stackName, region } = stackOf(ctx);
    const before = await describeStack({ stackName, region });
    const previous = before?.outputs[WEB_SITE_VERSION_OUTPUT];
    const previousTemplate = previous ? await readStackTemplate({ stackName, region }) : undefined;
    ctx.io.info('DM_WEB_AWS_DEPLOY', previous
      ? `Uploading version ${built.version} to stack ${stackName}; version ${previous} serves until the upload ends`
      : `First deploy of ${stackName}: creating the bucket, the distribution and the site`, { stackName, version: built.version, previous });
    const synth = await synthFor(ctx, built);
    const { deployStack } = await import('../../kits/aws/deploy-stack.js');
    const { outputs } = await deployStack({ assemblyDir: synth.assemblyDir, stackName, region, io: ctx.io });
    const url = outputs[OUT.url];
    if (!url) throw stackOutputsMissing(stackName, region, [OUT.url], outputs);
    let opened: Awaited<ReturnType<typeof openSmokePage>>;
    try {
      opened = await openSmokePage(url, { webgpu: ctx.plan.webgpu, tolerance: ctx.plan.tolerance, io: ctx.io });
    } catch (e) {
      // The page ran but its smoke data cannot be read (or Chromium broke): the new site is not
      // proven, so what served before is put back before the error is reported.
      if (previousTemplate && previous !== built.version) await redeployTemplate({ stackName, region, templateBody: previousTemplate, io: ctx.io });
      throw e;
    }
    const { page, reference } = opened;
    return {
      endpoint: url, version: built.version, ...(previous ? { previous } : {}), ...(previous === built.version ? { unchanged: true } : {}),
      client: page.client, ...(reference ? { reference } : {}),
      state: { page, ...(previousTemplate ? { previousTemplate } : {}) },
      details: { stackName, bucketName: outputs[OUT.bucketName], distributionId: outputs[OUT.distributionId], ...pageDetails(page.report), sizes: built.sizes },
    };
  },

  async promote(ctx: Ctx, candidate) {
    await candidate.state.page.close();
    ctx.io.info('DM_WEB_AWS_LIVE', `Version ${candidate.version} is live at ${candidate.endpoint}`, { version: candidate.version, endpoint: candidate.endpoint });
  },

  async rollback(ctx: Ctx, candidate) {
    const { page, previousTemplate } = candidate.state;
    await page.close();
    const { stackName, region } = stackOf(ctx);
    if (!previousTemplate) {
      ctx.io.error('DM_WEB_FIRST_DEPLOY_SMOKE_FAILED', `Version ${candidate.version} failed its smoke test. This was the first deploy of ${stackName}, so there was no previous site to put back: ${candidate.endpoint} serves version ${candidate.version}. Fix the model or config and deploy again, or run \`deploy-model destroy --target ${ctx.targetName}\`.`, { version: candidate.version, stackName });
      return 'kept';
    }
    await redeployTemplate({ stackName, region, templateBody: previousTemplate, io: ctx.io });
    ctx.io.warn('DM_WEB_AWS_RESTORED', `Version ${candidate.version} failed its smoke test: stack ${stackName} is back on version ${candidate.previous}`, { version: candidate.version, previous: candidate.previous });
    return { outcome: 'removed', details: { restoredVersion: candidate.previous } };
  },

  async release(_ctx: Ctx, candidate) {
    await candidate.state.page.close();
  },
};

export const awsHost: Omit<TargetDriver<WebTargetConfig, WebPlan>, 'build'> = {
  rollout: awsRollout,

  /** Writes `cdk.out/<stack>` with no credentials and no network call. */
  async synth(ctx: Ctx, build: BuildResult) {
    const result = await synthFor(ctx, build.outputs as WebBuild);
    return { artifacts: [{ kind: `CloudFormation template (${result.stackName})`, file: result.templateFile, bytes: statSync(result.templateFile).size }] };
  },

  /** The deployed page, opened in headless Chromium; `close()` closes the browser. */
  async connect(ctx: Ctx) {
    const { stackName, region } = stackOf(ctx);
    const site = deployedSite(ctx, await describeStack({ stackName, region }), stackName, region);
    requireChromium();
    const { page, reference } = await openSmokePage(site.url, { webgpu: ctx.target.webgpu, tolerance: ctx.target.tolerance, io: ctx.io });
    return { endpoint: site.url, ...(site.version ? { version: site.version } : {}), client: page.client, ...(reference ? { reference } : {}), close: () => page.close(), details: { stackName, ...pageDetails(page.report) } };
  },

  /** Read from the stack's status and outputs: no local state, so CI sees what a laptop deployed. */
  async status(ctx: Ctx): Promise<TargetStatus> {
    const { stackName, region } = stackOf(ctx);
    const stack = await describeStack({ stackName, region });
    if (!stack) return { state: 'not-deployed', details: { stackName } };
    const o = stack.outputs;
    return {
      state: webStackState(stack),
      ...(o[OUT.url] ? { endpoint: o[OUT.url] } : {}),
      ...(o[WEB_SITE_VERSION_OUTPUT] ? { version: o[WEB_SITE_VERSION_OUTPUT] } : {}),
      details: { stackName, stackStatus: stack.status, lastUpdated: stack.lastUpdated, statusReason: stack.statusReason, bucketName: o[OUT.bucketName], distributionId: o[OUT.distributionId] },
    };
  },

  /** Deletes the stack; the bucket and its objects go with it (`autoDeleteObjects`). */
  async destroy(ctx: Ctx) {
    const { stackName, region } = stackOf(ctx);
    return { removed: (await destroyStack({ stackName, region, io: ctx.io })).removed };
  },

  /**
   * Refused: the stack keeps one site. Its BucketDeployment prunes the objects of the version it
   * replaces and CloudFront serves the bucket's root, and the template that served before is held
   * only while a deploy runs (its own smoke-test rollback), so nothing is left to go back to.
   */
  async restorePrevious(ctx: Ctx) {
    const { stackName, region } = stackOf(ctx);
    throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' (web on S3 + CloudFront, stack ${stackName} in ${region}) keeps no previous site to roll back to: each deploy replaces the files in the bucket, and the previous site is put back only when the new one fails its smoke test during the deploy. Deploy the earlier model or config again (\`deploy-model deploy --target ${ctx.targetName}\`): it is uploaded and smoke-tested like any other version.`, { kind: 'usage', details: { target: ctx.targetName, type: ctx.target.type, action: 'rollback', host: 'aws', stackName } });
  },

  /** CloudFormation's diff of the stack this build would deploy against the deployed one. */
  async diff(ctx: Ctx, build: BuildResult): Promise<TargetDiff> {
    const { stackName, region } = stackOf(ctx);
    const deployed = await describeStack({ stackName, region });
    // Its own assembly: `cdk.out/<stack>` stays what `synth` and `deploy` wrote.
    const outdir = path.join(ctx.workDir, 'cdk.diff');
    rmSync(outdir, { recursive: true, force: true });
    const synth = await synthFor(ctx, build.outputs as WebBuild, outdir);
    const { diffStack, stackTargetDiff } = await import('../../kits/aws/diff-stack.js');
    return stackTargetDiff(await diffStack({ assemblyDir: synth.assemblyDir, stackName, region, io: ctx.io, deployed: deployed !== undefined }), SERVING_TYPES);
  },
};
