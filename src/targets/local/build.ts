/** Builds what the aws-lambda target ships, for this machine's architecture: the function zip and the pruned layer. */
import path from 'node:path';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import { buildFunctionArtifact } from '../../bundling/build-function-artifact.js';
import { ensureLambdaNode } from '../../lambda-emulator/lambda-node.js';
import type { BuildResult, TargetContext } from '../driver.js';
import type { LocalPlan } from './plan.js';
import type { LocalTargetConfig } from './schema.js';

export interface LocalArtifacts {
  /** The Node of the Lambda runtime (22) the function runs on; absent when it could not be fetched (the emulator then says it falls back). */
  nodeBinary?: string;
  functionZip: string;
  layerZip: string;
  functionBytes: number;
  layerBytes: number;
  functionSha256: string;
}

export type LocalContext = TargetContext<LocalTargetConfig, LocalPlan>;

export async function buildLocalArtifacts(ctx: LocalContext): Promise<BuildResult<LocalArtifacts>> {
  const { architecture } = ctx.plan;
  ctx.io.info('DM_BUILD_FUNCTION', 'Bundling the handler and packaging the model');
  const fn = await buildFunctionArtifact({ modelPath: ctx.plan.model.file, signature: ctx.signature, outDir: path.join(ctx.workDir, 'function'), io: ctx.io });
  ctx.io.info('DM_BUILD_LAYER', `Building the onnxruntime-node layer (${architecture})`);
  const layer = await buildOrtLayer({ architecture, outDir: path.join(ctx.workDir, 'layer'), cacheDir: path.join(ctx.cacheDir, 'layers') });
  const node = await lambdaNode(ctx);
  const outputs: LocalArtifacts = {
    ...(node ? { nodeBinary: node } : {}),
    functionZip: fn.zip.file, functionBytes: fn.zip.bytes, functionSha256: fn.zip.sha256,
    layerZip: layer.zip.file, layerBytes: layer.zip.bytes,
  };
  return {
    artifacts: [
      { kind: 'function.zip', file: fn.zip.file, bytes: fn.zip.bytes, sha256: fn.zip.sha256 },
      { kind: `layer.zip (${architecture})`, file: layer.zip.file, bytes: layer.zip.bytes, sha256: layer.zip.sha256 },
    ],
    outputs,
  };
}

/** The runtime's Node from the npm registry (cached); a failure to fetch it is a warning, and the emulator falls back. */
async function lambdaNode(ctx: LocalContext): Promise<string | undefined> {
  try {
    const node = await ensureLambdaNode({ cacheDir: ctx.cacheDir });
    return node.fallback ? undefined : node.binary;
  } catch (e) {
    ctx.io.warn('DM_LOCAL_NODE_UNAVAILABLE', `${(e as Error).message} The function runs on this machine's Node instead.`);
    return undefined;
  }
}

/** What the emulator runs: the plan's settings with the built zips. */
export function localFunctionSpec(plan: LocalPlan, artifacts: LocalArtifacts, port?: number) {
  return {
    functionName: plan.functionName,
    version: '1',
    handler: plan.handler,
    codeZip: artifacts.functionZip,
    layers: [artifacts.layerZip],
    env: { ...plan.environment },
    memoryMb: plan.memoryMb,
    timeoutSeconds: plan.timeoutSeconds,
    ephemeralStorageMb: plan.ephemeralStorageMb,
    functionUrlAuthType: plan.urlAuth,
    ...(artifacts.nodeBinary ? { nodeBinary: artifacts.nodeBinary } : {}),
    region: 'local',
    port: port ?? plan.port,
  };
}
