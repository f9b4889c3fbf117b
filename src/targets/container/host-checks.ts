/**
 * What this machine must have before an image is built: the base image for each platform, and for
 * a GPU engine a GPU container runtime. Each missing piece is a coded error that says what ran, what
 * could not be checked, and the fix.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { exec, tail, type ExecResult } from './_exec.js';
import { gpuRunFlags, planImagePlatform, planManifestInspect, planPullPlatform, type Builder, type Platform } from './builders.js';

type Exec = (argv: readonly string[]) => Promise<ExecResult>;
const defaultExec: Exec = (argv) => exec(argv, { timeoutMs: 30 * 60_000 });

/**
 * What a deploy had done for each engine when a host check stops it: planning runs every check of
 * `validate`, and the build wrote the context; the manifests were planned and checked, but deploy
 * writes them only after a smoke test passes (`synth` writes them without one).
 */
const CHECKED: Readonly<Record<string, string>> = {
  onnxruntime: 'the checks of validate, and the build context (the server, the model, onnxruntime-node for each platform); the Kubernetes and KServe manifests were planned and checked, not written (`deploy-model synth` writes them)',
  triton: "the checks of validate, and the build context: the Triton model repository and its config.pbtxt, checked by the Triton planner's rules; the Kubernetes and KServe manifests were planned and checked, not written (`deploy-model synth` writes them)",
  openvino: "the checks of validate (OpenVINO's operators and data types), and the build context: OVMS's config.json from the signature; the Kubernetes and KServe manifests were planned and checked, not written (`deploy-model synth` writes them)",
};

/** Pulled messages that mean "the image exists, but not for this platform" (podman/buildah, docker). */
const NOT_FOR_PLATFORM = /no image found in (image index|manifest list) for architecture|choosing an image from manifest list|no matching manifest for|does not match the (expected|specified) platform/i;

export interface BaseImageCheck {
  platform: Platform;
  /** 'local' when the builder already had it, 'pulled' otherwise. */
  source: 'local' | 'local-list' | 'pulled';
}

/**
 * Makes sure `baseImage` is there for every platform: a local manifest list must list each; a local
 * image must be of the platform; otherwise it is pulled for the platform. Throws
 * CONTAINER_PLATFORM_UNPUBLISHED when the image exists without a platform, and
 * CONTAINER_BASE_IMAGE_UNAVAILABLE when it cannot be had at all (no registry access, an air-gapped machine).
 */
export async function ensureBaseImage(builder: Builder, baseImage: string, platforms: readonly Platform[], options: { engine: string; io?: IoHelper; exec?: Exec }): Promise<BaseImageCheck[]> {
  const run = options.exec ?? defaultExec;
  const unpublished = (platform: Platform, detail: string) => new DeployModelError('CONTAINER_PLATFORM_UNPUBLISHED',
    `The base image ${baseImage} is not published for ${platform} (${detail}), so no ${platform} image can be built on it. `
    + `Remove ${platform} from platforms, or set baseImage to an image (or a manifest list) that has it.`,
    { details: { baseImage, platform, detail } });
  if (builder.name !== 'docker') {
    const list = await run(planManifestInspect(builder, baseImage));
    if (list.code === 0) {
      const listed = manifestPlatforms(list.stdout);
      if (listed.length > 0) {
        for (const p of platforms) if (!listed.includes(p)) throw unpublished(p, `its manifest list has ${listed.join(', ')}`);
        return platforms.map((platform) => ({ platform, source: 'local-list' }));
      }
    }
  }
  const local = await run(planImagePlatform(builder, baseImage));
  const localPlatform = local.code === 0 ? local.stdout.trim() : undefined;
  const out: BaseImageCheck[] = [];
  for (const platform of platforms) {
    if (localPlatform === platform) { out.push({ platform, source: 'local' }); continue; }
    options.io?.info('DM_CONTAINER_BASE_PULL', `Pulling the base image ${baseImage} for ${platform}`, { baseImage, platform });
    const pulled = await run(planPullPlatform(builder, baseImage, platform));
    if (pulled.code === 0) { out.push({ platform, source: 'pulled' }); continue; }
    const output = tail(`${pulled.stdout}\n${pulled.stderr}`, 4);
    if (NOT_FOR_PLATFORM.test(output)) throw unpublished(platform, output.split('\n').pop() ?? 'the registry has no such image');
    if (localPlatform) throw unpublished(platform, `the image here is ${localPlatform} only, and pulling it for ${platform} failed: ${output.split('\n').pop()}`);
    throw new DeployModelError('CONTAINER_BASE_IMAGE_UNAVAILABLE',
      `The base image ${baseImage} is not on this machine and could not be pulled for ${platform}: ${output || `exit ${pulled.code}`}. `
      + `What ran: ${CHECKED[options.engine] ?? CHECKED.onnxruntime}. What could not be checked: the image was not built, run, smoke-tested or pushed. `
      + `Fix: let this machine reach that registry (\`${builder.command} login\` where it needs one), or copy the image into a registry it can reach and set baseImage to it.`,
      { details: { baseImage, platform, output } });
  }
  return out;
}

