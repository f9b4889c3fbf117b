/** Several platforms: one image each, each checked and (where this machine can run it) compared with the native one, pushed as one manifest list. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { compareOutputs, type V2OutputTensor } from '../../smoke/compare-outputs.js';
import { httpInferenceClient } from '../../smoke/http-client.js';
import { inferUrl } from '../../smoke/infer-url.js';
import { smokeRequest } from '../../smoke/smoke-input.js';
import { runOrThrow } from './_exec.js';
import type { ContainerArtifacts, ContainerContext } from './build.js';
import {
  planDockerManifestCreate, planManifestAdd, planManifestCreate, planManifestPush, planManifestRemove, planPush, type Builder, type Platform,
} from './builders.js';
import { buildImage, type BuiltImage } from './image.js';
import { runContainer } from './run-container.js';
import type { ContainerEngine } from './schema.js';

/** How long an emulated image may take to get ready before it counts as not run here. */
const EMULATED_READY_MS = 90_000;

/** How this machine runs a platform's image: natively, under qemu-user emulation (binfmt_misc), or not at all. */
export type RunsHere = 'native' | 'emulated' | 'no';

export interface PlatformImage {
  platform: Platform;
  image: BuiltImage;
  runsHere: RunsHere;
  /** How the image was built here: natively, for another platform without emulation (COPY only), or with RUN steps under qemu. */
  build: BuildEmulation;
  /** What the comparison with the native image found, once stage ran it. */
  smoke?: string;
}

const NODE_PLATFORM: Readonly<Record<string, Platform>> = { x64: 'linux/amd64', arm64: 'linux/arm64' };
/** The binfmt_misc entries Debian's qemu-user-static registers (update-binfmts), per platform. */
const QEMU_BINFMT: Readonly<Record<Platform, string>> = { 'linux/amd64': 'qemu-x86_64', 'linux/arm64': 'qemu-aarch64' };

/**
 * Whether this machine runs `platform`'s images: natively on Linux of that architecture; under
 * emulation where binfmt_misc has an enabled qemu entry with the F flag (the interpreter is opened
 * at registration, so it works inside containers), or on macOS and Windows, whose Docker Desktop
 * and podman machine VMs emulate the other architecture.
 */
export function runsHere(platform: Platform, host: { platform: NodeJS.Platform; arch: string; binfmtDir?: string } = { platform: process.platform, arch: process.arch }): RunsHere {
  if (host.platform === 'linux' && NODE_PLATFORM[host.arch] === platform) return 'native';
  if (host.platform !== 'linux') return NODE_PLATFORM[host.arch] === platform ? 'native' : 'emulated';
  const entry = `${host.binfmtDir ?? '/proc/sys/fs/binfmt_misc'}/${QEMU_BINFMT[platform]}`;
  if (!existsSync(entry)) return 'no';
  const text = readFileSync(entry, 'utf8');
  return /^enabled/m.test(text) && /^flags:.*F/m.test(text) ? 'emulated' : 'no';
}

/**
 * How a Dockerfile builds for `platform` on this machine: `native`; `copy-only` when it is for
 * another platform but runs nothing of it (no RUN instruction: files are copied and metadata set,
 * so no emulation is needed); `qemu` when it has RUN steps for another platform, which the builder
 * runs through qemu-user-static's binfmt_misc entry.
 */
export type BuildEmulation = 'native' | 'copy-only' | 'qemu';

export function buildEmulation(dockerfile: string, platform: Platform, here: RunsHere): BuildEmulation {
  if (here === 'native') return 'native';
  return /^\s*RUN\s/im.test(dockerfile) ? 'qemu' : 'copy-only';
}

/** What a build needed, in words, for the progress messages and the report. */
export function describeBuild(platform: Platform, how: BuildEmulation): string {
  switch (how) {
    case 'native': return `built natively for ${platform}`;
    case 'copy-only': return `built for ${platform} without emulation: the Dockerfile only copies files (no RUN), so nothing of ${platform} ran`;
    case 'qemu': return `built for ${platform} with its RUN steps under qemu-user-static emulation (binfmt_misc ${QEMU_BINFMT[platform]})`;
  }
}

/**
 * Says how a context will be built here (DM_CONTAINER_PLATFORM_BUILD), and refuses, before the
 * build, one that needs emulation this machine does not have (CONTAINER_EMULATION_UNAVAILABLE).
 */
export function announceBuild(context: { dir: string; platform: Platform; ref: string }, io?: IoHelper): BuildEmulation {
  const here = runsHere(context.platform);
  const build = buildEmulation(readFileSync(join(context.dir, 'Dockerfile'), 'utf8'), context.platform, here);
  if (build === 'qemu' && here === 'no') {
    throw new DeployModelError('CONTAINER_EMULATION_UNAVAILABLE', `The Dockerfile of ${context.ref} runs commands (RUN) for ${context.platform}, which this machine cannot run: no qemu-user binfmt_misc entry (${QEMU_BINFMT[context.platform]}) is enabled. `
      + `Install qemu-user-static (Debian: apt-get install qemu-user-static binfmt-support), or build on a ${context.platform} host.`, { details: { platform: context.platform, ref: context.ref } });
  }
  io?.info('DM_CONTAINER_PLATFORM_BUILD', `${context.ref}: ${describeBuild(context.platform, build)}`, { platform: context.platform, ref: context.ref, build });
  return build;
}

