/** Builds what gcp-vertex uploads: the planned Triton model repository, hashed. */
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { buildGpuRepository, type BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import type { BuildResult, TargetContext } from '../driver.js';
import type { GcpVertexPlan } from './plan.js';
import type { GcpVertexTargetConfig } from './schema.js';

export type VertexContext = TargetContext<GcpVertexTargetConfig, GcpVertexPlan>;

/** The build's record, which synth, diff and the rollout hooks read. */
export interface VertexBuildOutputs {
  repository: BuiltRepository;
}

export async function buildVertexArtifacts(ctx: VertexContext): Promise<BuildResult<VertexBuildOutputs>> {
  const { plan } = ctx;
  const repository = await buildGpuRepository({
    tritonConfig: plan.tritonConfig, signature: ctx.signature, outDir: path.join(ctx.workDir, 'repository'),
    engineCacheDir: plan.repository.engineCacheDir,
    ...(plan.repository.int8CalibrationTable ? { int8CalibrationTable: plan.repository.int8CalibrationTable } : {}),
    io: ctx.io,
  });
  return {
    artifacts: repository.files.map((f) => ({ kind: 'triton-repository', file: path.join(repository.root, ...f.path.split('/')), bytes: f.bytes, sha256: f.sha256 })),
    outputs: { repository },
  };
}

/** The built repository a hook was handed. */
export function repositoryOf(build: BuildResult): BuiltRepository {
  const outputs = build.outputs as Partial<VertexBuildOutputs> | undefined;
  if (!outputs?.repository) {
    throw new DeployModelError('BUILD_OUTPUTS_MISSING', 'The gcp-vertex build handed over no Triton repository; build the target again (deploy-model build).', { kind: 'internal' });
  }
  return outputs.repository;
}
