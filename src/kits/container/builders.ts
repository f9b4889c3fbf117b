/** The image builders (docker, podman, buildah): detecting one, and the commands each runs, as data. */
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { exec, runOrThrow, tail, type ExecResult } from './exec.js';
import { CONTAINER_BUILDERS, type ContainerBuilderName } from './builder-names.js';

/** A builder that answered on this machine. Plain data: the command planners take it as input. */
export interface Builder {
  name: ContainerBuilderName;
  /** The program to run (`docker`, `podman`, `buildah`). */
  command: string;
  /** docker only: `docker buildx` is installed, so builds go through BuildKit with `--load`. */
  buildx: boolean;
  version: string;
  /** docker and podman run containers; buildah only builds and pushes. */
  canRun: boolean;
}

export type Platform = 'linux/amd64' | 'linux/arm64';

/** What one detection attempt found. */
export interface BuilderProbe {
  name: ContainerBuilderName;
  ok: boolean;
  /** The version, or why it did not answer. */
  detail: string;
}

const INSTALL_HINT =
  'Install one: Docker (a running engine, https://docs.docker.com/engine/install/), or on Debian/Ubuntu as root ' +
  '`apt-get install podman buildah runc` (see "Image builders" in docs/containers.md for a rootless or CI set-up).';

type Exec = (argv: readonly string[]) => Promise<ExecResult>;
const defaultExec: Exec = (argv) => exec(argv, { timeoutMs: 30_000 });

/**
 * Asks a builder whether it works: `docker info` needs a running engine (the CLI alone is not
 * enough), `podman info` and `buildah info` need working storage and a runtime.
 */
export async function probeBuilder(name: ContainerBuilderName, run: Exec = defaultExec): Promise<{ probe: BuilderProbe; builder?: Builder }> {
  const fail = (r: ExecResult): { probe: BuilderProbe } => ({
    probe: { name, ok: false, detail: r.code === 127 ? 'not installed' : tail(r.stderr || r.stdout, 2) || `exit ${r.code}` },
  });
  if (name === 'docker') {
    const info = await run(['docker', 'info', '--format', '{{.ServerVersion}}']);
    if (info.code !== 0 || !info.stdout.trim()) return fail(info.code === 0 ? { ...info, stderr: 'no engine version reported' } : info);
    const buildx = (await run(['docker', 'buildx', 'version'])).code === 0;
    const version = info.stdout.trim();
    return { probe: { name, ok: true, detail: `engine ${version}${buildx ? ' with buildx' : ''}` }, builder: { name, command: 'docker', buildx, version, canRun: true } };
  }
  if (name === 'podman') {
    const info = await run(['podman', 'info', '--format', '{{.Version.Version}}']);
    if (info.code !== 0) return fail(info);
    const version = info.stdout.trim();
    return { probe: { name, ok: true, detail: version }, builder: { name, command: 'podman', buildx: false, version, canRun: true } };
  }
  const info = await run(['buildah', 'info']);
  if (info.code !== 0) return fail(info);
  const version = (await run(['buildah', '--version'])).stdout.match(/version (\S+)/)?.[1] ?? 'unknown';
  return { probe: { name, ok: true, detail: version }, builder: { name, command: 'buildah', buildx: false, version, canRun: false } };
}

/**
 * The builders to try, in order: the configured one alone, else docker, podman, buildah; buildah
 * builds but cannot run an image, so it is left out when the image must run, unless configured.
 */
export function builderOrder(preferred: ContainerBuilderName | undefined, mustRun: boolean): ContainerBuilderName[] {
  if (preferred) return [preferred];
  return CONTAINER_BUILDERS.filter((n) => !mustRun || n !== 'buildah');
}

export interface DetectBuilderOptions {
  /** Only this builder is tried. @default - docker, podman, buildah in that order */
  preferred?: ContainerBuilderName;
  /** The builders to try, in order (a plan's `builder.order`). @default - builderOrder(preferred, mustRun) */
  order?: readonly ContainerBuilderName[];
  /** Only builders that can also run containers (docker, podman). @default false */
  mustRun?: boolean;
  io?: IoHelper;
  /** For tests of the error paths. */
  exec?: Exec;
}

