// Shared by every target deployed as a CDK stack (aws-lambda, aws-sagemaker).
export { deployStack, type DeployStackOptions, type DeployStackResult } from './deploy-stack.js';
export { STACK_POLL_ENV, stackPollingInterval } from './_polling.js';
export { destroyStack, type DestroyStackOptions, type DestroyStackResult, type RetainedResource } from './destroy-stack.js';
export { describeStack, type DescribeStackOptions, type StackDescription } from './describe-stack.js';
export { stackOutputsMissing } from './stack-outputs-missing.js';
