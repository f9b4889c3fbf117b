// Shared by every target deployed as a CDK stack (aws-lambda, aws-sagemaker, web).
export { deployStack, type DeployStackOptions, type DeployStackResult } from './deploy-stack.js';
export { STACK_POLL_ENV, stackPollingInterval } from './stack-polling.js';
export { destroyStack, type DestroyStackOptions, type DestroyStackResult, type RetainedResource } from './destroy-stack.js';
export { describeStack, type DescribeStackOptions, type StackDescription } from './describe-stack.js';
export { diffStack, stackTargetDiff, type DiffStackOptions, type DiffStackResult, type StackChange, type StackDiff, type StackResourceChange } from './diff-stack.js';
export { checkedStackName, type StackNameSource } from './stack-name.js';
export { stackOutputsMissing } from './stack-outputs-missing.js';
