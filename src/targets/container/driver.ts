/**
 * The container target's driver: stage builds the image and runs it on loopback (beside the recorded
 * one, behind a weighted front, for a canary or linear rollout), promote pushes and records it,
 * rollback removes it; `deploy-model rollback` puts the recorded previous image back.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { DeployModelError } from '../../errors.js';
import { httpInferenceClient } from '../../smoke/http-client.js';
import { inferUrl } from '../../smoke/infer-url.js';
import type { BuildResult, Candidate, TargetDriver } from '../driver.js';
import { exec } from './_exec.js';
import { buildContainerArtifacts, builtManifests, type ContainerArtifacts, type ContainerContext } from './build.js';
import { detectBuilder, planRemoveImage, type Builder } from './builders.js';
import { diffContainer } from './diff.js';
import { detectGpuRuntime, ensureBaseImage } from './host-checks.js';
import { buildImage, pushImage, removeImage, sameRefs, tagImage, type BuiltImage } from './image.js';
import {
  announceBuild, buildPlatformImages, checkSmokeRun, describeBuild, emulatedRunFailure, pushManifestList, removeManifestList, runsHere, smokeOtherPlatforms, type PlatformImage,
} from './multi-platform.js';
import { nextImageRecord, readImageRecord, removeImageRecord, writeImageRecord, type ImageRecord } from './image-record.js';
import { writeManifests } from './manifests.js';
import type { ContainerPlan } from './plan.js';
import { restoreContainerPrevious } from './restore-previous.js';
import { runContainer, stopContainer, type RunContainerOptions } from './run-container.js';
import type { ContainerTargetConfig } from './schema.js';
import { ensureLocalImage, previousImageMissing, startTrafficSplit, stopTrafficSplit, type TrafficSplit } from './traffic-split.js';

interface ContainerCandidateState {
  builder: Builder;
  image: BuiltImage;
  /** Several platforms: each one's image; `image` then stands for their manifest list. @default - one platform */
  platforms?: PlatformImage[];
  /** The container running the image on loopback for the smoke test. */
  container: string;
  /** What the last deploy recorded, when there is a record. */
  previous?: ImageRecord;
  /** A canary or linear rollout over a recorded image: its run and the weighted front. @default - none */
  split?: TrafficSplit;
}

type ContainerCandidate = Candidate<ContainerCandidateState>;

