/** The `azure-ml` target: Triton on an Azure ML managed online endpoint, blue/green behind the rollout core. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { planAzureMl, type AzureMlPlan } from './plan.js';
import { azureMlTargetSchema, type AzureMlTargetConfig } from './schema.js';
import { validateAzure } from './validate-azure.js';

export type { AzureMlTargetConfig } from './schema.js';
export type { AzureMlPlan } from './plan.js';

export const azureMlTarget = defineTarget({
  type: 'azure-ml',
  schema: azureMlTargetSchema,
  validate: validateAzure,
  plan: planAzureMl,
  driver: async (): Promise<TargetDriver<AzureMlTargetConfig, AzureMlPlan>> => (await import('./driver.js')).azureMlDriver,
});
