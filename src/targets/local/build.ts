/** Builds what the aws-lambda target ships, for this machine's architecture: the function zip and the pruned layer, and with package 'image' aws-lambda's image of them. */
import path from 'node:path';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import { buildFunctionArtifact } from '../../bundling/build-function-artifact.js';
import { DeployModelError, isDeployModelError } from '../../errors.js';
import { buildLambdaImageWith } from '../../kits/container/build-lambda-image.js';
import { detectBuilder, type Builder } from '../../kits/container/builders.js';
import { runOrThrow } from '../../kits/container/exec.js';
import { ensureLambdaNode } from '../../lambda-emulator/lambda-node.js';
import type { BuildResult, TargetContext } from '../driver.js';
import type { DaemonFunctionSpec } from './daemon-protocol.js';
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
  /** With package 'image': the image built from the zip and the layer. @default - none */
  image?: LocalImageArtifact;
}

/** The image a version runs, with package 'image'. */
export interface LocalImageArtifact {
  /** `localhost/deploy-model-local/<name>:<tag>`. */
  ref: string;
  /** The content's hash, as aws-lambda's tag of the same image. */
  tag: string;
  /** The image ID. */
  id: string;
  bytes: number;
  platform: 'linux/amd64' | 'linux/arm64';
  /** The program that built it and runs it: `podman` or `docker`. */
  builder: string;
}

export type LocalContext = TargetContext<LocalTargetConfig, LocalPlan>;

export async function buildLocalArtifacts(ctx: LocalContext): Promise<BuildResult<LocalArtifacts>> {
  const { architecture } = ctx.plan;
  // The builder first: without one that runs images, nothing else is worth building.
  const builder = ctx.plan.image ? await imageBuilder(ctx) : undefined;
  ctx.io.info('DM_BUILD_FUNCTION', 'Bundling the handler and packaging the model');
  const fn = await buildFunctionArtifact({ modelPath: ctx.plan.model.file, signature: ctx.signature, outDir: path.join(ctx.workDir, 'function'), io: ctx.io });
  ctx.io.info('DM_BUILD_LAYER', `Building the onnxruntime-node layer (${architecture})`);
  const layer = await buildOrtLayer({ architecture, outDir: path.join(ctx.workDir, 'layer'), cacheDir: path.join(ctx.cacheDir, 'layers') });
  const image = ctx.plan.image && builder ? await buildImage(ctx, builder, fn.zip.file, layer.zip.file) : undefined;
  // The image carries its own Node (the base image's): the runtime's Node is for the zip.
  const node = image ? undefined : await lambdaNode(ctx);
  const outputs: LocalArtifacts = {
    ...(node ? { nodeBinary: node } : {}),
    functionZip: fn.zip.file, functionBytes: fn.zip.bytes, functionSha256: fn.zip.sha256,
    layerZip: layer.zip.file, layerBytes: layer.zip.bytes,
    ...(image ? { image } : {}),
  };
  return {
    artifacts: [
      { kind: 'function.zip', file: fn.zip.file, bytes: fn.zip.bytes, sha256: fn.zip.sha256 },
      { kind: `layer.zip (${architecture})`, file: layer.zip.file, bytes: layer.zip.bytes, sha256: layer.zip.sha256 },
      ...(image ? [{ kind: `image (${image.platform})`, file: image.ref, bytes: image.bytes }] : []),
    ],
    outputs,
  };
}

/** A builder that also runs images (docker or podman); none is CONTAINER_NO_BUILDER, saying the zip needs none. */
async function imageBuilder(ctx: LocalContext): Promise<Builder> {
  const preferred = ctx.plan.image?.builder;
  try {
    return await detectBuilder({ ...(preferred ? { preferred } : {}), mustRun: true, io: ctx.io });
  } catch (e) {
    if (!isDeployModelError(e) || (e.code !== 'CONTAINER_NO_BUILDER' && e.code !== 'CONTAINER_BUILDER_UNAVAILABLE')) throw e;
    throw new DeployModelError(e.code, `targets.${ctx.targetName} has package: 'image', which builds the aws-lambda image and runs it here with podman or docker. ${e.message} Or remove package: 'image' to run the zip under the local Lambda runtime, which needs no container engine. Nothing was built or changed.`, {
      cause: e, ...(e.details ? { details: e.details } : {}),
    });
  }
}

/** aws-lambda's image (the shared kit's build) for this machine, and its ID: what a kept version runs again. */
async function buildImage(ctx: LocalContext, builder: Builder, functionZip: string, layerZip: string): Promise<LocalImageArtifact> {
  const plan = ctx.plan.image!;
  const built = await buildLambdaImageWith({
    image: plan, repository: plan.repository, what: `The image of local target ${ctx.targetName}`, functionZip, layerZip,
    outDir: path.join(ctx.workDir, 'image'), builder, mustRun: true, io: ctx.io,
  });
  const id = (await runOrThrow([builder.command, 'image', 'inspect', '--format', '{{.Id}}', built.localRef], `Reading the ID of ${built.localRef}`)).stdout.trim();
  return { ref: built.localRef, tag: built.tag, id, bytes: built.bytes, platform: built.platform, builder: builder.command };
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

/** What the emulator runs: the plan's settings with the built zips, or with the image. */
export function localFunctionSpec(plan: LocalPlan, artifacts: LocalArtifacts, port?: number): DaemonFunctionSpec & Required<Pick<DaemonFunctionSpec, 'env' | 'ephemeralStorageMb' | 'functionUrlAuthType' | 'region'>> {
  const { image } = artifacts;
  return {
    functionName: plan.functionName,
    version: '1',
    handler: plan.handler,
    ...(image ? { image: { ref: image.ref, id: image.id, builder: image.builder } } : { codeZip: artifacts.functionZip, layers: [artifacts.layerZip] }),
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
