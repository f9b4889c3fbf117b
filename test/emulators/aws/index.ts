export { startAwsFake, type AwsFake, type AwsFakeOptions, type RecordedCall } from './start-aws-fake.js';
export { AWS_FAULTS, Faults, type AwsFault } from './faults.js';
export { inProcessFunctionRunner, errorPayload, type FunctionRunner, type FunctionSpec, type InvokeResult, type RunningFunction } from './function-runner.js';
export {
  defaultProvisioners, generatedName, type ExistingResource, type ProvisionRequest, type ProvisionedResource, type ResourceProvisioner,
} from './cfn-resources.js';
export { bootstrapEnvironment, type BootstrapOptions } from './bootstrap.js';
export type { AwsServiceModule, ParsedCall } from './_service.js';
export type { FakeContext } from './_context.js';
export type { FakeState } from './state.js';
export { localFunctionRunner, type LocalFunctionRunnerOptions } from './local-function-runner.js';
