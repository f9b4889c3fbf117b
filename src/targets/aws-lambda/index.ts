/** The `aws-lambda` target: the model on Lambda with the onnxruntime layer, a `live` alias and a Function URL. */
import type { TargetDriver } from '../driver.js';
import { defineTarget } from '../target-module.js';
import { planAwsLambda, type AwsLambdaPlan } from './plan.js';
import { awsLambdaTargetSchema, type AwsLambdaTargetConfig } from './schema.js';
import { validateLambda } from './validate-lambda.js';

export type { AwsLambdaTargetConfig } from './schema.js';
export type { AwsLambdaPlan, LambdaStackInput, LambdaStackPlan } from './plan.js';
export type { LambdaArtifacts } from './build.js';
// The stack's values from a config entry, for the CDK entry points in infra/ (light: no CDK here).
export { lambdaStackPlan } from './plan.js';
export { lambdaStackName } from './stack-name.js';

export const awsLambdaTarget = defineTarget({
  type: 'aws-lambda',
  schema: awsLambdaTargetSchema,
  validate: validateLambda,
  plan: planAwsLambda,
  driver: async (): Promise<TargetDriver<AwsLambdaTargetConfig, AwsLambdaPlan>> => (await import('./driver.js')).awsLambdaDriver,
});
