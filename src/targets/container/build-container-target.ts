import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IoHelper } from '../../io/io-host.js';
import type { ModelSignature } from '../../model/types.js';
import type { WrittenBuildContext } from './build-context.js';
import { detectBuilder, type Builder } from './builders.js';
import { createBuildContext } from './create-build-context.js';
import { buildImage, planImageRefs, type BuiltImage, type ImageRefs } from './image.js';
import { planManifests, writeManifests, type WrittenManifests } from './manifests.js';
import type { ContainerTargetConfig } from './schema.js';

export interface ContainerBuildOptions {
  name: string;
  target: ContainerTargetConfig;
  modelPath: string;
  signature: ModelSignature;
  /** Receives `context/`, `bundle/`, `k8s/` and `image.json`. */
  outDir: string;
  /** Build the image too; false writes the context and manifests only (synth). @default true */
  image?: boolean;
  /** Only builders that can also run the image (for the smoke test). @default false */
  mustRun?: boolean;
  /** The server's pool and batching variables for the image env (`servingEnv`). @default - none */
  serverEnv?: Record<string, string>;
  io?: IoHelper;
}

export interface ContainerBuild {
  context: WrittenBuildContext;
  refs: ImageRefs;
  manifests: WrittenManifests;
  builder?: Builder;
  image?: BuiltImage;
}

/** What the last build or deploy left, for status and destroy. */
export interface ImageRecord {
  ref: string;
  refs: string[];
  builder: Builder['name'];
  sizeBytes: number;
  buildMs: number;
  pushed: boolean;
}

/**
 * The container target's build: the context, the image (unless `image: false`) and the
 * manifests, which reference the image by its content tag.
 */
export async function buildContainerTarget(options: ContainerBuildOptions): Promise<ContainerBuild> {
  const { name, target, io } = options;
  const context = await createBuildContext({ name, target, modelPath: options.modelPath, signature: options.signature, outDir: options.outDir, ...(options.serverEnv ? { serverEnv: options.serverEnv } : {}), ...(io ? { io } : {}) });
  const refs = planImageRefs(name, target, context.contentTag);
  const manifests = await writeManifests(planManifests({ name, image: refs.contentRef, target }), options.outDir, io);
  if (options.image === false) return { context, refs, manifests };
  const builder = await detectBuilder({ ...(target.builder ? { preferred: target.builder } : {}), mustRun: options.mustRun ?? false, ...(io ? { io } : {}) });
  const image = await buildImage({ builder, contextDir: context.dir, platform: context.platform, refs: refs.refs, ...(io ? { io } : {}) });
  await writeImageRecord(options.outDir, { ref: image.ref, refs: image.refs, builder: builder.name, sizeBytes: image.sizeBytes, buildMs: image.buildMs, pushed: false });
  return { context, refs, manifests, builder, image };
}

export async function writeImageRecord(outDir: string, record: ImageRecord): Promise<void> {
  await writeFile(join(outDir, 'image.json'), `${JSON.stringify(record, null, 2)}\n`);
}

export async function readImageRecord(outDir: string): Promise<ImageRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, 'image.json'), 'utf8')) as ImageRecord;
  } catch {
    return undefined;
  }
}
