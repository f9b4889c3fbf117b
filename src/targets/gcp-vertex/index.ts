/** The `gcp-vertex` target: Triton on Vertex AI online prediction, behind the rollout core. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { planGcpVertex, type GcpVertexPlan } from './plan.js';
import { gcpVertexTargetSchema, type GcpVertexTargetConfig } from './schema.js';
import { validateVertex } from './validate-vertex.js';

export type { GcpVertexTargetConfig } from './schema.js';
export type { GcpVertexPlan } from './plan.js';

export const gcpVertexTarget = defineTarget({
  type: 'gcp-vertex',
  schema: gcpVertexTargetSchema,
  validate: validateVertex,
  plan: planGcpVertex,
  driver: async (): Promise<TargetDriver<GcpVertexTargetConfig, GcpVertexPlan>> => (await import('./driver.js')).gcpVertexDriver,
});
