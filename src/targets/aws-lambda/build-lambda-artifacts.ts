import path from 'node:path';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import { buildFunctionArtifact } from '../../bundling/build-function-artifact.js';
import type { IoHelper } from '../../io/io-host.js';
import type { ModelSignature } from '../../model/types.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import type { LambdaStackArtifacts } from './stack.js';

export interface BuildLambdaArtifactsOptions {
  readonly modelPath: string;
  readonly signature: ModelSignature;
  readonly target: AwsLambdaTargetConfig;
  /** Receives `function/` and `layer/`. */
  readonly workDir: string;
  /**
   * Folder of built layers shared between projects.
   * @default - no cache
   */
  readonly layerCacheDir?: string;
  readonly io?: IoHelper;
}

/** Builds the function zip and the onnxruntime layer zip of one aws-lambda target. */
export async function buildLambdaArtifacts(options: BuildLambdaArtifactsOptions): Promise<LambdaStackArtifacts> {
  const [fn, layer] = await Promise.all([
    buildFunctionArtifact({ modelPath: options.modelPath, signature: options.signature, outDir: path.join(options.workDir, 'function'), io: options.io }),
    buildOrtLayer({ architecture: options.target.architecture, outDir: path.join(options.workDir, 'layer'), cacheDir: options.layerCacheDir, io: options.io }),
  ]);
  return {
    functionZip: fn.zip.file,
    layerZip: layer.zip.file,
    modelBytes: fn.modelBytes,
    unzippedBytes: { function: fn.unzippedBytes, layer: layer.unzippedBytes },
  };
}
