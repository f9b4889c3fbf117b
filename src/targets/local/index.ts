/** The `local` target: the aws-lambda artifacts, run on this machine under the Lambda emulator. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { planLocal, type LocalPlan } from './plan.js';
import { localTargetSchema, type LocalTargetConfig } from './schema.js';
import { validateLocal } from './validate-local.js';

export type { LocalTargetConfig } from './schema.js';
export type { LocalPlan } from './plan.js';

export const localTarget = defineTarget({
  type: 'local',
  schema: localTargetSchema,
  validate: validateLocal,
  plan: planLocal,
  driver: async (): Promise<TargetDriver<LocalTargetConfig, LocalPlan>> => (await import('./driver.js')).localDriver,
});
