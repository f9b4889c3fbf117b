/** The throwaway target's plan: the base plan and the rollout steps the driver runs. */
import { basePlan } from '../../../src/targets/base-plan.js';
import type { PlanInput, TargetPlanBase } from '../../../src/targets/target-module.js';
import type { ThrowawayTargetConfig } from './schema.js';

export type ThrowawayPlan = TargetPlanBase;

export function planThrowaway(input: PlanInput<ThrowawayTargetConfig>): ThrowawayPlan {
  return basePlan(input, [
    { phase: 'stage', action: 'copy the model into the state folder and load it in this process' },
    { phase: 'smoke', action: 'call the loaded candidate' },
    { phase: 'promote', action: 'record the candidate as the version that serves' },
    { phase: 'rollback', action: 'delete the candidate; the recorded version keeps serving' },
  ]);
}