/**
 * The first builder that works here. Throws `CONTAINER_NO_BUILDER` listing each one tried and why
 * it failed, or `CONTAINER_BUILDER_UNAVAILABLE` when the configured one does not work.
 */
export async function detectBuilder(options: DetectBuilderOptions = {}): Promise<Builder> {
  const run = options.exec ?? defaultExec;
  const candidates = options.order ?? builderOrder(options.preferred, options.mustRun ?? false);
  const probes: BuilderProbe[] = [];
  for (const name of candidates) {
    const { probe, builder } = await probeBuilder(name, run);
    probes.push(probe);
    options.io?.debug('DM_CONTAINER_PROBE', `${name}: ${probe.ok ? 'works' : 'unavailable'} (${probe.detail})`, probe);
    if (builder) {
      if (options.mustRun && !builder.canRun) {
        throw new DeployModelError('CONTAINER_NO_RUNTIME', `${name} builds images but cannot run them, and running the image is needed here. Install podman or Docker next to it, or set builder: 'podman'.`, {
          details: { builder: name },
        });
      }
      options.io?.info('DM_CONTAINER_BUILDER', `Using ${name} ${probe.detail}`, { builder: name, version: builder.version, buildx: builder.buildx });
      return builder;
    }
  }
  const tried = probes.map((p) => `${p.name} (${p.detail})`).join('; ');
  if (options.preferred) {
    throw new DeployModelError('CONTAINER_BUILDER_UNAVAILABLE', `The configured builder ${options.preferred} does not work on this machine: ${tried}. Fix it, or remove \`builder\` from the target to use whichever works. ${INSTALL_HINT}`, {
      details: { tried: probes },
    });
  }
  throw new DeployModelError('CONTAINER_NO_BUILDER', `No container builder works on this machine. Tried: ${tried}. ${INSTALL_HINT}`, {
    details: { tried: probes },
  });
}

/** A registry on the loopback interface speaks plain HTTP in development and CI. */
export function isLoopbackRegistry(ref: string): boolean {
  const host = ref.split('/')[0] ?? '';
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
}

/** podman and buildah verify TLS unless told; docker already treats 127.0.0.0/8 as insecure. */
function tlsFlags(builder: Builder, ref: string): string[] {
  return builder.name !== 'docker' && isLoopbackRegistry(ref) ? ['--tls-verify=false'] : [];
}

export interface BuildCommandInput {
  contextDir: string;
  /** Every tag to give the image (full references). */
  tags: readonly string[];
  platform: Platform;
}

/**
 * The build command. podman and buildah write the Docker image format, because the OCI format
 * drops HEALTHCHECK; `--timestamp 0` makes their image IDs reproducible from the same context.
 */
export function planBuild(builder: Builder, input: BuildCommandInput): string[] {
  const tags = input.tags.flatMap((t) => ['--tag', t]);
  const dockerfile = ['--file', `${input.contextDir}/Dockerfile`];
  switch (builder.name) {
    case 'docker':
      return builder.buildx
        ? ['docker', 'buildx', 'build', '--load', '--progress=plain', '--platform', input.platform, ...tags, ...dockerfile, input.contextDir]
        : ['docker', 'build', '--platform', input.platform, ...tags, ...dockerfile, input.contextDir];
    case 'podman':
      return ['podman', 'build', '--format', 'docker', '--timestamp', '0', '--platform', input.platform, ...tags, ...dockerfile, input.contextDir];
    case 'buildah':
      return ['buildah', 'bud', '--format', 'docker', '--timestamp', '0', '--platform', input.platform, ...tags, ...dockerfile, input.contextDir];
  }
}

