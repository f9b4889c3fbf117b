/** The `container` target. */
import { basePlan } from '../base-plan.js';
import type { TargetDriver } from '../driver.js';
import { defineTarget, type TargetPlanBase } from '../target-module.js';
import { containerTargetSchema, type ContainerTargetConfig } from './schema.js';

export type { ContainerTargetConfig } from './schema.js';

export const containerTarget = defineTarget({
  type: 'container',
  schema: containerTargetSchema,
  plan: (input): TargetPlanBase => basePlan(input, []),
  // Not yet on the rollout core: the toolkit runs this driver's own deploy.
  driver: async (): Promise<TargetDriver<ContainerTargetConfig, TargetPlanBase>> => (await import('./driver.js')).containerDriver as unknown as TargetDriver<ContainerTargetConfig, TargetPlanBase>,
});
