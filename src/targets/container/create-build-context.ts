/** Writes the build context of a plan: bundles the server, picks onnxruntime-node's files, copies the model. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { ModelSignature } from '../../model/types.js';
import { packageRoot } from '../../package-root.js';
import { bundleHandler } from '../../bundling/bundle-handler.js';
import { defaultOrtPackageDir } from '../../../layers/build-layer.js';
import { planOrtLayer } from '../../../layers/plan-ort-layer.js';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { planBuildContext, writeBuildContext, type BuildContextPlan, type WrittenBuildContext } from './build-context.js';
import type { Platform } from './builders.js';
import { assertElfReport, elfMachine, elfReport, isNativeFileName, type NativeFile } from './elf-machine.js';
import { planOpenvinoContext, planTritonContext } from './engine-context.js';
import { ARCHITECTURE, type ContainerPlan } from './plan.js';

export interface CreateBuildContextOptions {
  /** The image's settings (engine, base, platforms, port, environment) and the model, as planned. */
  plan: Pick<ContainerPlan, 'image' | 'port' | 'environment' | 'model'> & Partial<Pick<ContainerPlan, 'engine' | 'uid' | 'triton' | 'openvino'>>;
  signature: ModelSignature;
  /** Receives `bundle/serve.mjs` and the build context in `context/`. */
  outDir: string;
  /** @default - the package's container entry point (`resolveServerEntry()`) */
  serverEntry?: string;
  /** @default - the onnxruntime-node installed next to deploy-model */
  ortPackageDir?: string;
  io?: IoHelper;
}

/** The build contexts of every platform, and the content tag that names them together. */
export interface WrittenBuildContexts {
  /** One per platform, in the plan's order. */
  contexts: WrittenBuildContext[];
  /** The context's digest for one platform; for several, sha256 over each platform and its context's digest. */
  digest: string;
  /** The first 12 hex digits of `digest`. */
  contentTag: string;
}

/**
 * Writes the build context of the first platform (`context/`): see `createBuildContexts`. Kept for
 * callers that build one image.
 */
export async function createBuildContext(options: CreateBuildContextOptions): Promise<WrittenBuildContext> {
  const { contexts } = await createBuildContexts({ ...options, plan: { ...options.plan, image: { ...options.plan.image, platforms: [options.plan.image.platform] } } });
  return contexts[0]!;
}

/**
 * Writes one build context per platform: `context/` for a single platform, `context-<arch>/` for
 * each of several. Engine 'onnxruntime': bundles the HTTP server (esbuild, onnxruntime-node left
 * out, as for Lambda), picks the onnxruntime-node files for linux and each architecture, and checks
 * each native file's ELF machine against the platform before anything is built. Engines 'triton'
 * and 'openvino': the generated repository or config.json and the model, the same on every platform.
 */
export async function createBuildContexts(options: CreateBuildContextOptions): Promise<WrittenBuildContexts> {
  const { plan, io } = options;
  const engine = plan.engine ?? 'onnxruntime';
  const platforms = plan.image.platforms.length > 0 ? plan.image.platforms : [plan.image.platform];
  let serverBundle: string | undefined;
  if (engine === 'onnxruntime') {
    const bundle = await bundleHandler({
      entry: options.serverEntry ?? resolveServerEntry(),
      outfile: join(options.outDir, 'bundle', 'serve.mjs'),
      // The oldest Node the server supports, so any base image with Node 20 or later runs it.
      target: 'node20',
      ...(io ? { io } : {}),
    });
    serverBundle = bundle.file;
  }
  const contexts: WrittenBuildContext[] = [];
  for (const platform of platforms) {
    const context = contextPlan(options, engine, platform, serverBundle);
    if (engine === 'onnxruntime') assertElfReport(elfReport(platform, nativeFilesOf(context)), `The build context for ${platform}`);
    const dir = join(options.outDir, platforms.length === 1 ? 'context' : `context-${platform.split('/')[1]}`);
    const written = await writeBuildContext(context, dir);
    io?.info('DM_CONTAINER_CONTEXT', `Wrote the build context${platforms.length > 1 ? ` for ${platform}` : ''}: ${written.files.length} files, ${(written.bytes / 1e6).toFixed(1)} MB, content tag ${written.contentTag}`, {
      dir: written.dir, digest: written.digest, bytes: written.bytes, files: written.files.length, platform,
    });
    contexts.push(written);
  }
  const digest = contexts.length === 1
    ? contexts[0]!.digest
    : createHash('sha256').update(contexts.map((c) => `${c.platform}\0${c.digest}\n`).join('')).digest('hex');
  return { contexts, digest, contentTag: digest.slice(0, 12) };
}

function contextPlan(options: CreateBuildContextOptions, engine: NonNullable<ContainerPlan['engine']>, platform: Platform, serverBundle: string | undefined): BuildContextPlan {
  const { plan } = options;
  if (engine === 'onnxruntime') {
    const ortFiles = planOrtLayer(resolve(options.ortPackageDir ?? defaultOrtPackageDir()), ARCHITECTURE[platform]);
    return planBuildContext({
      dockerfile: { baseImage: plan.image.baseImage, port: plan.port, env: plan.environment },
      platform, modelPath: plan.model.file, signature: options.signature, serverBundle: serverBundle!, ortFiles,
    });
  }
  const input = {
    baseImage: plan.image.baseImage, platform, port: plan.port, uid: plan.uid ?? 0, env: plan.environment,
    modelName: plan.image.modelName, modelPath: plan.model.file, signature: options.signature,
  };
  if (engine === 'triton') return planTritonContext(input, plan.triton!);
  return planOpenvinoContext(input, plan.openvino!);
}

/** The ELF machine of each native file a context copies in (read from the source files' headers). */
function nativeFilesOf(context: BuildContextPlan): NativeFile[] {
  const out: NativeFile[] = [];
  for (const f of context.files) {
    if (f.from === undefined || !isNativeFileName(f.path)) continue;
    const fd = openSync(f.from, 'r');
    try {
      const head = Buffer.alloc(20);
      const n = readSync(fd, head, 0, 20, 0);
      const machine = elfMachine(head.subarray(0, n));
      if (machine !== undefined) out.push({ path: f.path, machine });
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/**
 * The container entry point: `handlers/server-entry.ts` when the sources are there (tests, a checkout),
 * else the compiled `dist/handlers/server-entry.js` (the published package).
 */
export function resolveServerEntry(root: string = packageRoot()): string {
  const candidates = [join(root, 'handlers', 'server-entry.ts'), join(root, 'dist', 'handlers', 'server-entry.js')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new DeployModelError('SERVER_ENTRY_NOT_FOUND', `The container server is missing: looked for ${candidates.map((c) => `"${c}"`).join(' and ')}. ` +
      'Reinstall deploy-model, or in a checkout run `npm run build`.', { details: { candidates }, kind: 'internal' });
  }
  return found;
}
