// Writes the Triton model repository: config.pbtxt and the model.
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { ModelSignature } from '../../model/types.js';
import { calibrationTableName } from './plan-triton-config.js';
import { renderPbtxt } from './render-pbtxt.js';
import type { TritonModelConfig } from './types.js';

/** Triton serves the highest numeric folder; deploy-model always writes version 1. */
export const MODEL_VERSION = '1';

export interface BuildTritonRepositoryParams {
  signature: Pick<ModelSignature, 'file' | 'externalData'>;
  /** The planned configuration (`planTritonConfig`); its `name` is the model's folder. */
  config: TritonModelConfig;
  /** The repository root to write into; `<outDir>/<name>/` is replaced, nothing else is touched. */
  outDir: string;
  /** @default signature.file */
  modelPath?: string;
  /**
   * The engine cache folder relative to the model's folder, when the cache lies inside the
   * repository (`engineCacheLocation(...).repositoryDir`): created, and given the INT8 table.
   * @default - none
   */
  engineCacheDir?: string | null;
  /** INT8 calibration table to ship into `engineCacheDir` (an absolute path, or relative to the working directory). */
  int8CalibrationTable?: string;
  io?: IoHelper;
}

export interface TritonRepository {
  /** The repository root (`outDir`). */
  root: string;
  /** The model's folder, `<root>/<name>`. */
  modelDir: string;
  /** Every file written, relative to the root, POSIX separators, sorted. */
  files: string[];
}

/**
 * Writes a Triton model repository for one ONNX model:
 *
 *     <outDir>/<name>/config.pbtxt
 *     <outDir>/<name>/1/model.onnx            (a copy, whatever the source file is called)
 *     <outDir>/<name>/1/<external data files>  (same relative paths as next to the source model)
 *     <outDir>/<name>/<engineCacheDir>/[<calibration table>]
 *
 * No TensorRT engine is built here: engines are specific to the GPU model and TensorRT version,
 * so the serving host builds them at load and caches them.
 */
export async function buildTritonRepository(params: BuildTritonRepositoryParams): Promise<TritonRepository> {
  const { signature, config, io } = params;
  const root = resolve(params.outDir);
  const modelDir = join(root, config.name);
  const modelPath = resolve(params.modelPath ?? signature.file);
  const files: string[] = [];

  // A previous build may have left other files (old external data): start the folder afresh so
  // that the packed repository depends on this build only.
  await rm(modelDir, { recursive: true, force: true });
  await mkdir(join(modelDir, MODEL_VERSION), { recursive: true });

  await writeFile(join(modelDir, 'config.pbtxt'), renderPbtxt(config));
  files.push(`${config.name}/config.pbtxt`);

  await copyInto(modelPath, join(modelDir, MODEL_VERSION, 'model.onnx'));
  files.push(`${config.name}/${MODEL_VERSION}/model.onnx`);
  // ONNX Runtime resolves external data relative to the model file, so it keeps its relative path.
  for (const rel of signature.externalData) {
    const safe = safeRelative(rel);
    await mkdir(dirname(join(modelDir, MODEL_VERSION, safe)), { recursive: true });
    await copyInto(join(dirname(modelPath), safe), join(modelDir, MODEL_VERSION, safe));
    files.push(`${config.name}/${MODEL_VERSION}/${safe.split(sep).join('/')}`);
  }

  if (params.engineCacheDir) {
    const cacheDir = join(modelDir, safeRelative(params.engineCacheDir));
    await mkdir(cacheDir, { recursive: true });
    if (params.int8CalibrationTable) {
      const name = calibrationTableName(params.int8CalibrationTable);
      await copyInto(resolve(params.int8CalibrationTable), join(cacheDir, name));
      files.push(`${config.name}/${params.engineCacheDir}/${name}`);
    }
  } else if (params.int8CalibrationTable) {
    io?.warn('DM_TRITON_INT8_TABLE_NOT_SHIPPED',
      `The INT8 calibration table ${params.int8CalibrationTable} is not shipped: the engine cache directory is outside the model repository, and the serving host must provide the table there.`,
      { table: params.int8CalibrationTable });
  }

  files.sort();
  io?.info('DM_TRITON_REPOSITORY', `Wrote the Triton model repository for '${config.name}' (${files.length} files) to ${root}`, { root, files });
  return { root, modelDir, files };
}

async function copyInto(from: string, to: string): Promise<void> {
  try {
    await copyFile(from, to);
  } catch (e) {
    throw new DeployModelError('TRITON_REPOSITORY_COPY', `Could not copy ${from} into the Triton model repository (${to}): ${(e as Error).message}. Check that the file exists and is readable.`,
      { cause: e, details: { from, to } });
  }
}

/** A relative path that stays inside its folder. */
function safeRelative(rel: string): string {
  const n = normalize(rel);
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`) || n === '.') {
    throw new DeployModelError('TRITON_REPOSITORY_PATH', `Path ${JSON.stringify(rel)} would leave the model repository; external data and cache folders must be relative paths inside the model's folder.`,
      { details: { path: rel } });
  }
  return n;
}
