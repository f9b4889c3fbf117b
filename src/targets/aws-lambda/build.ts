/** Builds what the aws-lambda target ships: the function zip (handler + model) and the onnxruntime layer for its architecture. */
import path from 'node:path';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import { buildFunctionArtifact, type WeightFile } from '../../bundling/build-function-artifact.js';
import type { BuildResult, TargetContext } from '../driver.js';
import type { AwsLambdaPlan } from './plan.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import type { LambdaImageArtifact } from './build-image.js';

export type LambdaContext = TargetContext<AwsLambdaTargetConfig, AwsLambdaPlan>;

/** The build's record of its zips, which synth and the rollout read instead of building again. */
export interface LambdaArtifacts {
  readonly functionZip: string;
  readonly functionBytes: number;
  readonly functionSha256: string;
  /** Counted by Lambda against the 250 MB limit of code plus layers. */
  readonly functionUnzippedBytes: number;
  readonly layerZip: string;
  readonly layerBytes: number;
  readonly layerSha256: string;
  readonly layerUnzippedBytes: number;
  /** The model file plus its external data files. */
  readonly modelBytes: number;
  /** With weights 's3': the model's files, uploaded as their own assets and fetched at init. @default - none: in the zip */
  readonly weights?: readonly WeightFile[];
  /** With package 'image': the image built from the zip and the layer. @default - none */
  readonly image?: LambdaImageArtifact;
}

/** Bundles the handler with the model into `<workDir>/function`, and builds (or reuses) the layer into `<workDir>/layer`. */
export async function buildLambdaArtifacts(ctx: LambdaContext): Promise<BuildResult<LambdaArtifacts>> {
  const { plan, io } = ctx;
  const [fn, layer] = await Promise.all([
    buildFunctionArtifact({ modelPath: plan.model.file, signature: ctx.signature, outDir: path.join(ctx.workDir, 'function'), weightsApart: plan.weights === 's3', io }),
    buildOrtLayer({ architecture: plan.architecture, outDir: path.join(ctx.workDir, 'layer'), cacheDir: path.join(ctx.cacheDir, 'layers'), io }),
  ]);
  // The image holds the same zip and layer, unpacked where Lambda would put them.
  const image = plan.image
    ? await (await import('./build-image.js')).buildLambdaImage({ image: plan.image, stackName: plan.stackName, functionZip: fn.zip.file, layerZip: layer.zip.file, outDir: path.join(ctx.workDir, 'image'), io })
    : undefined;
  const outputs: LambdaArtifacts = {
    functionZip: fn.zip.file, functionBytes: fn.zip.bytes, functionSha256: fn.zip.sha256, functionUnzippedBytes: fn.unzippedBytes,
    layerZip: layer.zip.file, layerBytes: layer.zip.bytes, layerSha256: layer.zip.sha256, layerUnzippedBytes: layer.unzippedBytes,
    modelBytes: fn.modelBytes,
    ...(fn.weights ? { weights: fn.weights } : {}),
    ...(image ? { image } : {}),
  };
  return {
    artifacts: [
      { kind: 'function.zip', file: fn.zip.file, bytes: fn.zip.bytes, sha256: fn.zip.sha256 },
      { kind: `layer.zip (${plan.architecture})`, file: layer.zip.file, bytes: layer.zip.bytes, sha256: layer.zip.sha256 },
      ...(image ? [{ kind: `image (${image.platform})`, file: image.localRef, bytes: image.bytes }] : []),
    ],
    outputs,
  };
}
