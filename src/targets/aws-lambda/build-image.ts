/** Builds the aws-lambda container image: the function zip and the onnxruntime layer laid out as Lambda does, behind a Runtime API client. */
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { LAMBDA_IMAGE_LIMIT_BYTES } from '../../kits/aws/lambda-limits.js';
import { detectBuilder, parseImageSize, planBuild, planImageSize, type Builder } from '../../kits/container/builders.js';
import { runOrThrow } from '../../kits/container/exec.js';
import { layoutLambdaImageContext } from '../../kits/container/lambda-image-context.js';
import type { LambdaImagePlan } from './plan.js';

/** What the build recorded of the image; the rollout pushes it. */
export interface LambdaImageArtifact {
  /** The local reference, `localhost/deploy-model-lambda/<stack>:<tag>`. */
  readonly localRef: string;
  /** Derived from the content of the context: the same code, model and runtime give the same tag. */
  readonly tag: string;
  /** Uncompressed size, which Lambda's 10 GB limit counts. */
  readonly bytes: number;
  readonly platform: LambdaImagePlan['platform'];
  readonly builder: Builder['name'];
  readonly contextDir: string;
  /** The ECR repository it was pushed to: set by the rollout once pushed. @default - not pushed */
  readonly repositoryName?: string;
}

export interface BuildLambdaImageOptions {
  readonly image: LambdaImagePlan;
  readonly stackName: string;
  readonly functionZip: string;
  readonly layerZip: string;
  /** Receives `context/`. */
  readonly outDir: string;
  readonly io?: IoHelper;
}

/**
 * Lays out the context, builds the image with the first builder that works and measures it
 * against Lambda's 10 GB limit.
 */
export async function buildLambdaImage(options: BuildLambdaImageOptions): Promise<LambdaImageArtifact> {
  const { image, io } = options;
  // The builder first: without one, nothing else is worth doing.
  const builder = await detectBuilder({ ...(image.builder ? { preferred: image.builder } : {}), ...(io ? { io } : {}) });
  const { contextDir, tag } = await layoutLambdaImageContext({
    image, what: `The Lambda image of ${options.stackName}`, functionZip: options.functionZip, layerZip: options.layerZip, contextDir: path.join(options.outDir, 'context'),
  });
  const localRef = `localhost/deploy-model-lambda/${options.stackName.toLowerCase()}:${tag}`;
  await runOrThrow(planBuild(builder, { contextDir, tags: [localRef], platform: image.platform }), `Building the Lambda image ${localRef}`, { ...(io ? { io } : {}), timeoutMs: 1_800_000 });
  const bytes = parseImageSize(builder, (await runOrThrow(planImageSize(builder, localRef), `Measuring ${localRef}`)).stdout);
  if (bytes > LAMBDA_IMAGE_LIMIT_BYTES) {
    throw new DeployModelError('LAMBDA_IMAGE_TOO_LARGE', `The Lambda image ${localRef} is ${(bytes / 1024 ** 3).toFixed(2)} GB uncompressed, over Lambda's limit of 10 GB for a container image. Deploy the model with an aws-sagemaker target or the container target, or shrink it (fp16 or int8 quantisation).`, {
      details: { image: localRef, bytes, limitBytes: LAMBDA_IMAGE_LIMIT_BYTES },
    });
  }
  io?.info('DM_LAMBDA_IMAGE_BUILT', `Built the Lambda image ${localRef} (${(bytes / (1024 * 1024)).toFixed(1)} MB, ${image.platform})`, { image: localRef, bytes, platform: image.platform });
  return { localRef, tag, bytes, platform: image.platform, builder: builder.name, contextDir };
}

export { IMAGE_HANDLER, layoutLambdaImageContext, renderLambdaDockerfile, type LambdaImageLayout, type LayoutLambdaImageOptions } from '../../kits/container/lambda-image-context.js';
