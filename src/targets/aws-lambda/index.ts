/** The `aws-lambda` target. */
import { basePlan } from '../base-plan.js';
import type { TargetDriver } from '../driver.js';
import { defineTarget, type TargetPlanBase } from '../target-module.js';
import { awsLambdaTargetSchema, type AwsLambdaTargetConfig } from './schema.js';

export type { AwsLambdaTargetConfig } from './schema.js';

export const awsLambdaTarget = defineTarget({
  type: 'aws-lambda',
  schema: awsLambdaTargetSchema,
  plan: (input): TargetPlanBase => basePlan(input, []),
  // Not yet on the rollout core: the toolkit runs this driver's own deploy.
  driver: async (): Promise<TargetDriver<AwsLambdaTargetConfig, TargetPlanBase>> => (await import('./driver.js')).awsLambdaDriver as unknown as TargetDriver<AwsLambdaTargetConfig, TargetPlanBase>,
});
