/** The local target's config entry: a port, and the Lambda settings it emulates. */
import { z } from 'zod';
import { rolloutSchema } from '../../config/rollout-schema.js';
import { lambdaImageSchema, lambdaPackageSchema } from '../../kits/aws/lambda-image-schema.js';
import { LAMBDA_MEMORY_MAX_MB, LAMBDA_MEMORY_MIN_MB } from '../../kits/aws/lambda-limits.js';

export const localTargetSchema = z
  .object({
    type: z.literal('local'),
    /**
     * Loopback port the local Function URL listens on.
     * @default - a free port chosen at deploy time
     */
    port: z.number().int().min(1024).max(65535).optional()
      .describe('Loopback port the local Function URL listens on. Default: a free port chosen at deploy time.'),
    /**
     * How the function runs, as aws-lambda's `package`: `zip` (the function zip and the
     * onnxruntime layer under the local Lambda runtime) or `image` (the container image aws-lambda
     * builds, built for this machine's architecture and run with podman or docker against the
     * local Runtime API).
     * @default 'zip'
     */
    package: lambdaPackageSchema.default('zip')
      .describe("How the function runs: 'zip' (the function zip and the onnxruntime layer under the local Lambda runtime) or 'image' (the container image aws-lambda builds, for this machine's architecture, run with podman or docker against the local Runtime API). Default: 'zip'."),
    /** The container image, with `package: 'image'`, as aws-lambda's. */
    image: lambdaImageSchema,
    /**
     * Memory of the local function, as on Lambda (AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
     * @default - what the aws-lambda target gives the same model: max(1024, 4 x model MB + 512), rounded up to 64
     */
    memoryMb: z.number().int().min(LAMBDA_MEMORY_MIN_MB).max(LAMBDA_MEMORY_MAX_MB).optional()
      .describe('Memory of the local function, as on Lambda (AWS_LAMBDA_FUNCTION_MEMORY_SIZE). Default: what aws-lambda gives the same model, max(1024, 4 x model MB + 512) rounded up to 64.'),
    /**
     * Per-request timeout, as on Lambda.
     * @default 30
     */
    timeoutSeconds: z.number().int().min(1).max(900).default(30)
      .describe('Per-request timeout, as on Lambda. Default: 30.'),
    /**
     * Ephemeral storage (/tmp) in MB, as on Lambda: an invocation that leaves more fails.
     * @default 512
     */
    ephemeralStorageMb: z.number().int().min(512).max(10240).default(512)
      .describe('Ephemeral storage (/tmp) in MB, as on Lambda (512-10240). Default: 512.'),
    /** The local Function URL, as aws-lambda's. */
    url: z
      .object({
        /**
         * `iam`: events carry the caller's account and `requestContext.authorizer.iam`, as an
         * AWS_IAM Function URL's do (signatures are not checked locally); `none`: anonymous.
         * @default 'iam'
         */
        auth: z.enum(['iam', 'none']).default('iam')
          .describe("'iam' gives events the IAM authorizer fields an AWS_IAM Function URL has (signatures are not checked locally); 'none' sends anonymous events. Default: 'iam'."),
      })
      .strict()
      .default({ auth: 'iam' })
      .describe('The local Function URL, as aws-lambda\'s.'),
    /**
     * How traffic moves to a new version: `canary` and `linear` make the daemon's stable URL send
     * each step's share of the requests to the new version (a smooth weighted round-robin), the
     * rest to the version serving, and check each step before the next.
     * @default - all at once, after the smoke test
     */
    rollout: rolloutSchema.optional(),
  })
  .strict()
  .describe('Runs the built Lambda artifacts on this machine under a local Lambda Runtime API, exposed on 127.0.0.1 like a Function URL. No cloud, no credentials.');

export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
