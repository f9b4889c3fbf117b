import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { DeployModelError } from '../../errors.js';
import { httpInferenceClient } from '../../smoke/http-client.js';
import type { Artifact, TargetContext, LegacyTargetDriver } from '../driver.js';
import { inferUrl } from '../../smoke/infer-url.js';
import { servingEnv } from '../../../handlers/serving-env.js';
import { exec } from './_exec.js';
import { buildContainerTarget, readImageRecord, writeImageRecord, type ContainerBuild } from './build-container-target.js';
import { detectBuilder } from './builders.js';
import { pushImage } from './image.js';
import { runContainer } from './run-container.js';
import type { ContainerTargetConfig } from './schema.js';

type Ctx = TargetContext<ContainerTargetConfig>;

function options(ctx: Ctx, extra: { image?: boolean; mustRun?: boolean } = {}) {
  // runtime.*, the pool and batching settings travel in the image's env (DM_EXECUTION_PROVIDERS, DM_MAX_BATCH_SIZE, ...).
  const serverEnv = servingEnv({ modelName: ctx.config.name, runtime: ctx.config.runtime, batching: ctx.config.model.batching, entry: 'server' });
  return { name: ctx.config.name, target: ctx.target, modelPath: ctx.signature.file, signature: ctx.signature, outDir: ctx.workDir, io: ctx.io, serverEnv, ...extra };
}

function artifacts(build: ContainerBuild): Artifact[] {
  const list: Artifact[] = [{ kind: 'build context', file: build.context.dir, bytes: build.context.bytes, sha256: build.context.digest }];
  if (build.image) list.push({ kind: `image (${build.builder?.name})`, file: build.image.ref, bytes: build.image.sizeBytes });
  for (const file of build.manifests.files) list.push({ kind: 'k8s manifest', file, bytes: statSync(file).size });
  return list;
}

/**
 * The container target. Deploy builds the image, runs it on loopback for the smoke test, and
 * only when the smoke test passes pushes it (when `push` is set). The manifests reference the
 * content tag, so applying them rolls out exactly the image that was tested.
 */
export const containerDriver: LegacyTargetDriver<ContainerTargetConfig> = {
  type: 'container',

  async validate() {
    return [];
  },

  async build(ctx) {
    return { artifacts: artifacts(await buildContainerTarget(options(ctx))) };
  },

  async synth(ctx) {
    return { artifacts: artifacts(await buildContainerTarget(options(ctx, { image: false }))) };
  },

  async deploy(ctx: Ctx, smoke) {
    const build = await buildContainerTarget(options(ctx, { mustRun: true }));
    const builder = build.builder!;
    const image = build.image!;
    const running = await runContainer(builder, image.ref, { port: ctx.target.port, io: ctx.io });
    let result;
    try {
      result = await smoke(httpInferenceClient(inferUrl(running.url, ctx.config.name)));
    } finally {
      await running.stop();
    }
    const details = { image: image.ref, refs: image.refs, sizeBytes: image.sizeBytes, buildMs: image.buildMs, manifests: build.manifests.dir };
    if (result.status !== 'passed') return { endpoint: image.ref, version: build.context.contentTag, smoke: result, promoted: false, details };
    if (ctx.target.push) await pushImage(builder, image.refs, ctx.io);
    else ctx.io.info('DM_CONTAINER_NOT_PUSHED', `${image.ref} stays local: set \`push\` on the target to push it to a registry`, { ref: image.ref });
    await writeImageRecord(ctx.workDir, { ref: image.ref, refs: image.refs, builder: builder.name, sizeBytes: image.sizeBytes, buildMs: image.buildMs, pushed: !!ctx.target.push });
    return { endpoint: image.ref, version: build.context.contentTag, smoke: result, promoted: true, details: { ...details, pushed: !!ctx.target.push } };
  },

  async connect(ctx) {
    throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' is an image, with no endpoint of its own: deploy smoke-tests it by running it locally. ` +
      `Apply deployment.yaml, service.yaml and hpa.yaml from ${ctx.workDir}/k8s/ (or inferenceservice.yaml where KServe is installed), or run the image, and call that.`, { details: { target: ctx.targetName } });
  },

  async status(ctx) {
    const record = await readImageRecord(ctx.workDir);
    if (!record) return { state: 'not-deployed' };
    return { state: record.pushed ? 'unknown' : 'stopped', endpoint: record.ref, version: record.ref.split(':').pop(), details: { ...record } };
  },

  async destroy(ctx) {
    const record = await readImageRecord(ctx.workDir);
    if (!record) return { removed: false };
    const builder = await detectBuilder({ preferred: record.builder, io: ctx.io });
    const r = await exec([builder.command, 'rmi', '--force', ...record.refs], { timeoutMs: 120_000 });
    if (record.pushed) ctx.io.warn('DM_CONTAINER_REGISTRY_KEPT', `Removed the local image; ${record.refs.join(', ')} stay in the registry (delete them there).`, { refs: record.refs });
    // The record goes with the image, so status and a second destroy see nothing deployed.
    if (r.code === 0) await rm(join(ctx.workDir, 'image.json'), { force: true });
    return { removed: r.code === 0 };
  },
};
