/** The fields every target's plan starts with, from the planner's input. */
import { resourceName } from './resource-name.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from './target-module.js';

export function basePlan(input: PlanInput<{ type: string }>, steps: readonly RolloutStep[]): TargetPlanBase {
  const { config, stage, targetName, target, signature } = input;
  return {
    type: target.type,
    targetName,
    stage,
    resourceName: resourceName(config.name, stage, targetName),
    model: { file: signature.file, sha256: signature.sha256, bytes: signature.bytes },
    rollout: { strategy: 'all-at-once', steps: [...steps] },
  };
}
