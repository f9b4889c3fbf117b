/** Zip or container image: which package a Lambda function of a model ships as, and why, from the model's size (pure; the aws-lambda target and OnnxModelFunction decide alike). */
import { DeployModelError } from '../../errors.js';
import { LAMBDA_IMAGE_LIMIT_BYTES, LAMBDA_UNZIPPED_LIMIT_BYTES } from './lambda-limits.js';

/** Room for the bundled handler and signature.json beside the model. */
export const HANDLER_ALLOWANCE_BYTES = 2 * 1024 * 1024;

/**
 * The pruned onnxruntime layer's unzipped size, rounded up: measured with onnxruntime-node 1.30
 * (x86_64 46.4 MB, arm64 25.7 MB). The plan is pure, so it decides with these; the validation,
 * which reads the real layer, refuses a zip that does not fit after all.
 */
export const ORT_LAYER_UNZIPPED_CEILING: Readonly<Record<'x86_64' | 'arm64', number>> = { x86_64: 48 * 1024 * 1024, arm64: 27 * 1024 * 1024 };

/** The Node base image's share of a function image (node:22-bookworm-slim is about 240 MB). */
export const BASE_IMAGE_ALLOWANCE_BYTES = 300 * 1024 * 1024;

export type LambdaPackage = 'zip' | 'image';

export interface PackageChoice {
  readonly package: LambdaPackage;
  /** Why: said by `deploy-model plan`. */
  readonly reason: string;
  /** Model + handler + layer, unzipped: what the zip limit counts. */
  readonly zipBytes: number;
  /** The same plus the base image: what the image limit counts. */
  readonly imageBytes: number;
}

export interface PackageChoiceInput {
  /** The config's `package`. @default - chosen by size */
  readonly requested?: LambdaPackage;
  readonly modelBytes: number;
  readonly architecture: 'x86_64' | 'arm64';
  /** Named in the error. */
  readonly targetName: string;
  /** What the error names. @default `targets.<targetName>` */
  readonly what?: string;
}

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/**
 * Zip when the model, the handler and the layer fit Lambda's 250 MB unzipped, an image otherwise;
 * an explicit `package` wins. Throws LAMBDA_IMAGE_TOO_LARGE past Lambda's 10 GB image limit,
 * which no package lifts.
 */
export function chooseLambdaPackage(input: PackageChoiceInput): PackageChoice {
  const { requested, modelBytes, architecture, targetName } = input;
  const what = input.what ?? `targets.${targetName}`;
  const zipBytes = modelBytes + HANDLER_ALLOWANCE_BYTES + ORT_LAYER_UNZIPPED_CEILING[architecture];
  const imageBytes = zipBytes + BASE_IMAGE_ALLOWANCE_BYTES;
  if (imageBytes > LAMBDA_IMAGE_LIMIT_BYTES) {
    throw new DeployModelError('LAMBDA_IMAGE_TOO_LARGE', `${what}: the model is ${mb(modelBytes)}; with the handler, onnxruntime and the Node base image the function needs about ${mb(imageBytes)}, over Lambda's limit of ${mb(LAMBDA_IMAGE_LIMIT_BYTES)} for a container image (and 250 MB for a zip). Deploy it with an aws-sagemaker target (type: 'aws-sagemaker') or the container target (type: 'container'), or shrink it (fp16 or int8 quantisation).`, {
      details: { target: targetName, modelBytes, imageBytes, limitBytes: LAMBDA_IMAGE_LIMIT_BYTES },
    });
  }
  const sizes = `model ${mb(modelBytes)} + handler + onnxruntime layer (${architecture}) = ${mb(zipBytes)} unzipped`;
  if (requested === 'zip') return { package: 'zip', reason: `package: 'zip' in the config (${sizes})`, zipBytes, imageBytes };
  if (requested === 'image') return { package: 'image', reason: `package: 'image' in the config (about ${mb(imageBytes)} with the base image; Lambda allows 10 GB)`, zipBytes, imageBytes };
  return zipBytes <= LAMBDA_UNZIPPED_LIMIT_BYTES
    ? { package: 'zip', reason: `zip: ${sizes} fit Lambda's 250 MB limit for a function and its layers`, zipBytes, imageBytes }
    : { package: 'image', reason: `image: ${sizes} pass Lambda's 250 MB limit for a zip and its layers; a container image may hold 10 GB (about ${mb(imageBytes)} here)`, zipBytes, imageBytes };
}
