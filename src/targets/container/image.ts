/** The image's references, and building, pushing, pulling and removing it with a builder. */
import { performance } from 'node:perf_hooks';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { exec, runOrThrow, tail } from './_exec.js';
import { parseImageSize, planBuild, planImagePlatform, planImageSize, planLogin, planPull, planPush, planRemoveImage, planTag, runImageBuild, type Builder, type Platform } from './builders.js';
import { assertElfReport, machineName } from './elf-machine.js';
import { inspectImageNativeFiles } from './image-contents.js';
import type { ContainerImagePlan } from './plan.js';

export interface ImageRefs {
  /** `registry/repository`, or `localhost/<name>` when the image is not pushed. */
  repository: string;
  /** `<repository>:<12 hex of the context digest>`: immutable, what manifests reference. */
  contentRef: string;
  /** The content ref, then the extra tags' refs. */
  refs: string[];
}

/** The image's references from the plan and the build's content tag: the content tag always, the extra tags besides it. */
export function imageRefs(image: Pick<ContainerImagePlan, 'repository' | 'extraTags'>, contentTag: string): ImageRefs {
  const contentRef = `${image.repository}:${contentTag}`;
  const extra = image.extraTags.filter((t) => t !== contentTag).map((t) => `${image.repository}:${t}`);
  return { repository: image.repository, contentRef, refs: [contentRef, ...extra] };
}

/** The same references in the same order. */
export function sameRefs(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface BuildImageOptions {
  builder: Builder;
  contextDir: string;
  platform: Platform;
  refs: readonly string[];
  io?: IoHelper;
  /**
   * Reads every native file the image ships (its ELF header) and refuses one built for another
   * machine. @default false
   */
  checkNativeFiles?: boolean;
}

export interface BuiltImage {
  ref: string;
  refs: string[];
  sizeBytes: number;
  buildMs: number;
  /** How many native files were read and found right for the platform, when checked. */
  nativeFiles?: number;
}

/** Builds the image from a written context; progress lines stream to the IoHost. */
export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const { builder, io } = options;
  const ref = options.refs[0];
  if (!ref) throw new DeployModelError('CONTAINER_NO_TAG', 'buildImage needs at least one image reference.', { kind: 'internal' });
  const argv = planBuild(builder, { contextDir: options.contextDir, tags: options.refs, platform: options.platform });
  io?.info('DM_CONTAINER_BUILD', `Building ${ref} with ${builder.name}`, { argv, refs: options.refs });
  const started = performance.now();
  await runImageBuild(builder, argv, options.refs, `Building the image ${ref} with ${builder.name}`, { ...(io ? { io } : {}), timeoutMs: 30 * 60_000 });
  const buildMs = Math.round(performance.now() - started);
  const sizeBytes = await imageSize(builder, ref);
  io?.info('DM_CONTAINER_BUILT', `Built ${ref}: ${(sizeBytes / 1e6).toFixed(1)} MB in ${(buildMs / 1000).toFixed(1)} s`, { ref, refs: options.refs, sizeBytes, buildMs, platform: options.platform });
  const built: BuiltImage = { ref, refs: [...options.refs], sizeBytes, buildMs };
  // The builder labels the image with the platform it was asked for; the base must really be of it.
  const labelled = (await runOrThrow(planImagePlatform(builder, ref), `Inspecting ${ref}`)).stdout.trim();
  if (labelled !== options.platform) {
    throw new DeployModelError('CONTAINER_WRONG_ARCHITECTURE', `${builder.name} built ${ref} for ${labelled || 'an unknown platform'}, not ${options.platform}: the base image is not published for ${options.platform}. Set baseImage to one that is.`, {
      details: { ref, platform: options.platform, labelled },
    });
  }
  if (options.checkNativeFiles) {
    const report = await inspectImageNativeFiles(builder, ref, options.platform);
    assertElfReport(report, `The image ${ref}`);
    built.nativeFiles = report.files.length;
    const app = report.files.filter((f) => f.path.startsWith('/app/'));
    io?.info('DM_CONTAINER_NATIVE_FILES', `${ref}: ${report.files.length} native files, all ${machineName(report.files[0]?.machine ?? 0)} (${app.map((f) => f.path.split('/').pop()).join(', ')} among them)`, {
      ref, platform: options.platform, files: report.files.length, app: app.map((f) => f.path),
    });
  }
  return built;
}

/** The image's size in bytes as the builder reports it (uncompressed, all layers). */
export async function imageSize(builder: Builder, ref: string): Promise<number> {
  const result = await runOrThrow(planImageSize(builder, ref), `Inspecting the image ${ref}`);
  const size = parseImageSize(builder, result.stdout);
  if (!Number.isFinite(size)) {
    throw new DeployModelError('CONTAINER_INSPECT_FAILED', `${builder.name} reported the size of ${ref} as "${result.stdout.trim()}", not a number.`, { kind: 'internal' });
  }
  return size;
}

/**
 * Pushes every reference with the builder's stored credentials (`docker login` / `podman login`).
 * An authentication failure says which login to run.
 */
export async function pushImage(builder: Builder, refs: readonly string[], io?: IoHelper): Promise<void> {
  for (const ref of refs) {
    io?.info('DM_CONTAINER_PUSH', `Pushing ${ref}`, { ref });
    const argv = planPush(builder, ref);
    const result = await exec(argv, { timeoutMs: 30 * 60_000, onLine: (line) => io?.debug('DM_CONTAINER_OUTPUT', line, { command: builder.command }) });
    if (result.code !== 0) {
      const output = tail(`${result.stdout}\n${result.stderr}`, 8);
      const registry = ref.split('/')[0];
      const auth = /unauthori[sz]ed|authentication required|denied|401|403/i.test(output);
      throw new DeployModelError(auth ? 'CONTAINER_PUSH_UNAUTHORIZED' : 'CONTAINER_PUSH_FAILED',
        auth
          ? `The registry ${registry} refused ${ref}: not logged in or not allowed. Run \`${builder.command} login ${registry}\` (in CI: ${planLogin(builder, registry, '$USER').join(' ')} with the password on stdin), then deploy again.\n${output}`
          : `Pushing ${ref} failed (exit ${result.code}). Check that the registry ${registry} is reachable.\n${output}`,
        { details: { ref, argv, code: result.code } });
    }
  }
  io?.info('DM_CONTAINER_PUSHED', `Pushed ${refs.join(', ')}`, { refs });
}

export async function pullImage(builder: Builder, ref: string, io?: IoHelper): Promise<void> {
  await runOrThrow(planPull(builder, ref), `Pulling ${ref}`, { ...(io ? { io } : {}), timeoutMs: 30 * 60_000 });
}

export async function removeImage(builder: Builder, refs: readonly string[], io?: IoHelper): Promise<void> {
  await runOrThrow(planRemoveImage(builder, refs), `Removing ${refs.join(', ')}`, io ? { io } : {});
}

export async function tagImage(builder: Builder, source: string, ref: string, io?: IoHelper): Promise<void> {
  await runOrThrow(planTag(builder, source, ref), `Tagging ${source} as ${ref}`, io ? { io } : {});
}

/** Logs in with the password on stdin; it never appears on a command line. */
export async function loginRegistry(builder: Builder, registry: string, username: string, password: string, io?: IoHelper): Promise<void> {
  await runOrThrow(planLogin(builder, registry, username), `Logging in to ${registry}`, { stdin: password, ...(io ? { io } : {}) });
}