export const containerDriver: TargetDriver<ContainerTargetConfig, ContainerPlan> = {
  build: buildContainerArtifacts,

  /** Writes the manifests of this build under `k8s/`; the image is built at stage. */
  async synth(ctx: ContainerContext, build: BuildResult) {
    const artifacts = build.outputs as ContainerArtifacts;
    const written = await writeManifests(builtManifests(ctx.plan, artifacts), ctx.workDir, ctx.io);
    return { artifacts: [...build.artifacts, ...written.files.map((file) => ({ kind: 'k8s manifest', file, bytes: fileBytes(file) }))], outputs: artifacts };
  },

  rollout: {
    async stage(ctx: ContainerContext, build: BuildResult): Promise<ContainerCandidate> {
      const { plan } = ctx;
      const artifacts = build.outputs as ContainerArtifacts;
      const previous = await readImageRecord(ctx.workDir);
      // Already in the registry under the same references: smoke-tested again, not pushed again.
      const unchanged = plan.image.push && previous?.pushed === true && sameRefs(previous.refs, artifacts.refs);
      const builder = await detectBuilder({ ...(plan.builder.preferred ? { preferred: plan.builder.preferred } : {}), order: plan.builder.order, mustRun: true, io: ctx.io });
      // A GPU engine needs the GPUs where it runs: checked before pulling a multi-gigabyte base.
      const gpu = plan.run.gpu ? await detectGpuRuntime(builder) : undefined;
      if (gpu) ctx.io.info('DM_CONTAINER_GPU_RUNTIME', `GPU container runtime: ${gpu.detail}`, { detail: gpu.detail });
      // Traffic steps split between the recorded image and the new one: the recorded one must still be here to run.
      const splits = plan.rollout.traffic !== undefined && previous !== undefined && !unchanged;
      if (splits && !(await ensureLocalImage(builder, previous, ctx.io))) {
        throw previousImageMissing(ctx, builder, previous, `rollout.strategy '${plan.rollout.strategy}'`, 'or deploy all at once (strategy \'all-at-once\'), which needs no earlier image');
      }
      await ensureBaseImage(builder, plan.image.baseImage, plan.image.platforms, { engine: plan.engine, io: ctx.io });
      const multi = artifacts.contexts.length > 1;
      let image: BuiltImage;
      let platforms: PlatformImage[] | undefined;
      if (multi) {
        platforms = await buildPlatformImages({ builder, artifacts, engine: plan.engine, io: ctx.io });
        image = { ref: artifacts.contentRef, refs: [...artifacts.refs], sizeBytes: platforms.reduce((n, p) => n + p.image.sizeBytes, 0), buildMs: platforms.reduce((n, p) => n + p.image.buildMs, 0) };
      } else {
        announceBuild({ dir: artifacts.context.dir, platform: artifacts.context.platform, ref: artifacts.contentRef }, ctx.io);
        image = await buildImage({ builder, contextDir: artifacts.context.dir, platform: artifacts.context.platform, refs: artifacts.refs, io: ctx.io, checkNativeFiles: plan.engine === 'onnxruntime' });
      }
      const state: ContainerCandidateState = { builder, image, ...(platforms ? { platforms } : {}), container: `${plan.run.namePrefix}-${randomBytes(4).toString('hex')}`, ...(previous ? { previous } : {}) };
      // The image this machine runs natively is the one the rollout core smoke-tests.
      const native = platforms?.find((p) => p.runsHere === 'native') ?? platforms?.[0];
      // A single image of another architecture (architecture: 'arm64' on an amd64 machine) runs only under emulation, if at all.
      const smokeRef = native?.image.ref ?? image.ref;
      const smokePlatform = native?.platform ?? artifacts.context.platform;
      const smokeRuns = native?.runsHere ?? runsHere(smokePlatform);
      let url: string;
      try {
        checkSmokeRun({ platform: smokePlatform, runsHere: smokeRuns, ref: smokeRef, io: ctx.io });
        ({ url } = await runContainer(builder, smokeRef, {
          ...runOptions(ctx, gpu?.flags), name: state.container, io: ctx.io,
          ...(smokeRuns !== 'native' ? { platform: smokePlatform } : {}),
        }).catch((e: unknown) => { throw smokeRuns === 'emulated' ? emulatedRunFailure(e, smokePlatform, smokeRef) : e; }));
        if (platforms && native) {
          native.smoke = 'run here; the rollout\'s smoke test calls it';
          await smokeOtherPlatforms({ ctx, builder, platforms, reference: { platform: native.platform, url } });
        }
        if (splits) state.split = await startTrafficSplit(ctx, { builder, previous, candidateUrl: url, run: runOptions(ctx, gpu?.flags) });
      } catch (e) {
        // No rollback follows a failed stage: the image it built goes now.
        if (multi || splits) await stopContainer(builder, state.container, { io: ctx.io }).catch(() => undefined);
        if (!unchanged) await discardImage(ctx, state).catch((cause) => warnKept(ctx, state, cause));
        throw e;
      }
      const client = httpInferenceClient(inferUrl(url, plan.image.modelName));
      return {
        endpoint: image.ref,
        ...(previous ? { previousEndpoint: previous.ref, previous: previous.contentTag } : {}),
        version: artifacts.contentTag,
        client,
        // The endpoint users reach during the traffic steps: the front, split between the recorded image and this one.
        ...(state.split ? { liveClient: httpInferenceClient(inferUrl(state.split.front.url, plan.image.modelName)) } : {}),
        ...(unchanged ? { unchanged: true } : {}),
        state,
        details: {
          image: image.ref, refs: image.refs, sizeBytes: image.sizeBytes, buildMs: image.buildMs,
          ...(platforms ? { platforms: platforms.map((p) => ({ platform: p.platform, ref: p.image.ref, sizeBytes: p.image.sizeBytes, build: describeBuild(p.platform, p.build), runsHere: p.runsHere, smoke: p.smoke })) } : {}),
          ...(plan.image.push ? { pushTo: plan.image.repository } : {}),
        },
      };
    },

    /** An unchanged image was run only for its smoke test: stop the run. */
    async release(ctx: ContainerContext, candidate: ContainerCandidate) {
      await stopSplit(ctx, candidate.state);
      await stopQuietly(ctx, candidate.state);
    },

    /** A traffic step: the front gives the new image `percent` of the requests, the recorded one the rest. */
    async shift(ctx: ContainerContext, candidate: ContainerCandidate, percent: number) {
      const { split } = candidate.state;
      // The rollout core shifts only a candidate with a liveClient, which stage gives only with a split.
      if (!split) throw new Error(`${ctx.targetName}: a traffic step was asked for with no recorded image running beside the new one`);
      split.front.setCandidatePercent(percent);
      ctx.io.info('DM_CONTAINER_SHIFT', `${ctx.targetName}: ${split.front.url} sends ${percent} % of the requests to version ${candidate.version}, the rest to ${candidate.previous}`, { version: candidate.version, previous: candidate.previous ?? '', percent, url: split.front.url });
    },

    async promote(ctx: ContainerContext, candidate: ContainerCandidate) {
      const { builder, image, container, platforms } = candidate.state;
      const split = await stopSplit(ctx, candidate.state);
      await stopContainer(builder, container, { io: ctx.io });
      if (ctx.plan.image.push && platforms) await pushManifestList(builder, platforms, image.refs, ctx.io);
      else if (ctx.plan.image.push) await pushImage(builder, image.refs, ctx.io);
      else ctx.io.info('DM_CONTAINER_NOT_PUSHED', `${image.ref} stays local: set \`push\` on the target to push it to a registry`, { ref: image.ref });
      // The record it replaces becomes its previous, for `deploy-model rollback`.
      await writeImageRecord(ctx.workDir, nextImageRecord(candidate.state.previous, {
        ref: image.ref, refs: image.refs, contentTag: candidate.version, builder: builder.name, sizeBytes: image.sizeBytes, buildMs: image.buildMs, pushed: ctx.plan.image.push,
      }));
      // Written only now, so the manifests under k8s/ always name an image that passed its smoke test.
      await writeManifests(builtManifests(ctx.plan, { contentRef: image.ref }), ctx.workDir, ctx.io);
      // For the report: how the front split the traffic steps' requests.
      return split;
    },

    async rollback(ctx: ContainerContext, candidate: ContainerCandidate) {
      const { split } = candidate.state;
      if (split && split.front.candidatePercent > 0) {
        // Every request back on the recorded image before anything stops.
        ctx.io.warn('DM_CONTAINER_SHIFT_BACK', `${ctx.targetName}: version ${candidate.version} failed at ${split.front.candidatePercent} % of the requests: ${split.front.url} sends every request to ${candidate.previous} again`, { version: candidate.version, previous: candidate.previous ?? '', percent: split.front.candidatePercent });
        split.front.setCandidatePercent(0);
      }
      const stepped = await stopSplit(ctx, candidate.state);
      // A candidate that crashed under a step's traffic may be gone already: its run is removed quietly.
      await stopQuietly(ctx, candidate.state);
      await discardImage(ctx, candidate.state);
      return stepped ? { outcome: 'removed' as const, details: stepped } : 'removed';
    },
  },

  /**
   * An image has no endpoint of its own: the recorded image is run on loopback, for `smoke`,
   * `invoke` and the smoke test after `rollback`, and stopped by the deployment's `close`.
   */
  async connect(ctx) {
    const record = await readImageRecord(ctx.workDir);
    if (!record) {
      throw new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no recorded image: nothing was deployed (no image.json in ${ctx.workDir}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`, { details: { target: ctx.targetName } });
    }
    const builder = await detectBuilder({ preferred: record.builder, order: ctx.plan.builder.order, mustRun: true, io: ctx.io });
    if (!(await ensureLocalImage(builder, record, ctx.io))) {
      throw new DeployModelError('TARGET_ACTION_UNAVAILABLE', `Target '${ctx.targetName}' is an image, with no endpoint of its own, and its recorded image ${record.ref} is not in ${builder.name}'s local storage to run here. ` +
        `Apply deployment.yaml, service.yaml and hpa.yaml from ${ctx.workDir}/k8s/ (or inferenceservice.yaml where KServe is installed), or run the image, and call that.`, { details: { target: ctx.targetName, ref: record.ref } });
    }
    const gpu = ctx.plan.run.gpu ? await detectGpuRuntime(builder) : undefined;
    const running = await runContainer(builder, record.ref, { ...runOptions(ctx, gpu?.flags), name: `${ctx.plan.run.namePrefix}-${randomBytes(4).toString('hex')}`, io: ctx.io });
    return {
      endpoint: record.ref,
      version: record.contentTag,
      client: httpInferenceClient(inferUrl(running.url, ctx.plan.image.modelName)),
      close: async () => { await running.stop(); },
      details: { image: record.ref, url: running.url, container: running.name },
    };
  },

  async status(ctx) {
    const record = await readImageRecord(ctx.workDir);
    if (!record) return { state: 'not-deployed' };
    return { state: record.pushed ? 'unknown' : 'stopped', endpoint: record.ref, version: record.contentTag, details: { ...record } };
  },

  async destroy(ctx) {
    const record = await readImageRecord(ctx.workDir);
    if (!record) return { removed: false };
    const builder = await detectBuilder({ preferred: record.builder, io: ctx.io });
    const r = await exec([builder.command, 'rmi', '--force', ...record.refs], { timeoutMs: 120_000 });
    if (record.pushed) ctx.io.warn('DM_CONTAINER_REGISTRY_KEPT', `Removed the local image; ${record.refs.join(', ')} stay in the registry (delete them there).`, { refs: record.refs });
    // The record goes with the image, so status and a second destroy see nothing deployed.
    if (r.code === 0) await removeImageRecord(ctx.workDir);
    return { removed: r.code === 0 };
  },

  restorePrevious: restoreContainerPrevious,

  diff: diffContainer,

  /** Where the image runs, which is not here: says where its logs are. */
  async *logs(ctx, options) { yield* (await import('./logs.js')).containerLogs(ctx, options); },
};

