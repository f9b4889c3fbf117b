import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  GetFunctionCommand, GetFunctionUrlConfigCommand, InvokeCommand, LambdaClient, ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { StackParameters, StackSelectionStrategy, Toolkit, type DeployOptions } from '@aws-cdk/toolkit-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaApp, RecordingToolkitHost, removeScratchDirs, scratchDir, signedFetch, writeHandler } from './_cdk-app.js';
import { localFunctionRunner, startAwsFake, type AwsFake, type RecordedCall } from './index.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ALL = { strategy: StackSelectionStrategy.ALL_STACKS };
/** toolkit-lib polls every 2 s by default; the fake settles in milliseconds. */
const POLL_MS = 20;

/** Synthesises the Lambda app with a handler answering `answer`, ready for the toolkit. */
async function assembly(toolkit: Toolkit, answer: string) {
  const codeDir = await writeHandler(answer);
  const outdir = await scratchDir('cdk-out-');
  return toolkit.fromAssemblyBuilder(async () => buildLambdaApp({ outdir, account: ACCOUNT, region: REGION, codeDir }) as never, { outdir });
}

async function deploy(answer: string, options: Partial<DeployOptions> = {}) {
  const host = new RecordingToolkitHost();
  const toolkit = new Toolkit({ ioHost: host, color: false, emojis: false });
  const result = await toolkit.deploy(await assembly(toolkit, answer), { stacks: ALL, stackEventPollingInterval: POLL_MS, ...options });
  return { result, host, outputs: result.stacks[0]!.outputs };
}

/** True when `expected` appears in `actual` in this order (other items may sit between). */
function inOrder(actual: string[], expected: string[]): boolean {
  let i = 0;
  for (const a of actual) if (a === expected[i]) i++;
  return i === expected.length;
}

const names = (calls: RecordedCall[]): string[] => calls.map((c) => `${c.service}:${c.action}`);

