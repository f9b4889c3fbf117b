/** Writes a planned Triton model repository into a folder and hashes it, for the GPU targets that upload the folder as it is. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../bundling/hash.js';
import type { IoHelper } from '../../io/io-host.js';
import type { ModelSignature } from '../../model/types.js';
import { buildTritonRepository } from './build-triton-repository.js';
import type { TritonModelConfig } from './types.js';

export interface BuiltRepository {
  /** The repository root: it holds `<model>/config.pbtxt` and `<model>/1/model.onnx`. */
  root: string;
  /** Files relative to the root, POSIX separators, sorted. */
  files: Array<{ path: string; bytes: number; sha256: string }>;
  /** sha256 over the sorted (path, sha256) list: the repository's content, independent of mtimes. */
  digest: string;
  bytes: number;
}

/** How a GPU target's plan says its repository is written, beside the planned config.pbtxt. */
export interface GpuRepositoryPlan {
  /** The engine cache folder inside the model's folder, when the cache lies in the repository. */
  readonly engineCacheDir: string | null;
  /** The INT8 calibration table shipped into it, an absolute path. @default - none */
  readonly int8CalibrationTable?: string;
}

export interface BuildGpuRepositoryParams {
  /** The planned configuration (`planTritonConfig`), as the target's plan holds it; its `name` is the model's folder. */
  tritonConfig: TritonModelConfig;
  /** The model's file and its external data files. */
  signature: Pick<ModelSignature, 'file' | 'externalData'>;
  /** The repository root to write into (`<workDir>/repository`). */
  outDir: string;
  /**
   * The engine cache folder relative to the model's folder, when it lies inside the repository
   * (`engineCacheLocation(...).repositoryDir` with engine 'tensorrt').
   * @default - none
   */
  engineCacheDir?: string | null;
  /**
   * The INT8 calibration table to ship into `engineCacheDir`, an absolute path.
   * @default - none
   */
  int8CalibrationTable?: string;
  io?: IoHelper;
}

/**
 * Writes the Triton model repository of a GPU target and hashes it. Shared by the gcp-vertex and
 * azure-ml targets, which plan the configuration and upload the folder as it is.
 */
export async function buildGpuRepository(params: BuildGpuRepositoryParams): Promise<BuiltRepository> {
  const repo = await buildTritonRepository({
    signature: params.signature, config: params.tritonConfig, outDir: params.outDir,
    engineCacheDir: params.engineCacheDir ?? null,
    ...(params.int8CalibrationTable ? { int8CalibrationTable: params.int8CalibrationTable } : {}),
    ...(params.io ? { io: params.io } : {}),
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
