/** The throwaway target's module: what the registry needs to know of it. */
import type { TargetDriver } from '../../../src/targets/driver.js';
import { defineTarget } from '../../../src/targets/target-module.js';
import { planThrowaway, type ThrowawayPlan } from './plan.js';
import { throwawayTargetSchema, type ThrowawayTargetConfig } from './schema.js';

export const throwawayTarget = defineTarget({
  type: 'throwaway',
  schema: throwawayTargetSchema,
  plan: planThrowaway,
  driver: async (): Promise<TargetDriver<ThrowawayTargetConfig, ThrowawayPlan>> => (await import('./driver.js')).throwawayDriver,
});
