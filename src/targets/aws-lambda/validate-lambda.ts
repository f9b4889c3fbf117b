/** What Lambda would refuse, checked before anything is built: a zip package (model and layer) within 250 MB unzipped. */
import { ortLayerUnzippedBytes } from '../../../layers/build-layer.js';
import type { ConfigProblem } from '../../config/format-issues.js';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../kits/aws/lambda-limits.js';
import type { PlanInput } from '../target-module.js';
import { chooseLambdaPackage, HANDLER_ALLOWANCE_BYTES } from './package-choice.js';
import { lambdaModelBytes } from './plan.js';
import type { AwsLambdaTargetConfig } from './schema.js';

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/**
 * Checks that a zip package (set, or chosen by size) fits Lambda's 250 MB unzipped limit with the
 * real layer's size; an image package is measured when it is built (10 GB).
 */
export async function validateLambda(input: PlanInput<AwsLambdaTargetConfig>): Promise<ConfigProblem[]> {
  const { signature, target, targetName } = input;
  // Weights kept in S3 are not in the zip: /tmp holds them (the planner checks that limit).
  if (target.weights === 's3') return [];
  const modelBytes = lambdaModelBytes(signature);
  let chosen: 'zip' | 'image';
  try {
    chosen = chooseLambdaPackage({ requested: target.package, modelBytes, architecture: target.architecture, targetName }).package;
  } catch {
    // Past the image limit: the planner throws LAMBDA_IMAGE_TOO_LARGE, with its fix.
    return [];
  }
  if (chosen === 'image') return [];
  const layer = await ortLayerUnzippedBytes(target.architecture);
  const total = modelBytes + HANDLER_ALLOWANCE_BYTES + layer;
  if (total <= LAMBDA_UNZIPPED_LIMIT_BYTES) return [];
  return [{
    path: `targets.${targetName}`,
    value: `model ${mb(modelBytes)} + onnxruntime layer ${mb(layer)}`,
    rule: `Lambda allows at most 250 MB unzipped for function code and layers together (${mb(total)} needed)`,
    fix: "ship it as a container image (package: 'image', up to 10 GB), deploy it with a container target (type: 'container'), or shrink it (fp16 or int8 quantisation)",
  }];
}
