/** Builds the aws-lambda container image: the function zip and the onnxruntime layer laid out as Lambda does, behind a Runtime API client. */
import type { IoHelper } from '../../io/io-host.js';
import { buildLambdaImageWith, type BuiltLambdaImage } from '../../kits/container/build-lambda-image.js';
import type { LambdaImagePlan } from './plan.js';

/** What the build recorded of the image (`localRef` is `localhost/deploy-model-lambda/<stack>:<tag>`); the rollout pushes it. */
export interface LambdaImageArtifact extends BuiltLambdaImage {
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
 * against Lambda's 10 GB limit (the shared kit's build, tagged in the stack's repository).
 */
export async function buildLambdaImage(options: BuildLambdaImageOptions): Promise<LambdaImageArtifact> {
  return buildLambdaImageWith({
    image: options.image, repository: `localhost/deploy-model-lambda/${options.stackName}`, what: `The Lambda image of ${options.stackName}`,
    functionZip: options.functionZip, layerZip: options.layerZip, outDir: options.outDir, ...(options.io ? { io: options.io } : {}),
  });
}

export { IMAGE_HANDLER, layoutLambdaImageContext, renderLambdaDockerfile, type LambdaImageLayout, type LayoutLambdaImageOptions } from '../../kits/container/lambda-image-context.js';
