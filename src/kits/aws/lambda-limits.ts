/** Lambda's size and memory limits, and the memory a model's function gets by default. */
import { DeployModelError } from '../../errors.js';

/**
 * Lambda's limit on the unzipped size of a function's code plus all its layers (250 MB).
 * The 50 MB zipped limit applies to direct uploads only; CDK uploads through S3, so this is the
 * limit that matters.
 */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/**
 * Lambda's limit on a container image function's image: 10 GB uncompressed, all layers included
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
export const LAMBDA_IMAGE_LIMIT_BYTES = 10 * 1024 * 1024 * 1024;

/** Lambda's memory range, in MB. */
/** Lambda's largest ephemeral storage (/tmp), in MB (EphemeralStorage.Size, 512-10240). */
export const LAMBDA_EPHEMERAL_STORAGE_MAX_MB = 10240;
export const LAMBDA_MEMORY_MIN_MB = 128;
export const LAMBDA_MEMORY_MAX_MB = 10240;

/**
 * Memory for a function serving a model of this size: max(1024, 4 x model MB + 512), rounded up
 * to 64 MB. onnxruntime holds the weights and its arena beside them, and Lambda gives CPU in
 * proportion to memory, so small models still get a full core's worth.
 */
export function defaultLambdaMemoryMb(modelBytes: number): number {
  const mb = Math.ceil(modelBytes / (1024 * 1024));
  const wanted = Math.max(1024, 4 * mb + 512);
  return Math.min(LAMBDA_MEMORY_MAX_MB, Math.ceil(wanted / 64) * 64);
}

export interface LambdaPackageSizes {
  /** Unzipped bytes of the function code (handler bundle + model). */
  readonly functionBytes: number;
  /** Unzipped bytes of the layers. @default 0 */
  readonly layerBytes?: number;
  /** Named in the error message, e.g. the construct path or target name. */
  readonly what?: string;
}

/**
 * Throws `LAMBDA_PACKAGE_TOO_LARGE` when function + layers would exceed Lambda's unzipped limit,
 * so the problem surfaces at synth instead of as a failed CloudFormation update.
 */
export function assertLambdaPackageFits(sizes: LambdaPackageSizes): void {
  const layerBytes = sizes.layerBytes ?? 0;
  const total = sizes.functionBytes + layerBytes;
  if (total <= LAMBDA_UNZIPPED_LIMIT_BYTES) return;
  // Future work: ship large models to S3 and load them at init, which lifts this limit for
  // the model (at the cost of a slower cold start).
  throw new DeployModelError(
    'LAMBDA_PACKAGE_TOO_LARGE',
    `${sizes.what ? `${sizes.what}: ` : ''}the Lambda package is ${mb(total)} unzipped (function code and model ${mb(sizes.functionBytes)} + onnxruntime layer ${mb(layerBytes)}), ` +
      `over Lambda's limit of ${mb(LAMBDA_UNZIPPED_LIMIT_BYTES)} for a function and its layers. ` +
      `Deploy this model with the 'container' target (no size limit) or as a container-image Lambda (up to 10 GB), or shrink the model (e.g. quantize it).`,
    { details: { functionBytes: sizes.functionBytes, layerBytes, totalBytes: total, limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES } },
  );
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