/**
 * Removes the candidate's references, leaving what the last deploy recorded: a rebuild of the
 * recorded content keeps the recorded references, and an extra tag (`latest`) that the candidate
 * took from the recorded image is given back to it.
 */
async function discardImage(ctx: ContainerContext, state: ContainerCandidateState): Promise<void> {
  const { builder, image, previous, platforms } = state;
  if (platforms) {
    // Per-platform images and their local list; the references they carry are this build's own.
    await removeManifestList(builder, image.ref).catch(() => undefined);
    await removeImage(builder, platforms.map((p) => p.image.ref), ctx.io);
    return;
  }
  const sameImage = previous?.ref === image.ref;
  const remove = sameImage ? image.refs.filter((r) => !previous.refs.includes(r)) : image.refs;
  if (remove.length > 0) await removeImage(builder, remove, ctx.io);
  if (!previous || sameImage) return;
  for (const ref of image.refs.filter((r) => previous.refs.includes(r))) {
    await tagImage(builder, previous.ref, ref, ctx.io).catch(() => {
      // The recorded image is no longer here (removed after its push): there is nothing to give the tag back to.
      ctx.io.debug('DM_CONTAINER_TAG_SKIPPED', `${previous.ref} is not in local storage; ${ref} is left untagged`, { ref, previous: previous.ref });
    });
  }
}

