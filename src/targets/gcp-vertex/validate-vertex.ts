/** What gcp-vertex checks without a cloud: that Triton can serve the model with the target's options. */
import type { ConfigProblem } from '../../config/format-issues.js';
import { DeployModelError } from '../../errors.js';
import type { PlanInput } from '../target-module.js';
import { planGcpVertex } from './plan.js';
import type { GcpVertexTargetConfig } from './schema.js';

/** The planner's refusals (the Triton config, the engine cache path), as problems with the fix. */
export async function validateVertex(input: PlanInput<GcpVertexTargetConfig>): Promise<ConfigProblem[]> {
  try {
    planGcpVertex(input);
    return [];
  } catch (e) {
    if (!(e instanceof DeployModelError)) throw e;
    return [{ path: `targets.${input.targetName}`, value: input.target.engine, rule: e.message, fix: 'change the model options or the Triton options as the message says' }];
  }
}
