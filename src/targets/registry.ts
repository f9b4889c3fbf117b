import { DeployModelError } from '../errors.js';
import type { TargetConfig } from '../config/schema.js';
import type { TargetDriver } from './driver.js';

/**
 * Drivers load on first use: each pulls in its cloud SDKs (aws-cdk-lib, toolkit-lib, gRPC, Azure),
 * which would otherwise cost every CLI command seconds of start-up.
 */
const loaders: Record<string, () => Promise<TargetDriver<any>>> = {
  local: async () => (await import('./local/driver.js')).localDriver,
  'aws-lambda': async () => (await import('./aws-lambda/driver.js')).awsLambdaDriver,
  'gcp-vertex': async () => (await import('./gcp-vertex/driver.js')).gcpVertexDriver,
  'azure-ml': async () => (await import('./azure-ml/driver.js')).azureMlDriver,
  'aws-sagemaker': async () => (await import('./aws-sagemaker/driver.js')).awsSageMakerDriver,
  container: async () => (await import('./container/driver.js')).containerDriver,
};

export async function driverFor<T extends TargetConfig>(target: T): Promise<TargetDriver<T>> {
  const load = loaders[target.type];
  if (!load) {
    throw new DeployModelError('TARGET_TYPE_UNSUPPORTED', `No driver for target type '${target.type}'. Known: ${Object.keys(loaders).join(', ')}.`, { kind: 'internal' });
  }
  return (await load()) as TargetDriver<T>;
}
