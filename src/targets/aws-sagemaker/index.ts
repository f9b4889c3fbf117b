/** The `aws-sagemaker` target: a SageMaker real-time endpoint on GPUs, NVIDIA Triton serving the generated model repository. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { planAwsSageMaker, type AwsSageMakerPlan } from './plan.js';
import { awsSageMakerTargetSchema, type AwsSageMakerTargetConfig } from './schema.js';
import { validateSageMaker } from './validate-sagemaker.js';

export type { AwsSageMakerTargetConfig } from './schema.js';
export type { AwsSageMakerPlan, SageMakerExecutionPolicy, SageMakerStackInput, SageMakerStackPlan } from './plan.js';
export type { SageMakerArtifacts } from './build.js';
// The stack's values from a config entry, for the CDK entry points in infra/ (light: no CDK here).
export { sageMakerStackPlan } from './plan.js';

export const awsSageMakerTarget = defineTarget({
  type: 'aws-sagemaker',
  schema: awsSageMakerTargetSchema,
  validate: validateSageMaker,
  plan: planAwsSageMaker,
  driver: async (): Promise<TargetDriver<AwsSageMakerTargetConfig, AwsSageMakerPlan>> => (await import('./driver.js')).awsSageMakerDriver,
});
