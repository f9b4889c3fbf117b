import type { ConfigProblem } from '../../config/format-issues.js';
import type { TargetContext } from '../driver.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { ortLayerUnzippedBytes } from '../../../layers/build-layer.js';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../kits/aws/lambda-limits.js';

/** Room for the bundled handler and signature.json beside the model. */
const HANDLER_ALLOWANCE_BYTES = 2 * 1024 * 1024;

const mb = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MB`;

/** Checks, before building anything, that the model plus the layer fit Lambda's 250 MB unzipped limit. */
export async function lambdaSizeProblems(ctx: TargetContext<AwsLambdaTargetConfig>): Promise<ConfigProblem[]> {
  const layer = await ortLayerUnzippedBytes(ctx.target.architecture);
  // External data files hold the initializers the .onnx file points at.
  const modelBytes = ctx.signature.bytes + (ctx.signature.externalData.length > 0 ? ctx.signature.initializerBytes : 0);
  const total = modelBytes + HANDLER_ALLOWANCE_BYTES + layer;
  if (total <= LAMBDA_UNZIPPED_LIMIT_BYTES) return [];
  return [{
    path: `targets.${ctx.targetName}`,
    value: `model ${mb(modelBytes)} + onnxruntime layer ${mb(layer)}`,
    rule: `Lambda allows at most 250 MB unzipped for function code and layers together (${mb(total)} needed)`,
    fix: "deploy this model with a container target (type: 'container'), or shrink it (fp16 or int8 quantisation)",
  }];
}