/** Pushes one reference with the builder's stored credentials. */
export function planPush(builder: Builder, ref: string): string[] {
  if (builder.name === 'buildah') return ['buildah', 'push', ...tlsFlags(builder, ref), ref, `docker://${ref}`];
  return [builder.command, 'push', ...tlsFlags(builder, ref), ref];
}

export function planPull(builder: Builder, ref: string): string[] {
  return [builder.command, 'pull', ...tlsFlags(builder, ref), ref];
}

/**
 * Logs in with the password on stdin (`--password-stdin`), so it never shows in `ps` or shell
 * history. Run it with the password as the process's input.
 */
export function planLogin(builder: Builder, registry: string, username: string): string[] {
  return [builder.command, 'login', ...tlsFlags(builder, registry), '--username', username, '--password-stdin', registry];
}

/** Gives `source` another reference (restores a tag a discarded candidate had taken). */
export function planTag(builder: Builder, source: string, ref: string): string[] {
  return [builder.command, 'tag', source, ref];
}

export function planRemoveImage(builder: Builder, refs: readonly string[]): string[] {
  return [builder.command, 'rmi', ...refs];
}

/** The image's size in bytes; buildah prints the manifest instead, whose layer sizes are summed. */
export function planImageSize(builder: Builder, ref: string): string[] {
  if (builder.name === 'buildah') return ['buildah', 'inspect', '--type', 'image', '--format', '{{.Manifest}}', ref];
  return [builder.command, 'image', 'inspect', '--format', '{{.Size}}', ref];
}

