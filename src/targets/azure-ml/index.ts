/** The `azure-ml` target. */
import { basePlan } from '../base-plan.js';
import type { TargetDriver } from '../driver.js';
import { defineTarget, type TargetPlanBase } from '../target-module.js';
import { azureMlTargetSchema, type AzureMlTargetConfig } from './schema.js';

export type { AzureMlTargetConfig } from './schema.js';

export const azureMlTarget = defineTarget({
  type: 'azure-ml',
  schema: azureMlTargetSchema,
  plan: (input): TargetPlanBase => basePlan(input, []),
  // Not yet on the rollout core: the toolkit runs this driver's own deploy.
  driver: async (): Promise<TargetDriver<AzureMlTargetConfig, TargetPlanBase>> => (await import('./driver.js')).azureMlDriver as unknown as TargetDriver<AzureMlTargetConfig, TargetPlanBase>,
});
