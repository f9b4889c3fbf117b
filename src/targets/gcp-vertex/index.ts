/** The `gcp-vertex` target. */
import { basePlan } from '../base-plan.js';
import type { TargetDriver } from '../driver.js';
import { defineTarget, type TargetPlanBase } from '../target-module.js';
import { gcpVertexTargetSchema, type GcpVertexTargetConfig } from './schema.js';

export type { GcpVertexTargetConfig } from './schema.js';

export const gcpVertexTarget = defineTarget({
  type: 'gcp-vertex',
  schema: gcpVertexTargetSchema,
  plan: (input): TargetPlanBase => basePlan(input, []),
  // Not yet on the rollout core: the toolkit runs this driver's own deploy.
  driver: async (): Promise<TargetDriver<GcpVertexTargetConfig, TargetPlanBase>> => (await import('./driver.js')).gcpVertexDriver as unknown as TargetDriver<GcpVertexTargetConfig, TargetPlanBase>,
});
