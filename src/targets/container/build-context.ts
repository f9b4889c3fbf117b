/** The build context: which files go in (planned without I/O), then written with fixed modes and times and hashed. */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { DeployModelError } from '../../errors.js';
import { sha256File } from '../../bundling/hash.js';
import { signatureJson } from '../../bundling/build-function-artifact.js';
import type { ModelSignature } from '../../model/types.js';
import { LAYER_NODE_MODULES, type LayerFile } from '../../../layers/plan-ort-layer.js';
import { IMAGE_LAYOUT, renderDockerfile, renderHealthcheck, type DockerfileSpec } from './dockerfile.js';
import type { Platform } from './builders.js';

/** One file of the build context: copied from `from`, or written from `content`. */
export type ContextFile = { path: string; from: string; content?: undefined } | { path: string; content: string; from?: undefined };

export interface BuildContextPlan {
  /** Sorted by path; `Dockerfile` is one of them. */
  files: ContextFile[];
  platform: Platform;
}

export interface BuildContextInput {
  /** The Dockerfile's base image, port and environment: the plan's. */
  dockerfile: DockerfileSpec;
  platform: Platform;
  /** The .onnx file; its external data files are read from beside it. */
  modelPath: string;
  signature: ModelSignature;
  /** The bundled HTTP server (one ESM file). */
  serverBundle: string;
  /** onnxruntime-node's run-time files for linux, from `planOrtLayer` (paths under `nodejs/node_modules/`). */
  ortFiles: readonly LayerFile[];
}

/**
 * What goes into the build context, without touching the disk: the Dockerfile, the server bundle,
 * a HEALTHCHECK script, the model with its external data and `signature.json`, and the pruned
 * onnxruntime-node under `node_modules/` (the same files as the Lambda layer).
 */
export function planBuildContext(input: BuildContextInput): BuildContextPlan {
  const { signature } = input;
  const prefix = `${LAYER_NODE_MODULES}/`;
  const files: ContextFile[] = [
    { path: 'Dockerfile', content: renderDockerfile(input.dockerfile) },
    { path: IMAGE_LAYOUT.healthcheck, content: renderHealthcheck() },
    { path: IMAGE_LAYOUT.server, from: input.serverBundle },
    { path: IMAGE_LAYOUT.model, from: input.modelPath },
    { path: IMAGE_LAYOUT.signature, content: signatureJson(signature) },
    ...signature.externalData.map((rel) => {
      const inModelDir = externalDataPath(rel);
      return { path: `${IMAGE_LAYOUT.modelDir}/${inModelDir}`, from: join(dirname(input.modelPath), ...inModelDir.split('/')) };
    }),
    ...input.ortFiles.map((f) => {
      if (!f.to.startsWith(prefix)) {
        throw new DeployModelError('CONTAINER_CONTEXT_INVALID', `onnxruntime file "${f.to}" is not under ${prefix}.`, { kind: 'internal', details: { file: f.to } });
      }
      return { path: `${IMAGE_LAYOUT.nodeModules}/${f.to.slice(prefix.length)}`, from: f.from };
    }),
  ];
  return finishBuildContext(files, input.platform);
}

/** Refuses two files at one path and sorts the files by path: every engine's context ends here. */
export function finishBuildContext(files: ContextFile[], platform: Platform): BuildContextPlan {
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) {
      throw new DeployModelError('CONTAINER_CONTEXT_INVALID', `Two files would be written to "${f.path}" in the build context.`, { kind: 'internal', details: { path: f.path } });
    }
    seen.add(f.path);
  }
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: sorted, platform };
}

export interface WrittenBuildContext {
  dir: string;
  /** sha256 over every file's path, mode and content, in path order. */
  digest: string;
  /** The first 12 hex digits of `digest`: the image's content tag. */
  contentTag: string;
  bytes: number;
  files: string[];
  platform: Platform;
}

/** Fixed mtime for every context file (the zip epoch), so nothing in the context depends on when it was written. */
const FIXED_MTIME = new Date('1980-01-01T00:00:00Z');
const FILE_MODE = 0o644;

/**
 * Writes the plan to `dir` (emptied first) and hashes it. Every file gets mode 0644 and a fixed
 * mtime, so the same inputs give the same digest, the same image tag and, with podman/buildah
 * `--timestamp 0`, the same image ID.
 */
export async function writeBuildContext(plan: BuildContextPlan, dir: string): Promise<WrittenBuildContext> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  for (const file of plan.files) {
    const out = join(dir, ...file.path.split('/'));
    await mkdir(dirname(out), { recursive: true });
    let fileHash: string;
    if (file.content !== undefined) {
      await writeFile(out, file.content);
      fileHash = createHash('sha256').update(file.content).digest('hex');
      bytes += Buffer.byteLength(file.content);
    } else {
      try {
        await copyFile(file.from, out);
      } catch (cause) {
        throw new DeployModelError('CONTAINER_CONTEXT_FILE_MISSING', `Cannot copy "${file.from}" into the build context as ${file.path}. Check that it exists and is readable.`, {
          cause, details: { from: file.from, path: file.path },
        });
      }
      fileHash = await sha256File(out);
      bytes += (await stat(out)).size;
    }
    await chmod(out, FILE_MODE);
    await utimes(out, FIXED_MTIME, FIXED_MTIME);
    hash.update(`${file.path}\0${FILE_MODE.toString(8)}\0${fileHash}\n`);
  }
  const digest = hash.digest('hex');
  return { dir, digest, contentTag: digest.slice(0, 12), bytes, files: plan.files.map((f) => f.path), platform: plan.platform };
}

/** External data must sit inside the model's folder: onnxruntime resolves it relative to the model. */
export function externalDataPath(rel: string): string {
  const p = posix.normalize(rel.replace(/\\/g, '/'));
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p === '.' || p === '..' || p.startsWith('../')) {
    throw new DeployModelError('CONTAINER_EXTERNAL_DATA_OUTSIDE', `The model names external data "${rel}", which is not inside the model's folder. ` +
      'Move the file beside the model and re-save the model with a relative location.', { details: { externalData: rel } });
  }
  return p;
}
