import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { buildFunctionArtifact } from '../../bundling/build-function-artifact.js';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import type { TargetContext } from '../driver.js';
import type { LocalTargetConfig } from './schema.js';

export interface LocalArtifacts {
  functionZip: string;
  layerZip: string;
  functionBytes: number;
  layerBytes: number;
  functionSha256: string;
  architecture: 'x86_64' | 'arm64';
}

/** The Lambda architecture matching this machine; the local target runs the layer built for it. */
export function hostArchitecture(): 'x86_64' | 'arm64' {
  if (process.platform !== 'linux') {
    throw new DeployModelError('LOCAL_UNSUPPORTED_PLATFORM', `The local target runs the Linux Lambda artifacts and needs Linux (this is ${process.platform}). Run it in a Linux container or VM, or use the container target.`);
  }
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'arm64';
  throw new DeployModelError('LOCAL_UNSUPPORTED_ARCH', `The local target needs x64 or arm64 (this is ${process.arch}); onnxruntime-node ships no Linux binary for it.`);
}

/** Builds exactly what the aws-lambda target ships: the function zip and the pruned layer. */
export async function buildLocalArtifacts(ctx: TargetContext<LocalTargetConfig>): Promise<LocalArtifacts> {
  const architecture = hostArchitecture();
  ctx.io.info('DM_BUILD_FUNCTION', 'Bundling the handler and packaging the model');
  const fn = await buildFunctionArtifact({ modelPath: ctx.signature.file, signature: ctx.signature, outDir: path.join(ctx.workDir, 'function'), io: ctx.io });
  ctx.io.info('DM_BUILD_LAYER', `Building the onnxruntime-node layer (${architecture})`);
  const layer = await buildOrtLayer({ architecture, outDir: path.join(ctx.workDir, 'layer'), cacheDir: path.join(ctx.cacheDir, 'layers') });
  return {
    functionZip: fn.zip.file, functionBytes: fn.zip.bytes, functionSha256: fn.zip.sha256,
    layerZip: layer.zip.file, layerBytes: layer.zip.bytes, architecture,
  };
}