export function parseImageSize(builder: Builder, stdout: string): number {
  if (builder.name !== 'buildah') return Number(stdout.trim());
  const manifest = JSON.parse(stdout) as { layers?: { size?: number }[] };
  return (manifest.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
}

export interface RunCommandInput {
  image: string;
  name: string;
  /** Published on 127.0.0.1 only. */
  hostPort: number;
  containerPort: number;
  env?: Readonly<Record<string, string>>;
  /** The image's platform, when it is not this machine's (run under emulation). @default - this machine's */
  platform?: Platform;
  /** The host's GPUs, through the builder's GPU flags (`gpuRunFlags`). @default - none */
  gpuFlags?: readonly string[];
  /** Writable folders (tmpfs, world-writable) where a pod mounts a volume. @default - none */
  tmpfs?: readonly string[];
}

/** Starts the container detached, published on loopback only. */
export function planRun(builder: Builder, input: RunCommandInput): string[] {
  if (!builder.canRun) {
    throw new DeployModelError('CONTAINER_NO_RUNTIME', `${builder.name} cannot run containers. Install podman or Docker to run the image.`, { details: { builder: builder.name } });
  }
  const env = Object.keys(input.env ?? {}).sort().flatMap((k) => ['--env', `${k}=${(input.env as Record<string, string>)[k]}`]);
  const platform = input.platform ? ['--platform', input.platform] : [];
  const tmpfs = (input.tmpfs ?? []).flatMap((path) => ['--tmpfs', `${path}:rw,mode=1777`]);
  return [builder.command, 'run', '--detach', '--name', input.name, ...platform, ...(input.gpuFlags ?? []), ...tmpfs,
    '--publish', `127.0.0.1:${input.hostPort}:${input.containerPort}`, ...env, input.image];
}

/**
 * The flags that give a container the host's NVIDIA GPUs: docker's `--gpus all` (the NVIDIA
 * Container Toolkit's runtime), podman's CDI device `nvidia.com/gpu=all` (a CDI specification
 * generated by `nvidia-ctk cdi generate`).
 */
export function gpuRunFlags(builder: Builder): string[] {
  return builder.name === 'docker' ? ['--gpus', 'all'] : ['--device', 'nvidia.com/gpu=all'];
}

/** Creates a local manifest list named `list` (podman, buildah). */
export function planManifestCreate(builder: Builder, list: string): string[] {
  return [builder.command, 'manifest', 'create', list];
}

/** Adds a local image to a local manifest list (podman, buildah). */
export function planManifestAdd(builder: Builder, list: string, ref: string): string[] {
  return [builder.command, 'manifest', 'add', list, `containers-storage:${ref}`];
}

/**
 * Pushes a manifest list and every image in it to `ref`. docker builds its list from pushed images
 * (`docker manifest create ref image...`, then push), podman and buildah from local ones.
 */
export function planManifestPush(builder: Builder, list: string, ref: string): string[] {
  if (builder.name === 'docker') return ['docker', 'manifest', 'push', ...(isLoopbackRegistry(ref) ? ['--insecure'] : []), ref];
  return [builder.command, 'manifest', 'push', '--all', ...tlsFlags(builder, ref), list, `docker://${ref}`];
}

/** docker only: a manifest list `ref` of images already pushed. */
export function planDockerManifestCreate(ref: string, images: readonly string[]): string[] {
  return ['docker', 'manifest', 'create', ...(isLoopbackRegistry(ref) ? ['--insecure'] : []), '--amend', ref, ...images];
}

/** Removes a local manifest list (not the images in it). */
export function planManifestRemove(builder: Builder, list: string): string[] {
  return builder.name === 'docker' ? ['docker', 'manifest', 'rm', list] : [builder.command, 'manifest', 'rm', list];
}

/** The platforms of a local manifest list, as JSON (`manifests[].platform`). */
export function planManifestInspect(builder: Builder, list: string): string[] {
  return [builder.command, 'manifest', 'inspect', list];
}

/** `<os>/<architecture>` of a local image. */
export function planImagePlatform(builder: Builder, ref: string): string[] {
  if (builder.name === 'buildah') return ['buildah', 'inspect', '--type', 'image', '--format', '{{.OCIv1.OS}}/{{.OCIv1.Architecture}}', ref];
  return [builder.command, 'image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', ref];
}

/** Pulls one platform's image of `ref`. */
export function planPullPlatform(builder: Builder, ref: string, platform: Platform): string[] {
  return [builder.command, 'pull', ...tlsFlags(builder, ref), '--platform', platform, ref];
}

/** SIGTERM, then SIGKILL after `timeoutSeconds`. */
export function planStop(builder: Builder, name: string, timeoutSeconds: number): string[] {
  return [builder.command, 'stop', '--time', String(timeoutSeconds), name];
}

export function planRemoveContainer(builder: Builder, name: string): string[] {
  return [builder.command, 'rm', '--force', name];
}

/** `<running> <exit code>`, e.g. `false 0`. */
export function planContainerState(builder: Builder, name: string): string[] {
  return [builder.command, 'inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', name];
}

export function planLogs(builder: Builder, name: string): string[] {
  return [builder.command, 'logs', name];
}

/**
 * Runs a build command (`planBuild`'s). podman and buildah sometimes exit 125 after the image was
 * committed and tagged, when removing their working container races another build on the same
 * storage ("error deleting build container ... identifier is not a container"); the image is
 * complete then, so when every tag was reported and the image exists, that exit is a warning.
 */
export async function runImageBuild(builder: Builder, argv: readonly string[], tags: readonly string[], what: string, options: { io?: IoHelper; timeoutMs?: number } = {}): Promise<void> {
  try {
    await runOrThrow(argv, what, options);
  } catch (e) {
    if (builder.name === 'docker' || (e as { code?: string }).code !== 'CONTAINER_COMMAND_FAILED') throw e;
    const message = (e as Error).message;
    const cleanupOnly = /error deleting build container/.test(message) && tags.every((t) => message.includes(`Successfully tagged ${t}`));
    if (!cleanupOnly || (await exec([builder.command, 'image', 'exists', tags[0]!])).code !== 0) throw e;
    options.io?.warn('DM_CONTAINER_BUILD_CLEANUP', `${what}: ${builder.name} committed and tagged the image, then failed to remove its build container (another build on the same storage removed it); the image is complete`, { tags: [...tags] });
  }
}
