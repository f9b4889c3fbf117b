import {
  CloudFormationClient, CreateChangeSetCommand, DescribeChangeSetCommand, DescribeStacksCommand, ExecuteChangeSetCommand,
  type Capability, type Parameter,
} from '@aws-sdk/client-cloudformation';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { zipSync } from 'fflate';
import type { AwsFake } from './index.js';

/** Client config for the fake, with a 10 ms retry backoff so throttling tests stay fast. */
export function clientConfig(fake: AwsFake) {
  return {
    region: fake.region,
    endpoint: fake.endpoint,
    credentials: { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! },
    retryStrategy: new ConfiguredRetryStrategy(4, () => 10),
  };
}

export function zipFiles(files: Record<string, string>): Buffer {
  const entries = Object.fromEntries(Object.entries(files).map(([name, text]) => [name, Buffer.from(text)]));
  return Buffer.from(zipSync(entries, { mtime: new Date('1980-01-01T00:00:00Z') }));
}

export async function waitForStack(cfn: CloudFormationClient, stackName: string): Promise<string> {
  for (;;) {
    const status = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]?.StackStatus ?? '';
    if (!status.endsWith('_IN_PROGRESS')) return status;
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface DeployTemplateOptions {
  readonly parameters?: Record<string, string>;
  /** @default ['CAPABILITY_IAM'] */
  readonly capabilities?: Capability[];
}

/**
 * Deploys a template the way toolkit-lib does (change set, execute, wait), straight through the
 * CloudFormation client. Answers the change set's status and, when executed, the stack's.
 */
export async function deployTemplate(cfn: CloudFormationClient, stackName: string, template: unknown, options: DeployTemplateOptions = {}) {
  const exists = await cfn.send(new DescribeStacksCommand({ StackName: stackName })).then(
    (r) => r.Stacks?.[0]?.StackStatus !== 'REVIEW_IN_PROGRESS',
    () => false,
  );
  const Parameters: Parameter[] = Object.entries(options.parameters ?? {}).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
  const created = await cfn.send(new CreateChangeSetCommand({
    StackName: stackName,
    ChangeSetName: 'test-change-set',
    ChangeSetType: exists ? 'UPDATE' : 'CREATE',
    TemplateBody: JSON.stringify(template),
    Parameters,
    Capabilities: options.capabilities ?? ['CAPABILITY_IAM'],
  }));
  const changeSet = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: created.Id, StackName: created.StackId }));
  if (changeSet.Status !== 'CREATE_COMPLETE') return { changeSet, stackStatus: undefined };
  await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: created.Id, StackName: created.StackId }));
  return { changeSet, stackStatus: await waitForStack(cfn, created.StackId!) };
}
