/** The `aws-sagemaker` target. */
import { basePlan } from '../base-plan.js';
import type { TargetDriver } from '../driver.js';
import { defineTarget, type TargetPlanBase } from '../target-module.js';
import { awsSageMakerTargetSchema, type AwsSageMakerTargetConfig } from './schema.js';

export type { AwsSageMakerTargetConfig } from './schema.js';

export const awsSageMakerTarget = defineTarget({
  type: 'aws-sagemaker',
  schema: awsSageMakerTargetSchema,
  plan: (input): TargetPlanBase => basePlan(input, []),
  // Not yet on the rollout core: the toolkit runs this driver's own deploy.
  driver: async (): Promise<TargetDriver<AwsSageMakerTargetConfig, TargetPlanBase>> => (await import('./driver.js')).awsSageMakerDriver as unknown as TargetDriver<AwsSageMakerTargetConfig, TargetPlanBase>,
});
