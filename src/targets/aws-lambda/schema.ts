/** The aws-lambda target's config entry: region, architecture, memory, concurrency, logs and the Function URL. */
import { z } from 'zod';
import { rolloutSchema } from '../../config/rollout-schema.js';
import { LAMBDA_MEMORY_MAX_MB, LAMBDA_MEMORY_MIN_MB } from '../../kits/aws/lambda-limits.js';
import { lambdaImageSchema, lambdaPackageSchema } from '../../kits/aws/lambda-image-schema.js';

export const awsLambdaTargetSchema = z
  .object({
    type: z.literal('aws-lambda'),
    /** AWS region, e.g. `eu-west-1`. */
    region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1')
      .describe('AWS region, e.g. eu-west-1.'),
    /**
     * CPU architecture; the onnxruntime layer is built for it.
     * @default 'x86_64'
     */
    architecture: z.enum(['x86_64', 'arm64']).default('x86_64')
      .describe("CPU architecture; the onnxruntime layer is built for it. Default: 'x86_64'."),
    /**
     * How the function ships: `zip` (function zip + onnxruntime layer, at most 250 MB unzipped) or
     * `image` (a container image in the environment's CDK bootstrap ECR repository, up to 10 GB).
     * @default - zip when the model, the handler and the layer fit 250 MB unzipped, image otherwise
     */
    package: lambdaPackageSchema.optional()
      .describe("How the function ships: 'zip' (function zip + onnxruntime layer, 250 MB unzipped at most) or 'image' (a container image in the CDK bootstrap ECR repository, up to 10 GB). Default: zip when the model, handler and layer fit 250 MB unzipped, image otherwise."),
    /** The container image, with `package: 'image'`. */
    image: lambdaImageSchema,
    /**
     * Where the model's weights live: `bundled` in the function's code (zip or image), or `s3`: uploaded
     * once as their own object (content-addressed, so a code change does not upload them again) and
     * fetched into /tmp at init, checked by sha256, with /tmp sized for them and the function's role
     * allowed to read those objects only. Only with package 'zip'.
     * @default 'bundled'
     */
    weights: z.enum(['bundled', 's3']).default('bundled')
      .describe("Where the model's weights live: 'bundled' in the function code, or 's3': their own S3 object, fetched into /tmp at init (sha256-checked; a code change does not upload them again). Default: 'bundled'."),
    /**
     * Memory in MB (128-10240). Lambda gives CPU in proportion to memory.
     * @default - derived from the model size: max(1024, 4 x model MB + 512), rounded up to 64
     */
    memoryMb: z.number().int().min(LAMBDA_MEMORY_MIN_MB).max(LAMBDA_MEMORY_MAX_MB).optional()
      .describe('Memory in MB (128-10240). Default: derived from the model size, max(1024, 4 x model MB + 512) rounded up to 64.'),
    /**
     * Function timeout in seconds (1-900).
     * @default 30
     */
    timeoutSeconds: z.number().int().min(1).max(900).default(30)
      .describe('Function timeout in seconds (1-900). Default: 30.'),
    /**
     * Ephemeral storage (/tmp) in MB (512-10240).
     * @default 512
     */
    ephemeralStorageMb: z.number().int().min(512).max(10240).default(512)
      .describe('Ephemeral storage (/tmp) in MB (512-10240). Default: 512.'),
    /**
     * Reserved concurrency.
     * @default - none (shares the account's unreserved concurrency)
     */
    reservedConcurrency: z.number().int().min(0).optional()
      .describe("Reserved concurrency. Default: none (the account's unreserved pool)."),
    /**
     * Provisioned concurrency on the `live` alias: the documented cure for cold starts.
     * @default 0
     */
    provisionedConcurrency: z.number().int().min(0).default(0)
      .describe('Provisioned concurrency on the live alias (cures cold starts, costs while idle). Default: 0.'),
    /**
     * CloudWatch log retention in days.
     * @default 30
     */
    logRetentionDays: z.number().int().min(1).default(30)
      .describe('CloudWatch log retention in days. Default: 30.'),
    /** Function URL settings. */
    url: z
      .object({
        /**
         * `iam` requires SigV4-signed requests; `none` makes the URL public.
         * @default 'iam'
         */
        auth: z.enum(['iam', 'none']).default('iam')
          .describe("'iam' requires SigV4-signed requests; 'none' makes the URL public. Default: 'iam'."),
      })
      .strict()
      .default({ auth: 'iam' })
      .describe('Function URL settings.'),
    /**
     * How traffic moves to a new version: through the `live` alias's routing weights (the new
     * version gets each step's share of requests), checked at each step.
     * @default - all at once, after the smoke test
     */
    rollout: rolloutSchema.optional(),
  })
  .strict()
  .describe('AWS Lambda on CPU with onnxruntime-node in a pruned layer, a version and a live alias, a Function URL.');

export type AwsLambdaTargetConfig = z.infer<typeof awsLambdaTargetSchema>;