/** `os/arch` of each entry of a manifest list's JSON (`manifests[].platform`). */
export function manifestPlatforms(json: string): string[] {
  try {
    const parsed = JSON.parse(json) as { manifests?: Array<{ platform?: { os?: string; architecture?: string } }> };
    return (parsed.manifests ?? []).map((m) => `${m.platform?.os ?? 'unknown'}/${m.platform?.architecture ?? 'unknown'}`);
  } catch {
    return [];
  }
}

export interface GpuRuntime {
  /** The flags `run` takes to give the container the GPUs. */
  flags: string[];
  /** What was found, e.g. `2 GPUs, CDI spec /etc/cdi/nvidia.yaml`. */
  detail: string;
}

/** Where the NVIDIA Container Toolkit writes CDI specifications (`nvidia-ctk cdi generate`). */
export const CDI_DIRS = ['/etc/cdi', '/var/run/cdi'];

/**
 * Whether containers can use an NVIDIA GPU here: the driver answers (`nvidia-smi -L`), and the
 * builder can hand GPUs to a container (docker: an `nvidia` runtime; podman: a CDI specification
 * naming `nvidia.com/gpu`). Throws CONTAINER_NO_GPU_RUNTIME saying what ran and what did not.
 */
export async function detectGpuRuntime(builder: Builder, options: { exec?: Exec; cdiDirs?: readonly string[] } = {}): Promise<GpuRuntime> {
  const run = options.exec ?? ((argv) => exec(argv, { timeoutMs: 30_000 }));
  const missing = (why: string, fix: string) => new DeployModelError('CONTAINER_NO_GPU_RUNTIME',
    `No GPU container runtime here (${why}). What ran: ${CHECKED.triton}. What could not be checked: the Triton image was not built, run, smoke-tested or pushed, so no Triton release loaded the config.pbtxt, no TensorRT engine was built and no request reached Triton. `
    + `Fix: deploy from a machine with an NVIDIA GPU and ${fix}; \`deploy-model synth\` writes the repository and the manifests without one.`,
    { details: { builder: builder.name, why } });
  const smi = await run(['nvidia-smi', '-L']);
  if (smi.code !== 0) {
    throw missing(smi.code === 127 ? 'nvidia-smi is not installed: no NVIDIA driver' : `nvidia-smi failed: ${tail(smi.stderr || smi.stdout, 1)}`,
      "its driver, and the NVIDIA Container Toolkit (`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml` for podman, `nvidia-ctk runtime configure --runtime=docker` for docker)");
  }
  const gpus = smi.stdout.split('\n').filter((l) => /^GPU \d+/.test(l)).length;
  if (builder.name === 'docker') {
    const info = await run(['docker', 'info', '--format', '{{json .Runtimes}}']);
    if (info.code !== 0 || !/nvidia/.test(info.stdout)) throw missing('docker has no nvidia runtime', 'the NVIDIA Container Toolkit (`nvidia-ctk runtime configure --runtime=docker`, then restart docker)');
    return { flags: gpuRunFlags(builder), detail: `${gpus} GPU(s), docker's nvidia runtime` };
  }
  if (builder.name === 'buildah') throw missing('buildah cannot run containers', "podman or docker next to buildah (set builder: 'podman')");
  const spec = cdiSpecs(options.cdiDirs ?? CDI_DIRS).find((s) => s.kinds.includes('nvidia.com/gpu'));
  if (!spec) throw missing('no CDI specification names nvidia.com/gpu', 'a CDI specification for podman: `nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`');
  return { flags: gpuRunFlags(builder), detail: `${gpus} GPU(s), CDI spec ${spec.file}` };
}

/** The CDI specification files and the device kinds they declare (`kind: nvidia.com/gpu`). */
function cdiSpecs(dirs: readonly string[]): Array<{ file: string; kinds: string[] }> {
  const out: Array<{ file: string; kinds: string[] }> = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((n) => /\.(ya?ml|json)$/.test(n)).sort()) {
      const text = readFileSync(join(dir, name), 'utf8');
      const kinds = [...text.matchAll(/"?kind"?\s*:\s*"?([A-Za-z0-9.\-/]+)"?/g)].map((m) => m[1]!);
      out.push({ file: join(dir, name), kinds });
    }
  }
  return out;
}