// The first deploy loads aws-cdk-lib, toolkit-lib and the CloudFormation spec: slow on two busy cores.
describe('toolkit-lib deploys a Lambda app to the AWS fake', { timeout: 120_000 }, () => {
  let fake: AwsFake;
  let restoreEnv: () => void;
  let lambda: LambdaClient;
  let functionName: string;

  async function invoke(qualifier?: string): Promise<{ version?: string; body: any; error?: string }> {
    const r = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: JSON.stringify({ rawPath: '/direct' }) }));
    return { version: r.ExecutedVersion, body: JSON.parse(Buffer.from(r.Payload!).toString()), error: r.FunctionError };
  }

  function stackStatus(): string | undefined {
    return [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'ModelStack' && !s.deleted)?.status;
  }

  beforeAll(async () => {
    // Functions run in the project's local executor, as on Lambda.
    fake = await startAwsFake({ accountId: ACCOUNT, region: REGION, functionRunner: localFunctionRunner() });
    restoreEnv = fake.applyEnv();
    fake.bootstrap();
    lambda = new LambdaClient({});
  });
  afterAll(async () => {
    restoreEnv?.();
    await fake?.stop();
    await removeScratchDirs();
  });

  it('deploys: the alias answers through the Lambda client and the IAM Function URL through SigV4', async () => {
    // WHEN
    const { outputs } = await deploy('v1');
    functionName = outputs.FunctionName!;
    // THEN the toolkit made the calls DESIGN.md records, in order
    expect(inOrder(names(fake.calls), [
      'sts:GetCallerIdentity', 'sts:AssumeRole', 's3:ListObjectsV2', 'ssm:GetParameter', 's3:GetBucketLocation', 's3:PutObject',
      'cloudformation:DescribeStacks', 'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet',
      'cloudformation:ExecuteChangeSet', 'cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents',
    ])).toBe(true);
    expect(fake.calls.find((c) => c.action === 'CreateChangeSet')?.params).toMatchObject({
      ChangeSetType: 'CREATE',
      TemplateURL: expect.stringContaining(`${fake.endpoint}/cdk-hnb659fds-assets-${ACCOUNT}-${REGION}/`),
      Capabilities: expect.arrayContaining(['CAPABILITY_IAM']),
    });
    expect(stackStatus()).toBe('CREATE_COMPLETE');
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'ModelStack')!;
    expect([...stack.resources.values()].map((r) => r.type).sort()).toEqual([
      'AWS::IAM::Role', 'AWS::Lambda::Alias', 'AWS::Lambda::Function', 'AWS::Lambda::Url', 'AWS::Lambda::Version',
    ]);
    expect(fake.state.cloudformation.unmodelled).toEqual([]);
    // THEN the alias runs version 1
    expect(await invoke('live')).toMatchObject({ version: '1', body: { answer: 'v1' } });
    // THEN the Function URL refuses unsigned requests and serves signed ones
    const config = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: functionName, Qualifier: 'live' }));
    expect(config.AuthType).toBe('AWS_IAM');
    expect(config.FunctionUrl).toBe(outputs.FunctionUrl);
    const unsigned = await fetch(`${config.FunctionUrl}hello`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ Message: 'Forbidden' });
    const credentials = { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! };
    const signed = await signedFetch(`${config.FunctionUrl}hello`, { method: 'POST', body: '{"x":1}' }, credentials, REGION);
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ answer: 'v1', path: '/hello', event: { body: '{"x":1}', requestContext: { http: { method: 'POST' } } } });
  });

  it('reports an init failure the way Lambda does', async () => {
    // GIVEN
    fake.faults.initFailure(functionName, 'Cannot load model');
    // WHEN
    const failed = await invoke('live');
    fake.faults.clearInitFailure(functionName);
    // THEN
    expect(failed).toMatchObject({ error: 'Unhandled', body: { errorType: 'Runtime.InitError', errorMessage: 'Cannot load model' } });
    expect(await invoke('live')).toMatchObject({ body: { answer: 'v1' } });
  });

  it('rolls back a failed update and version 1 still answers', async () => {
    // GIVEN
    fake.faults.failResource('AWS::Lambda::Alias', 'Simulated: alias update refused');
    // WHEN
    await expect(deploy('v2')).rejects.toThrow(/failed/);
    // THEN
    expect(stackStatus()).toBe('UPDATE_ROLLBACK_COMPLETE');
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'ModelStack')!;
    expect(stack.events.find((e) => e.ResourceStatus === 'UPDATE_FAILED')).toMatchObject({
      ResourceType: 'AWS::Lambda::Alias', ResourceStatusReason: 'Simulated: alias update refused',
    });
    expect(await invoke('live')).toMatchObject({ version: '1', body: { answer: 'v1' } });
    expect(await invoke()).toMatchObject({ version: '$LATEST', body: { answer: 'v1' } });
  });

  it('publishes version 2 for changed code, moves the alias and keeps version 1', async () => {
    // WHEN
    await deploy('v2');
    // THEN
    expect(stackStatus()).toBe('UPDATE_COMPLETE');
    expect(await invoke('live')).toMatchObject({ version: '2', body: { answer: 'v2' } });
    expect(await invoke('1')).toMatchObject({ version: '1', body: { answer: 'v1' } });
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: functionName }));
    expect(versions.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'ModelStack')!;
    expect(stack.events.some((e) => e.ResourceType === 'AWS::Lambda::Version' && e.ResourceStatus === 'DELETE_SKIPPED')).toBe(true);
  });

  it('retries a throttled DescribeStacks and still deploys', async () => {
    // GIVEN
    fake.faults.throttle('cloudformation', 'DescribeStacks', 1);
    const before = fake.calls.length;
    // WHEN
    await deploy('v3');
    // THEN
    const describes = fake.calls.slice(before).filter((c) => c.action === 'DescribeStacks').map((c) => c.status);
    expect(describes.slice(0, 2)).toEqual([400, 200]);
    expect(await invoke('live')).toMatchObject({ version: '3', body: { answer: 'v3' } });
  });

  it('skips an unchanged stack, and meets an empty change set the way toolkit-lib expects', async () => {
    // WHEN the parameters are kept, toolkit-lib compares templates and skips
    const before = fake.calls.length;
    await deploy('v3', { parameters: StackParameters.withExisting({}) });
    const skipped = names(fake.calls.slice(before));
    // WHEN not, the SSM-typed BootstrapVersion looks changed, so it asks CloudFormation
    const askedFrom = fake.calls.length;
    await deploy('v3');
    const asked = fake.calls.slice(askedFrom);
    // THEN
    expect(skipped).not.toContain('cloudformation:CreateChangeSet');
    expect(names(asked)).toContain('cloudformation:CreateChangeSet');
    expect(names(asked)).toContain('cloudformation:DeleteChangeSet');
    expect(names(asked)).not.toContain('cloudformation:ExecuteChangeSet');
    expect(stackStatus()).toBe('UPDATE_COMPLETE');
  });

  it('fails the deploy with the reason of a failed change set', async () => {
    // GIVEN
    fake.faults.failChangeSet('Simulated: template rejected');
    // WHEN / THEN
    await expect(deploy('v4')).rejects.toThrow(/Simulated: template rejected/);
    expect(await invoke('live')).toMatchObject({ version: '3' });
  });

  it('keeps the stack in progress while the deploy is interrupted', async () => {
    // GIVEN
    const hold = fake.faults.interruptDeploy();
    // WHEN
    const deploying = deploy('v4');
    const cfn = new CloudFormationClient({});
    let status: string | undefined;
    for (let i = 0; i < 200 && status !== 'UPDATE_IN_PROGRESS'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      status = stackStatus();
    }
    const seen = (await cfn.send(new DescribeStacksCommand({ StackName: 'ModelStack' }))).Stacks?.[0]?.StackStatus;
    hold.release();
    await deploying;
    // THEN
    expect(seen).toBe('UPDATE_IN_PROGRESS');
    expect(stackStatus()).toBe('UPDATE_COMPLETE');
    expect(await invoke('live')).toMatchObject({ version: '4', body: { answer: 'v4' } });
  });

  it('destroys the stack and its function', async () => {
    // GIVEN
    const toolkit = new Toolkit({ ioHost: new RecordingToolkitHost(), color: false, emojis: false });
    // WHEN
    await toolkit.destroy(await assembly(toolkit, 'v4'), { stacks: ALL, stackEventPollingInterval: POLL_MS });
    // THEN
    expect(names(fake.calls)).toContain('cloudformation:DeleteStack');
    const cfn = new CloudFormationClient({});
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'ModelStack' }))).rejects.toThrow('Stack with id ModelStack does not exist');
    await expect(lambda.send(new GetFunctionCommand({ FunctionName: functionName }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(fake.internalErrors).toEqual([]);
    expect(fake.calls.every((c) => c.status !== undefined)).toBe(true);
  });
});

describe('toolkit-lib against an environment that is not bootstrapped', () => {
  let fake: AwsFake;
  let restoreEnv: () => void;

  beforeAll(async () => {
    fake = await startAwsFake({ accountId: ACCOUNT, region: REGION });
    restoreEnv = fake.applyEnv();
  });
  afterAll(async () => {
    restoreEnv?.();
    await fake?.stop();
    await removeScratchDirs();
  });

  it('fails with the toolkit\'s bootstrap error and creates nothing', async () => {
    // WHEN
    const error = await deploy('v1').then(() => undefined, (e: Error) => e);
    // THEN
    expect(error?.message).toMatch(/bootstrap/i);
    expect(names(fake.calls)).toContain('sts:AssumeRole');
    expect(fake.calls.find((c) => c.action === 'AssumeRole')?.status).toBe(403);
    expect(names(fake.calls)).not.toContain('cloudformation:ExecuteChangeSet');
    expect(fake.state.lambda.functions.size).toBe(0);
    expect(fake.internalErrors).toEqual([]);
  });
});
