// Stages a SageMaker model archive as an S3 asset with the object key SageMaker expects.
import path from 'node:path';
import { AssetHashType, AssetStaging, FileAssetPackaging, Stack, type FileAssetLocation } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DeployModelError } from '../src/errors.js';
import { tritonOptionsSchema } from '../src/kits/triton/index.js';
import { archiveSha256 } from '../src/kits/sagemaker/sha256-archive.js';
import type { TritonModelOptions } from './build-assets.js';
import type { ModelFile } from './_model-file.js';
import { fileStamp, synthBuild } from './run-asset-builder.js';

/** Where the endpoint's model archive comes from. */
export type ModelArchiveSource =
  | { readonly archive: string; readonly sha256?: string }
  | { readonly model: ModelFile; readonly modelName: string; readonly tritonVersion: string; readonly triton?: TritonModelOptions };

/**
 * Stages the model archive like an `Asset` does, but asks for the object key `<hash>.tar.gz`, the
 * suffix SageMaker documents for model data: the synthesizer appends only the last extension of
 * the file (`<hash>.gz`, aws/aws-cdk#30257), so the `.tar` goes into the asset's source hash.
 *
 * A given archive's hash is its sha256 (AssetStaging caches hashes by path for the life of the
 * process, and a build rewrites the archive at the same path). An archive built at synth from a
 * model is hashed by CDK from the built bytes, which are reproducible: the same model and
 * settings give the same key.
 */
export function stageModelArchive(scope: Construct, source: ModelArchiveSource): FileAssetLocation {
  const stack = Stack.of(scope);
  let staging: AssetStaging;
  if ('archive' in source) {
    staging = new AssetStaging(scope, 'ModelArchive', {
      sourcePath: source.archive, assetHashType: AssetHashType.CUSTOM, assetHash: source.sha256 ?? archiveSha256(source.archive),
    });
  } else {
    const what = scope.node.path;
    const triton = checkedTritonOptions(source.triton, what);
    const build = synthBuild({
      kind: 'triton',
      options: { model: source.model.file, modelName: source.modelName, tritonVersion: source.tritonVersion, ...(triton ? { triton } : {}) },
      stamp: fileStamp(source.model.file),
    }, what);
    staging = build.stage(() => new AssetStaging(scope, 'ModelArchive', {
      sourcePath: path.dirname(source.model.file), assetHashType: AssetHashType.OUTPUT, bundling: build.bundling,
    }));
  }
  const tar = /\.tar\.gz$/.test(staging.absoluteStagedPath) ? '.tar' : '';
  return stack.synthesizer.addFileAsset({
    fileName: staging.relativeStagedPath(stack),
    // A folder only where CDK skipped the build, for a stack it does not deploy.
    packaging: staging.packaging === FileAssetPackaging.ZIP_DIRECTORY ? FileAssetPackaging.ZIP_DIRECTORY : FileAssetPackaging.FILE,
    sourceHash: `${staging.assetHash}${tar}`,
    displayName: `${scope.node.path}/ModelArchive`,
  });
}

/**
 * The Triton options checked before anything is built, with the calibration table's path made
 * absolute (relative paths start from the directory the CDK app runs in).
 */
function checkedTritonOptions(triton: TritonModelOptions | undefined, what: string): TritonModelOptions | undefined {
  if (!triton) return undefined;
  const { batching: _batching, inputs: _inputs, ...options } = triton;
  const parsed = tritonOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeployModelError('TRITON_OPTIONS_INVALID', `${what}: triton.${issue.path.join('.')}: ${issue.message}.`, { details: { path: issue.path, value: options } });
  }
  const table = triton.int8Calibration?.table;
  return table ? { ...triton, int8Calibration: { ...triton.int8Calibration!, table: path.resolve(table) } } : triton;
}