/** Builds each platform's image from its context, checking the native files of the onnxruntime engine's; says which builds needed emulation. */
export async function buildPlatformImages(options: { builder: Builder; artifacts: ContainerArtifacts; engine: ContainerEngine; io?: IoHelper }): Promise<PlatformImage[]> {
  const out: PlatformImage[] = [];
  for (const c of options.artifacts.contexts) {
    const build = announceBuild(c, options.io);
    const image = await buildImage({
      builder: options.builder, contextDir: c.dir, platform: c.platform, refs: [c.ref], checkNativeFiles: options.engine === 'onnxruntime',
      ...(options.io ? { io: options.io } : {}),
    });
    out.push({ platform: c.platform, image, runsHere: runsHere(c.platform), build });
  }
  return out;
}

/**
 * Before stage runs the image its smoke test calls: refuses one this machine cannot run
 * (CONTAINER_PLATFORM_CANNOT_RUN: an image is pushed only after its smoke test), and announces a
 * run under emulation (DM_CONTAINER_PLATFORM_EMULATED).
 */
export function checkSmokeRun(options: { platform: Platform; runsHere: RunsHere; ref: string; io?: IoHelper }): void {
  const { platform, ref, io } = options;
  if (options.runsHere === 'no') {
    throw new DeployModelError('CONTAINER_PLATFORM_CANNOT_RUN', `${ref} was built for ${platform} and its native files checked, but this machine cannot run ${platform} images, `
      + 'so it cannot be smoke-tested here, and an image is pushed only after its smoke test. '
      + `Fix: deploy from a ${platform} host; or install qemu-user-static (binfmt_misc ${QEMU_BINFMT[platform]}) to run it under emulation; `
      + `or build platforms: ['linux/amd64', 'linux/arm64'], which smoke-tests this machine's image and checks the other's files.`, { details: { platform, ref } });
  }
  if (options.runsHere === 'emulated') {
    io?.info('DM_CONTAINER_PLATFORM_EMULATED', `Running ${ref} (${platform}) under qemu-user-static emulation (binfmt_misc ${QEMU_BINFMT[platform]}): slower than the platform, and not the platform itself`, { platform, ref });
  }
}

/** A smoke-test image that did not start under emulation: the same error, saying that emulation was in the way. */
export function emulatedRunFailure(e: unknown, platform: Platform, ref: string): unknown {
  if (!(e instanceof DeployModelError) || (e.code !== 'CONTAINER_EXITED' && e.code !== 'CONTAINER_NOT_READY')) return e;
  return new DeployModelError('CONTAINER_EMULATED_RUN_FAILED', `${ref} (${platform}) was run under qemu-user-static emulation for its smoke test and did not get ready: ${e.message} `
    + `Emulation is not the platform (onnxruntime crashes under Debian 12's qemu 7.2); its native files were checked. Smoke-test it on a ${platform} host (deploy from there), `
    + `or build platforms: ['linux/amd64', 'linux/arm64'], which smoke-tests this machine's image and reports the other's run as not done.`, { cause: e, details: { platform, ref } });
}

/**
 * Runs each platform's image other than the reference one where this machine can, sends it the
 * smoke request, and compares its outputs with the reference image's (1e-3: the two architectures'
 * kernels round differently). A platform that cannot run here is reported, not failed: its native
 * files were checked when it was built. Throws CONTAINER_PLATFORM_SMOKE_FAILED on a difference.
 */
