import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ModelConfig, RuntimeConfig } from '../../config/schema.js';
import type { IoHelper } from '../../io/io-host.js';
import type { ModelSignature } from '../../model/types.js';
import {
  buildTritonRepository, engineCacheLocation, packTritonRepository, planTritonConfig, type PackedRepository, type TritonRepository,
} from '../../kits/triton/index.js';
import type { AwsSageMakerTargetConfig } from './schema.js';
import type { SageMakerStackArtifacts } from './stack.js';

export interface BuildSageMakerArtifactsOptions {
  readonly signature: ModelSignature;
  readonly model: ModelConfig;
  /** `runtime` of the config: `intraOpThreads` reaches the onnxruntime backend. @default - onnxruntime's choice */
  readonly runtime?: RuntimeConfig;
  readonly target: AwsSageMakerTargetConfig;
  /** Triton's model name (the folder in the archive). */
  readonly tritonModel: string;
  /** Receives `repository/` and `model.tar.gz`. */
  readonly workDir: string;
  /** Where relative paths of the config (the INT8 calibration table) start. */
  readonly rootDir: string;
  readonly io?: IoHelper;
}

export interface SageMakerArtifacts extends SageMakerStackArtifacts {
  readonly repository: TritonRepository;
  readonly archive: PackedRepository;
}

/**
 * Plans the Triton configuration for SageMaker, writes the model repository to
 * `<workDir>/repository` and packs it into the reproducible `<workDir>/model.tar.gz` that the
 * stack uploads as its model data.
 */
export async function buildSageMakerArtifacts(options: BuildSageMakerArtifactsOptions): Promise<SageMakerArtifacts> {
  const { signature, model, target, tritonModel, workDir, io } = options;
  const config = planTritonConfig({
    signature, modelName: tritonModel, host: 'aws-sagemaker', batching: model.batching, inputShapes: model.inputs, options: target, runtime: options.runtime,
  });
  const cache = target.engine === 'tensorrt' ? engineCacheLocation('aws-sagemaker', tritonModel, target) : { repositoryDir: null };
  const outDir = path.join(workDir, 'repository');
  // The archive packs the whole folder: nothing from an earlier build (another model name) may stay.
  await rm(outDir, { recursive: true, force: true });
  const repository = await buildTritonRepository({
    signature,
    config,
    outDir,
    engineCacheDir: cache.repositoryDir,
    ...(target.int8Calibration ? { int8CalibrationTable: path.resolve(options.rootDir, target.int8Calibration.table) } : {}),
    io,
  });
  const archive = await packTritonRepository(repository.root, path.join(workDir, 'model.tar.gz'));
  io?.info('DM_SAGEMAKER_MODEL_ARCHIVE', `Packed ${archive.entries.length} entries into ${archive.file} (${archive.bytes} bytes, sha256 ${archive.sha256.slice(0, 12)})`, {
    file: archive.file, bytes: archive.bytes, sha256: archive.sha256,
  });
  return { modelArchive: archive.file, modelArchiveSha256: archive.sha256, tritonModel, repository, archive };
}
