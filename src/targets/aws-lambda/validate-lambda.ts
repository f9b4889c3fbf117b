/** What Lambda would refuse, checked before anything is built: the model and the layer within 250 MB unzipped. */
import { ortLayerUnzippedBytes } from '../../../layers/build-layer.js';
import type { ConfigProblem } from '../../config/format-issues.js';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../kits/aws/lambda-limits.js';
import type { PlanInput } from '../target-module.js';
import { lambdaModelBytes } from './plan.js';
import type { AwsLambdaTargetConfig } from './schema.js';

/** Room for the bundled handler and signature.json beside the model. */
const HANDLER_ALLOWANCE_BYTES = 2 * 1024 * 1024;

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/** Checks that the model plus the layer fit Lambda's 250 MB unzipped limit (reads the layer's size). */
export async function validateLambda(input: PlanInput<AwsLambdaTargetConfig>): Promise<ConfigProblem[]> {
  const { signature, target, targetName } = input;
  const layer = await ortLayerUnzippedBytes(target.architecture);
  const modelBytes = lambdaModelBytes(signature);
  const total = modelBytes + HANDLER_ALLOWANCE_BYTES + layer;
  if (total <= LAMBDA_UNZIPPED_LIMIT_BYTES) return [];
  return [{
    path: `targets.${targetName}`,
    value: `model ${mb(modelBytes)} + onnxruntime layer ${mb(layer)}`,
    rule: `Lambda allows at most 250 MB unzipped for function code and layers together (${mb(total)} needed)`,
    fix: "deploy this model with a container target (type: 'container'), or shrink it (fp16 or int8 quantisation)",
  }];
}
