import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployModelError } from '../../../src/errors.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { deployStack, describeStack, destroyStack, stackPollingInterval, STACK_POLL_ENV } from '../../../src/kits/aws/index.js';
import { buildLambdaApp, removeScratchDirs, scratchDir, writeHandler } from '../../emulators/aws/_cdk-app.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN the smallest Lambda app (function, version, `live` alias, IAM Function URL) synthesised
// into a cloud assembly, and the AWS fake reached through the standard environment variables.

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STACK = 'ModelStack';

let fake: AwsFake;
let restoreEnv: () => void;
let host: RecordingIoHost;

async function assembly(answer: string): Promise<string> {
  const outdir = await scratchDir('cdk-out-');
  buildLambdaApp({ outdir, account: ACCOUNT, region: REGION, codeDir: await writeHandler(answer) });
  return outdir;
}

function deploy(assemblyDir: string) {
  host = new RecordingIoHost();
  return deployStack({ assemblyDir, stackName: STACK, region: REGION, io: new IoHelper(host), pollingIntervalMs: 20 });
}

async function failure(work: Promise<unknown>): Promise<DeployModelError> {
  const e = await work.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(DeployModelError);
  return e as DeployModelError;
}

beforeAll(async () => {
  fake = await startAwsFake({ accountId: ACCOUNT, region: REGION });
  restoreEnv = fake.applyEnv();
});

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  await removeScratchDirs();
});

describe('deployStack, describeStack, destroyStack against the AWS fake', { timeout: 120_000 }, () => {
  let v1: string;

  it('an environment that is not bootstrapped fails with AWS_NOT_BOOTSTRAPPED naming the bootstrap command', async () => {
    // GIVEN
    v1 = await assembly('v1');
    // WHEN
    const e = await failure(deploy(v1));
    // THEN
    expect(e.code).toBe('AWS_NOT_BOOTSTRAPPED');
    expect(e.message).toContain(`npx cdk bootstrap aws://${ACCOUNT}/${REGION}`);
    expect(e.message).not.toMatch(/UnknownError/);
    expect(e.details).toEqual({ account: ACCOUNT, region: REGION });
    expect(fake.calls.map((c) => c.action)).not.toContain('ExecuteChangeSet');
  });

  it('missing credentials fail with AWS_NO_CREDENTIALS and the fix', async () => {
    // GIVEN no credentials anywhere in the chain
    fake.bootstrap();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      // WHEN
      const [deployed, described] = await Promise.all([failure(deploy(v1)), failure(describeStack({ stackName: STACK, region: REGION }))]);
      // THEN
      for (const e of [deployed, described]) {
        expect(e.code).toBe('AWS_NO_CREDENTIALS');
        expect(e.message).toMatch(/AWS_PROFILE/);
        expect(e.message).toMatch(/AWS_ACCESS_KEY_ID/);
      }
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('deploys: returns the outputs, forwards the toolkit messages with their codes', async () => {
    // WHEN
    const result = await deploy(v1);
    // THEN
    expect(result.noOp).toBe(false);
    expect(Object.keys(result.outputs).sort()).toEqual(['AliasArn', 'FunctionName', 'FunctionUrl']);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AWS_STACK_DEPLOY', 'DM_AWS_TOOLKIT', 'DM_AWS_STACK_DEPLOYED']));
    const done = host.messages.find((m) => (m.data as { cdkCode?: string } | undefined)?.cdkCode === 'CDK_TOOLKIT_I5900');
    expect(done).toMatchObject({ code: 'DM_AWS_TOOLKIT', level: 'info', data: { cdkLevel: 'result', stackName: STACK } });
    // stack events are the toolkit's `info`: shown with --verbose only
    const events = host.messages.filter((m) => (m.data as { cdkCode?: string } | undefined)?.cdkCode === 'CDK_TOOLKIT_I5502');
    expect(events.length).toBeGreaterThan(0);
    expect(new Set(events.map((m) => m.level))).toEqual(new Set(['debug']));
  });

  it('an unchanged stack is a no-op: no change set', async () => {
    // WHEN
    const from = fake.calls.length;
    const result = await deploy(v1);
    // THEN
    expect(result.noOp).toBe(true);
    expect(fake.calls.slice(from).map((c) => c.action)).not.toContain('CreateChangeSet');
    expect(host.messages.find((m) => m.code === 'DM_AWS_STACK_DEPLOYED')?.message).toBe(`Stack ${STACK} is unchanged`);
  });

  it('describeStack reads status and outputs; a missing stack is undefined', async () => {
    // WHEN
    const [stack, missing] = await Promise.all([describeStack({ stackName: STACK, region: REGION }), describeStack({ stackName: 'NoSuchStack', region: REGION })]);
    // THEN
    expect(stack).toMatchObject({ status: 'CREATE_COMPLETE', outputs: { FunctionName: expect.any(String), FunctionUrl: expect.stringContaining('/lambda-url/') } });
    expect(new Date(stack!.lastUpdated!).getTime()).toBeGreaterThan(0);
    expect(missing).toBeUndefined();
  });

  it('a failed deployment is AWS_DEPLOY_FAILED with the failed resource and CloudFormation\'s reason', async () => {
    // GIVEN
    const v2 = await assembly('v2');
    fake.faults.failResource('AWS::Lambda::Alias', 'Simulated: alias update refused');
    // WHEN
    const e = await failure(deploy(v2));
    // THEN
    expect(e.code).toBe('AWS_DEPLOY_FAILED');
    expect(e.message).toContain('Simulated: alias update refused');
    expect(e.details.failures).toEqual([expect.stringMatching(/^Live\w+ \(AWS::Lambda::Alias\) UPDATE_FAILED: Simulated: alias update refused$/)]);
    // the failed resource is news without --verbose
    expect(host.messages.some((m) => m.level === 'warn' && m.message.includes('Simulated: alias update refused'))).toBe(true);
    expect((await describeStack({ stackName: STACK, region: REGION }))?.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  });

  it('destroyStack deletes the stack and waits; a second call finds nothing to remove', async () => {
    // WHEN
    host = new RecordingIoHost();
    const io = new IoHelper(host);
    const first = await destroyStack({ stackName: STACK, region: REGION, io, pollingIntervalMs: 20 });
    const second = await destroyStack({ stackName: STACK, region: REGION, io, pollingIntervalMs: 20 });
    // THEN
    expect(first).toEqual({ removed: true });
    expect(second).toEqual({ removed: false });
    expect(host.codes()).toEqual(['DM_AWS_STACK_DESTROY', 'DM_AWS_STACK_DESTROYED', 'DM_AWS_STACK_ABSENT']);
    expect(await describeStack({ stackName: STACK, region: REGION })).toBeUndefined();
    expect(fake.state.lambda.functions.size).toBe(0);
    expect(fake.internalErrors).toEqual([]);
  });
});

describe('stackPollingInterval', () => {
  it('takes the option, else DEPLOY_MODEL_STACK_POLL_MS, else the default', () => {
    const saved = process.env[STACK_POLL_ENV];
    try {
      delete process.env[STACK_POLL_ENV];
      expect(stackPollingInterval()).toBeUndefined();
      process.env[STACK_POLL_ENV] = '25';
      expect(stackPollingInterval()).toBe(25);
      expect(stackPollingInterval(500)).toBe(500);
      process.env[STACK_POLL_ENV] = 'soon';
      expect(stackPollingInterval()).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env[STACK_POLL_ENV];
      else process.env[STACK_POLL_ENV] = saved;
    }
  });
});
