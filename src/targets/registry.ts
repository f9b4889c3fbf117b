import { DeployModelError } from '../errors.js';
import type { TargetConfig } from '../config/schema.js';
import type { TargetDriver } from './driver.js';
import { localDriver } from './local/driver.js';
import { awsLambdaDriver } from './aws-lambda/driver.js';
import { gcpVertexDriver } from './gcp-vertex/driver.js';
import { azureMlDriver } from './azure-ml/driver.js';
import { containerDriver } from './container/driver.js';

const drivers: Record<string, TargetDriver<any>> = {
  local: localDriver,
  'aws-lambda': awsLambdaDriver,
  'gcp-vertex': gcpVertexDriver,
  'azure-ml': azureMlDriver,
  container: containerDriver,
};

export function driverFor<T extends TargetConfig>(target: T): TargetDriver<T> {
  const driver = drivers[target.type];
  if (!driver) {
    throw new DeployModelError('TARGET_TYPE_UNSUPPORTED', `No driver for target type '${target.type}'. Known: ${Object.keys(drivers).join(', ')}.`, { kind: 'internal' });
  }
  return driver as TargetDriver<T>;
}
