/** A deployed stack's status and outputs, read with CloudFormation DescribeStacks. */
import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { DeployModelError } from '../../errors.js';
import { awsReason, isCredentialsError, noCredentials } from './aws-errors.js';
import { endpointOverride } from './endpoint-override.js';

export interface DescribeStackOptions {
  /** The stack's name, or its ARN (which also finds a deleted stack). */
  readonly stackName: string;
  readonly region: string;
}

export interface StackDescription {
  /** CloudFormation's status, e.g. `CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`. */
  status: string;
  outputs: Record<string, string>;
  /** ISO time of the last update (or of the creation). */
  lastUpdated?: string;
  /** Why the stack is in this status, when CloudFormation says. */
  statusReason?: string;
  /** The stack's ARN. */
  stackId?: string;
}

/** One CloudFormation client per region; credentials and endpoint from the SDK's standard chain. */
export function cloudFormationClient(region: string): CloudFormationClient {
  return new CloudFormationClient({ region });
}

/** The deployed stack's status and outputs (CloudFormation DescribeStacks); undefined when there is no such stack. */
export async function describeStack(options: DescribeStackOptions): Promise<StackDescription | undefined> {
  const client = cloudFormationClient(options.region);
  try {
    return await describeWith(client, options.stackName, options.region);
  } finally {
    client.destroy();
  }
}

/** @internal DescribeStacks with an existing client. */
export async function describeWith(client: CloudFormationClient, stackName: string, region: string): Promise<StackDescription | undefined> {
  let stack: Stack | undefined;
  try {
    stack = (await client.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (e) {
    // CloudFormation answers a missing stack with a ValidationError, not a 404.
    if ((e as Error).name === 'ValidationError' && /does not exist/.test((e as Error).message)) return undefined;
    if (isCredentialsError(e)) throw noCredentials(region, `read stack ${stackName}`, e);
    const override = endpointOverride('CloudFormation');
    const check = override
      ? `CloudFormation calls go to ${override.url} (${override.variable}), not to AWS: check that it is up and serves CloudFormation, or unset ${override.variable}`
      : 'Check the network and that the credentials may call cloudformation:DescribeStacks';
    throw new DeployModelError('AWS_DESCRIBE_FAILED', `Could not read stack ${stackName} in ${region}: ${awsReason(e)}. ${check}.`, { cause: e, details: { stackName, region, endpoint: override?.url } });
  }
  if (!stack) return undefined;
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  const when = stack.LastUpdatedTime ?? stack.CreationTime;
  return {
    status: stack.StackStatus ?? 'UNKNOWN',
    outputs,
    lastUpdated: when ? new Date(when).toISOString() : undefined,
    statusReason: stack.StackStatusReason,
    stackId: stack.StackId,
  };
}
