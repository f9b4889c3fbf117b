/** The `container` target: an OCI image serving the model, built, run on loopback and smoke-tested, then pushed; with Kubernetes and KServe manifests. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { planContainer, type ContainerPlan } from './plan.js';
import { containerTargetSchema, type ContainerTargetConfig } from './schema.js';
import { validateContainer } from './validate-container.js';

export type { ContainerTargetConfig } from './schema.js';
export type { ContainerPlan } from './plan.js';

export const containerTarget = defineTarget({
  type: 'container',
  schema: containerTargetSchema,
  validate: validateContainer,
  plan: planContainer,
  driver: async (): Promise<TargetDriver<ContainerTargetConfig, ContainerPlan>> => (await import('./driver.js')).containerDriver,
});
