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
import type { ContainerTargetConfig } from './schema.js';

export interface CreateBuildContextOptions {
  /** The config name: the model name in v2 routes and the local image name. */
  name: string;
  target: ContainerTargetConfig;
  modelPath: string;
  signature: ModelSignature;
  /** Receives `bundle/serve.mjs` and the build context in `context/`. */
  outDir: string;
  /** @default - the package's container entry point (`resolveServerEntry()`) */
  serverEntry?: string;
  /** @default - the onnxruntime-node installed next to deploy-model */
  ortPackageDir?: string;
  /** The server's pool and batching variables for the image env (`servingEnv`). @default - none */
  serverEnv?: Record<string, string>;
  io?: IoHelper;
}

/**
 * Bundles the HTTP server (esbuild, onnxruntime-node left out, as for Lambda), picks the
 * onnxruntime-node files for linux and the image's architecture, and writes the build context.
 */
export async function createBuildContext(options: CreateBuildContextOptions): Promise<WrittenBuildContext> {
  const { target, io } = options;
  const bundle = await bundleHandler({
    entry: options.serverEntry ?? resolveServerEntry(),
    outfile: join(options.outDir, 'bundle', 'serve.mjs'),
    // The oldest Node the server supports, so any base image with Node 20 or later runs it.
    target: 'node20',
    ...(io ? { io } : {}),
  });
  const ortFiles = planOrtLayer(resolve(options.ortPackageDir ?? defaultOrtPackageDir()), target.architecture);
  const plan = planBuildContext({
    name: options.name, target, modelPath: options.modelPath, signature: options.signature, serverBundle: bundle.file, ortFiles,
    ...(options.serverEnv ? { serverEnv: options.serverEnv } : {}),
  });
  const written = await writeBuildContext(plan, join(options.outDir, 'context'));
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
