/** What azure-ml checks without a cloud: that Triton can serve the model with the target's options. */
import type { ConfigProblem } from '../../config/format-issues.js';
import { DeployModelError } from '../../errors.js';
import type { PlanInput } from '../target-module.js';
import { planAzureMl } from './plan.js';
import type { AzureMlTargetConfig } from './schema.js';

/** The planner's refusals (the Triton config, the engine cache path), as problems with the fix. */
export async function validateAzure(input: PlanInput<AzureMlTargetConfig>): Promise<ConfigProblem[]> {
  try {
    planAzureMl(input);
    return [];
  } catch (e) {
    if (!(e instanceof DeployModelError)) throw e;
    return [{ path: `targets.${input.targetName}`, value: input.target.engine, rule: e.message, fix: 'change the model options or the Triton options as the message says' }];
  }
}
