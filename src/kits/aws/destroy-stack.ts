/** Deletes a stack and waits until CloudFormation has, reporting what its policies keep. */
import { DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { awsReason, isCredentialsError, noCredentials } from './aws-errors.js';
import { cloudFormationClient, describeWith } from './describe-stack.js';
import { overrideNote } from './endpoint-override.js';
import { stackPollingInterval } from './stack-polling.js';
import { retainedResources, type RetainedResource } from './_retained-resources.js';

export type { RetainedResource } from './_retained-resources.js';

export interface DestroyStackOptions {
  readonly stackName: string;
  readonly region: string;
  readonly io: IoHelper;
  /**
   * How often the stack is polled while it is deleted, in milliseconds.
   * @default - `DEPLOY_MODEL_STACK_POLL_MS`, else 2000
   */
  readonly pollingIntervalMs?: number;
  /**
   * Also report what the stack's deletion policies keep in the account, read before the delete
   * (two more calls: cloudformation:GetTemplate and ListStackResources).
   * @default false
   */
  readonly listRetained?: boolean;
}

export interface DestroyStackResult {
  /** False when there was no stack. */
  removed: boolean;
  /**
   * With `listRetained`: what CloudFormation left in the account (`DeletionPolicy: Retain`), e.g.
   * a log group; empty when nothing, or when the template could not be read.
   */
  retained?: RetainedResource[];
}

const DEFAULT_POLL_MS = 2000;

/**
 * Deletes the stack and waits until CloudFormation has. Needs no cloud assembly, so CI can
 * destroy what it did not synthesise. `removed` is false when there was no stack; with
 * `listRetained`, `retained` lists what the stack's deletion policies keep.
 */
export async function destroyStack(options: DestroyStackOptions): Promise<DestroyStackResult> {
  const { stackName, region, io } = options;
  const client = cloudFormationClient(region);
  const pollMs = stackPollingInterval(options.pollingIntervalMs) ?? DEFAULT_POLL_MS;
  try {
    const stack = await describeWith(client, stackName, region);
    if (!stack) {
      io.info('DM_AWS_STACK_ABSENT', `Stack ${stackName} does not exist in ${region}: nothing to destroy`, { stackName, region });
      return { removed: false, ...(options.listRetained ? { retained: [] } : {}) };
    }
    // Read before the delete, while the stack still lists its resources.
    const retained = options.listRetained ? await retainedResources(client, stack.stackId ?? stackName, io) : undefined;
    io.info('DM_AWS_STACK_DESTROY', `Deleting stack ${stackName} in ${region}`, { stackName, region });
    try {
      await client.send(new DeleteStackCommand({ StackName: stack.stackId ?? stackName }));
    } catch (e) {
      if (isCredentialsError(e)) throw noCredentials(region, `delete stack ${stackName}`, e);
      throw destroyFailed(stackName, region, awsReason(e), e);
    }
    // By ARN, because a deleted stack is no longer found by name.
    const id = stack.stackId ?? stackName;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pollMs));
      const now = await describeWith(client, id, region);
      if (!now || now.status === 'DELETE_COMPLETE') break;
      if (now.status === 'DELETE_FAILED') throw destroyFailed(stackName, region, now.statusReason ?? 'DELETE_FAILED');
      io.debug('DM_AWS_STACK_DESTROY_WAIT', `Stack ${stackName}: ${now.status}`, { stackName, status: now.status });
    }
    io.info('DM_AWS_STACK_DESTROYED', `Stack ${stackName} deleted`, { stackName, region, ...(retained ? { retained } : {}) });
    return { removed: true, ...(retained ? { retained } : {}) };
  } finally {
    client.destroy();
  }
}

function destroyFailed(stackName: string, region: string, reason: string, cause?: unknown): DeployModelError {
  return new DeployModelError('AWS_DESTROY_FAILED', `Deleting stack ${stackName} in ${region} failed: ${reason}. Fix the cause (a resource CloudFormation could not delete is named above) and run destroy again, or delete the stack in the CloudFormation console.${overrideNote('CloudFormation')}`, { cause, details: { stackName, region } });
}