export async function smokeOtherPlatforms(options: { ctx: ContainerContext; builder: Builder; platforms: PlatformImage[]; reference: { platform: Platform; url: string } }): Promise<void> {
  const { ctx, builder, platforms, reference } = options;
  const request = await smokeRequest(ctx.signature, ctx.config, ctx.loaded.rootDir);
  const modelName = ctx.plan.image.modelName;
  const expected = await httpInferenceClient(inferUrl(reference.url, modelName))(request);
  for (const p of platforms) {
    if (p.platform === reference.platform) continue;
    if (p.runsHere === 'no') {
      p.smoke = `not run: this machine cannot run ${p.platform} images; its native files were checked`;
      ctx.io.warn('DM_CONTAINER_PLATFORM_NOT_RUN', `${p.image.ref} (${p.platform}) was built and its native files checked, but not run: this machine cannot run ${p.platform} images. `
        + `Install qemu-user-static (binfmt_misc) to run it under emulation, or deploy from a ${p.platform} host.`, { platform: p.platform, ref: p.image.ref });
      continue;
    }
    const emulated = p.runsHere === 'emulated';
    checkSmokeRun({ platform: p.platform, runsHere: p.runsHere, ref: p.image.ref, io: ctx.io });
    let run;
    try {
      run = await runContainer(builder, p.image.ref, {
        name: `${ctx.plan.run.namePrefix}-${p.platform.split('/')[1]}-${Date.now().toString(36)}`,
        port: ctx.plan.run.containerPort, healthPath: ctx.plan.run.readyPath,
        readyTimeoutMs: emulated ? EMULATED_READY_MS : ctx.plan.run.readyTimeoutMs, io: ctx.io,
        ...(emulated ? { platform: p.platform } : {}),
      });
    } catch (e) {
      if (!emulated) throw e;
      // qemu-user is not the platform: onnxruntime's thread pool hangs or crashes under qemu-user 7.2
      // (Debian 12) while it runs natively. The image's native files were checked; say what was not.
      p.smoke = `not run: it did not start under qemu emulation (${(e as Error).message.split('\n').pop()}); its native files were checked`;
      ctx.io.warn('DM_CONTAINER_PLATFORM_NOT_RUN', `${p.image.ref} (${p.platform}) was built and its native files checked, but it did not start under qemu emulation within ${EMULATED_READY_MS / 1000} s: `
        + `${(e as Error).message.split('\n').pop()}. Emulation is not the platform; smoke-test it on a ${p.platform} host (docs/edge.md).`, { platform: p.platform, ref: p.image.ref });
      continue;
    }
    try {
      const got = await httpInferenceClient(inferUrl(run.url, modelName), { timeoutMs: 300_000 })(request);
      const problems = got.status !== 200 ? [`answered ${got.status}: ${JSON.stringify(got.body).slice(0, 200)}`]
        : compareOutputs(expected.body as { outputs: V2OutputTensor[] }, got.body as { outputs: V2OutputTensor[] }, 1e-3).filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`);
      if (problems.length > 0) {
        throw new DeployModelError('CONTAINER_PLATFORM_SMOKE_FAILED', `The ${p.platform} image ${p.image.ref}${emulated ? ' (run under emulation)' : ''} does not answer the smoke request as the ${reference.platform} image does: ${problems.join('; ')}.`, {
          details: { platform: p.platform, problems },
        });
      }
      p.smoke = `passed${emulated ? ' under qemu emulation' : ''}: outputs match ${reference.platform} within 1e-3 (${Math.round(got.latencyMs)} ms)`;
      ctx.io.info('DM_CONTAINER_PLATFORM_SMOKE', `${p.platform} image ${p.smoke}`, { platform: p.platform, emulated, latencyMs: got.latencyMs });
    } finally {
      await run.stop({ timeoutSeconds: 10 }).catch(() => undefined);
    }
  }
}

/** Pushes every platform's image under `refs` as one manifest list. */
export async function pushManifestList(builder: Builder, platforms: readonly PlatformImage[], refs: readonly string[], io?: IoHelper): Promise<void> {
  const list = refs[0]!;
  if (builder.name === 'docker') {
    // docker makes a list from images in the registry: the per-platform tags go first.
    for (const p of platforms) await runOrThrow(planPush(builder, p.image.ref), `Pushing ${p.image.ref}`, { ...(io ? { io } : {}), timeoutMs: 30 * 60_000 });
    for (const ref of refs) {
      await runOrThrow(planDockerManifestCreate(ref, platforms.map((p) => p.image.ref)), `Creating the manifest list ${ref}`, io ? { io } : {});
      await runOrThrow(planManifestPush(builder, ref, ref), `Pushing the manifest list ${ref}`, { ...(io ? { io } : {}), timeoutMs: 30 * 60_000 });
    }
  } else {
    await removeManifestList(builder, list).catch(() => undefined);
    await runOrThrow(planManifestCreate(builder, list), `Creating the manifest list ${list}`, io ? { io } : {});
    for (const p of platforms) await runOrThrow(planManifestAdd(builder, list, p.image.ref), `Adding ${p.image.ref} to ${list}`, io ? { io } : {});
    for (const ref of refs) {
      io?.info('DM_CONTAINER_PUSH', `Pushing ${ref} (${platforms.map((p) => p.platform).join(', ')})`, { ref });
      await runOrThrow(planManifestPush(builder, list, ref), `Pushing the manifest list ${ref}`, { ...(io ? { io } : {}), timeoutMs: 30 * 60_000 });
    }
  }
  io?.info('DM_CONTAINER_PUSHED', `Pushed ${refs.join(', ')}: a manifest list of ${platforms.map((p) => p.platform).join(', ')}`, { refs, platforms: platforms.map((p) => p.platform) });
}

export async function removeManifestList(builder: Builder, list: string): Promise<void> {
  await runOrThrow(planManifestRemove(builder, list), `Removing the manifest list ${list}`);
}
