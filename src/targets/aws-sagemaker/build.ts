/** Builds what the aws-sagemaker target ships: the Triton model repository from the plan's config, packed into model.tar.gz. */
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { buildTritonRepository, packTritonRepository } from '../../kits/triton/index.js';
import type { BuildResult, TargetContext } from '../driver.js';
import type { AwsSageMakerPlan } from './plan.js';
import type { AwsSageMakerTargetConfig } from './schema.js';

export type SageMakerContext = TargetContext<AwsSageMakerTargetConfig, AwsSageMakerPlan>;

/** The build's record of its archive, which synth and the rollout read instead of building again. */
export interface SageMakerArtifacts {
  /** The reproducible model.tar.gz: the Triton model repository at its root. */
  readonly modelArchive: string;
  readonly modelArchiveSha256: string;
  readonly modelArchiveBytes: number;
  /** The repository folder, and its files relative to it. */
  readonly repositoryRoot: string;
  readonly repositoryFiles: string[];
}

/**
 * Writes the model repository to `<workDir>/repository` (config.pbtxt from the plan's Triton
 * config, the model, the engine cache folder) and packs it into the reproducible
 * `<workDir>/model.tar.gz` that the stack uploads as its model data.
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
  const archive = await packTritonRepository(repository.root, path.join(ctx.workDir, 'model.tar.gz'));
  io.info('DM_SAGEMAKER_MODEL_ARCHIVE', `Packed ${archive.entries.length} entries into ${archive.file} (${archive.bytes} bytes, sha256 ${archive.sha256.slice(0, 12)})`, {
    file: archive.file, bytes: archive.bytes, sha256: archive.sha256,
  });
  return {
    artifacts: [
      { kind: 'model.tar.gz', file: archive.file, bytes: archive.bytes, sha256: archive.sha256 },
      ...repository.files.map((f) => {
        const file = path.join(repository.root, ...f.split('/'));
        return { kind: 'triton-repository', file, bytes: statSync(file).size };
      }),
    ],
    outputs: {
      modelArchive: archive.file, modelArchiveSha256: archive.sha256, modelArchiveBytes: archive.bytes,
      repositoryRoot: repository.root, repositoryFiles: [...repository.files],
    },
  };
}
