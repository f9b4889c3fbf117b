/** Builds what the aws-sagemaker target ships: the Triton model repository from the plan's config, packed into model.tar.gz. */
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { buildTritonRepository, packTritonRepository } from '../../kits/triton/index.js';
import { remoteModelRecord } from '../../model/remote/fetch-remote-model.js';
import { parseModelUrl } from '../../model/remote/model-url.js';
import type { BuildResult, TargetContext } from '../driver.js';
import type { AwsSageMakerPlan } from './plan.js';
import type { AwsSageMakerTargetConfig } from './schema.js';
import { planRepositoryInS3, type RepositoryInS3 } from './_repository-in-s3.js';

export type { RepositoryCopy, RepositoryInS3, RepositoryUpload } from './_repository-in-s3.js';

export type SageMakerContext = TargetContext<AwsSageMakerTargetConfig, AwsSageMakerPlan>;

/** The build's record of its archive, which synth and the rollout read instead of building again. */
export interface SageMakerArtifacts {
  /** The reproducible model.tar.gz: the Triton model repository at its root; absent for a model kept in S3. */
  readonly modelArchive?: string;
  readonly modelArchiveSha256?: string;
  readonly modelArchiveBytes?: number;
  /** For a model kept in S3 (`model.path` s3://): the uncompressed repository SageMaker reads in place. */
  readonly modelRepository?: RepositoryInS3;
  /** The repository folder, and its files relative to it. */
  readonly repositoryRoot: string;
  readonly repositoryFiles: string[];
}

/**
 * Writes the model repository to `<workDir>/repository` (config.pbtxt from the plan's Triton
 * config, the model, the engine cache folder) and packs it into the reproducible
 * `<workDir>/model.tar.gz` that the stack uploads as its model data. A model kept in S3 is not
 * packed: SageMaker reads the repository uncompressed from a prefix of the bootstrap bucket, the
 * model files copied there from the source object inside S3.
 */
export async function buildSageMakerArtifacts(ctx: SageMakerContext): Promise<BuildResult<SageMakerArtifacts>> {
  const { plan, io } = ctx;
  const outDir = path.join(ctx.workDir, 'repository');
  // The archive packs the whole folder: nothing from an earlier build (another model name) may stay.
  await rm(outDir, { recursive: true, force: true });
  const repository = await buildTritonRepository({
    signature: ctx.signature,
    config: plan.tritonConfig,
    outDir,
    engineCacheDir: plan.engineCache?.repositoryDir ?? null,
    ...(plan.int8CalibrationTable ? { int8CalibrationTable: plan.int8CalibrationTable } : {}),
    io,
  });
  const repositoryFiles = (files: string[]) => files.map((f) => {
    const file = path.join(repository.root, ...f.split('/'));
    return { kind: 'triton-repository', file, bytes: statSync(file).size };
  });
  const url = ctx.loaded.modelUrl ? parseModelUrl(ctx.loaded.modelUrl) : undefined;
  if (url?.kind === 's3') {
    const inS3 = await planRepositoryInS3({
      url, record: await remoteModelRecord(ctx.cacheDir, url.url), root: repository.root, files: repository.files, modelName: plan.tritonModel,
    });
    return {
      artifacts: repositoryFiles(repository.files),
      outputs: { modelRepository: inS3, repositoryRoot: repository.root, repositoryFiles: [...repository.files] },
    };
  }
  const archive = await packTritonRepository(repository.root, path.join(ctx.workDir, 'model.tar.gz'));
  io.info('DM_SAGEMAKER_MODEL_ARCHIVE', `Packed ${archive.entries.length} entries into ${archive.file} (${archive.bytes} bytes, sha256 ${archive.sha256.slice(0, 12)})`, {
    file: archive.file, bytes: archive.bytes, sha256: archive.sha256,
  });
  return {
    artifacts: [
      { kind: 'model.tar.gz', file: archive.file, bytes: archive.bytes, sha256: archive.sha256 },
      ...repositoryFiles(repository.files),
    ],
    outputs: {
      modelArchive: archive.file, modelArchiveSha256: archive.sha256, modelArchiveBytes: archive.bytes,
      repositoryRoot: repository.root, repositoryFiles: [...repository.files],
    },
  };
}
