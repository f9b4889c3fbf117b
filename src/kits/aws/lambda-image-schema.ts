/** The config pieces of a Lambda function shipped as a container image, shared by the aws-lambda and local targets: `package` and `image`. */
import { z } from 'zod';
import { CONTAINER_BUILDERS } from '../container/builder-names.js';
import { LAMBDA_IMAGE_BASE } from '../container/base-images.js';

/** `zip` (function zip + onnxruntime layer) or `image` (a container image with both laid out as Lambda does). */
export const lambdaPackageSchema = z.enum(['zip', 'image']);

/** The container image, with `package: 'image'`. */
export const lambdaImageSchema = z
  .object({
    /**
     * The Node.js 22 image the function image is built FROM (it needs `node` on PATH).
     * @default 'docker.io/library/node:22-bookworm-slim'
     */
    baseImage: z.string().min(1).default(LAMBDA_IMAGE_BASE)
      .describe(`The Node.js 22 image the function image is built FROM (needs node on PATH). Default: '${LAMBDA_IMAGE_BASE}'.`),
    /**
     * The image builder.
     * @default - the first that works here: docker, podman, buildah
     */
    builder: z.enum(CONTAINER_BUILDERS).optional()
      .describe('The image builder. Default: the first that works here (docker, podman, buildah).'),
  })
  .strict()
  .default({ baseImage: LAMBDA_IMAGE_BASE })
  .describe("The container image, with package: 'image'.");

export type LambdaImageConfig = z.infer<typeof lambdaImageSchema>;
