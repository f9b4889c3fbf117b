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
import { planBuildContext, writeBuildContext, type WrittenBuildContext } from './build-context.js';
import type { ContainerPlan } from './plan.js';

export interface CreateBuildContextOptions {
  /** The image's settings (base, architecture, port, environment) and the model, as planned. */
  plan: Pick<ContainerPlan, 'image' | 'port' | 'environment' | 'model'>;
  signature: ModelSignature;
  /** Receives `bundle/serve.mjs` and the build context in `context/`. */
  outDir: string;
  /** @default - the package's container entry point (`resolveServerEntry()`) */
  serverEntry?: string;
  /** @default - the onnxruntime-node installed next to deploy-model */
  ortPackageDir?: string;
  io?: IoHelper;
}

/**
 * Bundles the HTTP server (esbuild, onnxruntime-node left out, as for Lambda), picks the
 * onnxruntime-node files for linux and the image's architecture, and writes the build context.
 */
export async function createBuildContext(options: CreateBuildContextOptions): Promise<WrittenBuildContext> {
  const { plan, io } = options;
  const bundle = await bundleHandler({
    entry: options.serverEntry ?? resolveServerEntry(),
    outfile: join(options.outDir, 'bundle', 'serve.mjs'),
    // The oldest Node the server supports, so any base image with Node 20 or later runs it.
    target: 'node20',
    ...(io ? { io } : {}),
  });
  const ortFiles = planOrtLayer(resolve(options.ortPackageDir ?? defaultOrtPackageDir()), plan.image.architecture);
  const context = planBuildContext({
    dockerfile: { baseImage: plan.image.baseImage, port: plan.port, env: plan.environment },
    platform: plan.image.platform,
    modelPath: plan.model.file, signature: options.signature, serverBundle: bundle.file, ortFiles,
  });
  const written = await writeBuildContext(context, join(options.outDir, 'context'));
  io?.info('DM_CONTAINER_CONTEXT', `Wrote the build context: ${written.files.length} files, ${(written.bytes / 1e6).toFixed(1)} MB, content tag ${written.contentTag}`, {
    dir: written.dir, digest: written.digest, bytes: written.bytes, files: written.files.length,
  });
  return written;
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
