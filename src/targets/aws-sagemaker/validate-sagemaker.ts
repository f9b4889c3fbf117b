/** What Triton would refuse, checked before anything is built: the model's Triton config and the engine cache path. */
import type { ConfigProblem } from '../../config/format-issues.js';
import { DeployModelError } from '../../errors.js';
import { sageMakerNames } from '../../kits/sagemaker/names.js';
import { engineCacheLocation, planTritonConfig } from '../../kits/triton/index.js';
import type { PlanInput } from '../target-module.js';
import type { AwsSageMakerTargetConfig } from './schema.js';

/** Plans the Triton config and the engine cache as the planner does, turning what they refuse into problems with a fix. */
export async function validateSageMaker(input: PlanInput<AwsSageMakerTargetConfig>): Promise<ConfigProblem[]> {
  const { config, stage, targetName, target, signature } = input;
  try {
    const modelName = sageMakerNames(config.name, stage, targetName).tritonModel;
    planTritonConfig({ signature, modelName, host: 'aws-sagemaker', batching: config.model.batching, inputShapes: config.model.inputs, options: target, runtime: config.runtime });
    if (target.engine === 'tensorrt') engineCacheLocation('aws-sagemaker', modelName, target);
    return [];
  } catch (e) {
    if (!(e instanceof DeployModelError)) throw e;
    return [{ path: `targets.${targetName}`, value: target.engine, rule: e.message, fix: 'change the model options or the Triton options as the message says' }];
  }
}
