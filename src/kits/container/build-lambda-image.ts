/** Builds a Lambda container image (the function zip and the onnxruntime layer laid out as Lambda does) with the first builder that works: shared by aws-lambda and local. */
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { LAMBDA_IMAGE_LIMIT_BYTES } from '../aws/lambda-limits.js';
import type { ContainerBuilderName } from './builder-names.js';
import { detectBuilder, parseImageSize, planBuild, planImageSize, runImageBuild, type Builder } from './builders.js';
import { runOrThrow } from './exec.js';
import { layoutLambdaImageContext, type LambdaImageLayout } from './lambda-image-context.js';

/** What the image is built from and for, and by which builder. */
export interface LambdaImageBuildPlan extends LambdaImageLayout {
  /** @default - the first builder that works: docker, podman, buildah */
  readonly builder?: ContainerBuilderName;
}

/** What the build recorded of the image. */
export interface BuiltLambdaImage {
  /** `<repository>:<tag>`. */
  readonly localRef: string;
  /** Derived from the content of the context: the same code, model and runtime give the same tag. */
  readonly tag: string;
  /** Uncompressed size, which Lambda's 10 GB limit counts. */
  readonly bytes: number;
  readonly platform: LambdaImageLayout['platform'];
  readonly builder: Builder['name'];
  readonly contextDir: string;
}

export interface BuildLambdaImageWithOptions {
  readonly image: LambdaImageBuildPlan;
  /** The local repository the image is tagged in, e.g. `localhost/deploy-model-lambda/<stack>`. */
  readonly repository: string;
  /** Named in messages, e.g. `The Lambda image of <stack>`. */
  readonly what: string;
  readonly functionZip: string;
  readonly layerZip: string;
  /** Receives `context/`. */
  readonly outDir: string;
  /** Only builders that also run containers (the local target runs the image). @default false */
  readonly mustRun?: boolean;
  /** The builder, when the caller detected it already. @default - detected */
  readonly builder?: Builder;
  readonly io?: IoHelper;
}

/**
 * Lays out the context, builds the image and measures it against Lambda's 10 GB limit. The
 * builder is detected first: without one, nothing else is worth doing.
 */
export async function buildLambdaImageWith(options: BuildLambdaImageWithOptions): Promise<BuiltLambdaImage> {
  const { image, io } = options;
  const builder = options.builder ?? await detectBuilder({ ...(image.builder ? { preferred: image.builder } : {}), ...(options.mustRun ? { mustRun: true } : {}), ...(io ? { io } : {}) });
  const { contextDir, tag } = await layoutLambdaImageContext({
    image, what: options.what, functionZip: options.functionZip, layerZip: options.layerZip, contextDir: path.join(options.outDir, 'context'),
  });
  const localRef = `${options.repository.toLowerCase()}:${tag}`;
  await runImageBuild(builder, planBuild(builder, { contextDir, tags: [localRef], platform: image.platform }), [localRef], `Building the Lambda image ${localRef}`, { ...(io ? { io } : {}), timeoutMs: 1_800_000 });
  const bytes = parseImageSize(builder, (await runOrThrow(planImageSize(builder, localRef), `Measuring ${localRef}`)).stdout);
  if (bytes > LAMBDA_IMAGE_LIMIT_BYTES) {
    throw new DeployModelError('LAMBDA_IMAGE_TOO_LARGE', `The Lambda image ${localRef} is ${(bytes / 1024 ** 3).toFixed(2)} GB uncompressed, over Lambda's limit of 10 GB for a container image. Deploy the model with an aws-sagemaker target or the container target, or shrink it (fp16 or int8 quantisation).`, {
      details: { image: localRef, bytes, limitBytes: LAMBDA_IMAGE_LIMIT_BYTES },
    });
  }
  io?.info('DM_LAMBDA_IMAGE_BUILT', `Built the Lambda image ${localRef} (${(bytes / (1024 * 1024)).toFixed(1)} MB, ${image.platform})`, { image: localRef, bytes, platform: image.platform });
  return { localRef, tag, bytes, platform: image.platform, builder: builder.name, contextDir };
}