function warnKept(ctx: ContainerContext, state: ContainerCandidateState, cause: unknown): void {
  ctx.io.warn('DM_CONTAINER_IMAGE_KEPT', `Could not remove ${state.image.refs.join(', ')} after the failed start: ${(cause as Error).message}. Remove it with \`${planRemoveImage(state.builder, state.image.refs).join(' ')}\`.`, { refs: state.image.refs });
}

/** How stage and connect run an image: the plan's port, readiness and writable folders. */
function runOptions(ctx: ContainerContext, gpuFlags?: readonly string[]): RunContainerOptions {
  const { run } = ctx.plan;
  return {
    port: run.containerPort, healthPath: run.readyPath, readyTimeoutMs: run.readyTimeoutMs,
    ...(gpuFlags ? { gpuFlags } : {}), ...(run.tmpfs.length > 0 ? { tmpfs: run.tmpfs } : {}),
  };
}

/** Closes the traffic split, once; says for the report how many requests the front sent each way. */
async function stopSplit(ctx: ContainerContext, state: ContainerCandidateState): Promise<{ split: { url: string; served: Record<string, number> } } | undefined> {
  const { split } = state;
  if (!split) return undefined;
  state.split = undefined;
  await stopTrafficSplit(ctx, state.builder, split);
  return { split: { url: split.front.url, served: { ...split.front.served } } };
}

/** Stops the candidate's run, reporting a failure instead of throwing it (the smoke test's answer matters more). */
async function stopQuietly(ctx: ContainerContext, state: ContainerCandidateState): Promise<void> {
  try {
    await stopContainer(state.builder, state.container, { io: ctx.io });
  } catch (e) {
    ctx.io.warn('DM_CONTAINER_STOP_FAILED', `Could not stop ${state.container}: ${(e as Error).message}. Remove it with \`${state.builder.command} rm --force ${state.container}\`.`, { name: state.container });
  }
}


function fileBytes(file: string): number {
  return statSync(file).size;
}
