import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../bundling/hash.js';
import type { TargetContext } from '../../targets/driver.js';
import { buildTritonRepository, engineCacheLocation, planTritonConfig } from './index.js';
import type { TritonHost, TritonOptions } from './index.js';

export interface BuiltRepository {
  /** The repository root: it holds `<model>/config.pbtxt` and `<model>/1/model.onnx`. */
  root: string;
  /** Files relative to the root, POSIX separators, sorted. */
  files: Array<{ path: string; bytes: number; sha256: string }>;
  /** sha256 over the sorted (path, sha256) list: the repository's content, independent of mtimes. */
  digest: string;
  bytes: number;
}

/**
 * Writes the Triton model repository of a GPU target into `<workDir>/repository` and hashes it.
 * Shared by the gcp-vertex and azure-ml targets, which upload the folder as it is.
 */
export async function buildGpuRepository(ctx: TargetContext & { target: TritonOptions }, host: TritonHost, modelName: string): Promise<BuiltRepository> {
  const { config, signature, target } = ctx;
  const tritonConfig = planTritonConfig({
    signature, modelName, host, batching: config.model.batching, inputShapes: config.model.inputs, options: target, runtime: config.runtime,
  });
  const cache = target.engine === 'tensorrt' ? engineCacheLocation(host, modelName, target) : { repositoryDir: null };
  const repo = await buildTritonRepository({
    signature, config: tritonConfig, outDir: path.join(ctx.workDir, 'repository'),
    engineCacheDir: cache.repositoryDir,
    ...(target.int8Calibration ? { int8CalibrationTable: path.resolve(ctx.loaded.rootDir, target.int8Calibration.table) } : {}),
    io: ctx.io,
  });
  const files = [];
  let bytes = 0;
  for (const rel of repo.files) {
    const abs = path.join(repo.root, ...rel.split('/'));
    const info = await stat(abs);
    if (!info.isFile()) continue;
    files.push({ path: rel, bytes: info.size, sha256: await sha256File(abs) });
    bytes += info.size;
  }
  const digest = createHash('sha256').update(files.map((f) => `${f.path}\0${f.sha256}\n`).join('')).digest('hex');
  return { root: repo.root, files, digest, bytes };
}
