import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { Toolkit, type TargetReport } from '../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { AWS_FAULTS, localFunctionRunner, startAwsFake, type AwsFake, type RecordedCall } from '../emulators/aws/index.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4]) deployed on aws-lambda, and the
// AWS fake reached by the real toolkit-lib and SDK clients, running the deployed functions with
// the project's local executor. Each test injects one fault into the deploy of a new version
// (another memoryMb: another function version) and checks the coded error, its fix, and that the
// live alias still serves the version it served. The faults are AWS's own answers in each
// protocol's shape: ExpiredToken / ExpiredTokenException, IAM's AccessDenied wording, S3's
// SlowDown (503) and CloudFormation's Throttling, Lambda's TooManyRequestsException (429, with its
// Reason) and ServiceException (500); @smithy/core retries the throttling codes and 5xx, not the
// others. The smoke test calls the new version with Lambda Invoke (the Function URL is IAM-signed
// and belongs to the alias), so the URL's 429/5xx are injected where the smoke test meets them.

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';
const DEPLOY_ROLE = `arn:aws:sts::${ACCOUNT}:assumed-role/cdk-hnb659fds-deploy-role-${ACCOUNT}-${REGION}/aws-cdk-deployer`;

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
let lambda: LambdaClient;
let functionName: string;
let memoryMb = 1024;
/** The version the live alias serves: what every failed deploy must leave serving. */
let serving: string;

async function nextVersion(): Promise<void> {
  memoryMb += 64;
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}', memoryMb: ${memoryMb} } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(): Promise<TargetReport> {
  return (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
}

/** Runs `work` with an environment variable set. */
async function withEnv<T>(name: string, value: string, work: () => Promise<T>): Promise<T> {
  process.env[name] = value;
  try {
    return await work();
  } finally {
    delete process.env[name];
  }
}

const stack = () => [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted)!;
const statuses = (calls: RecordedCall[], action: string) => calls.filter((c) => c.action === action).map((c) => c.status);

/** The live alias still points at `version`, which answers a real inference: x = [-1, 2, -3, 4] gives [0, 4, 0, 8]. */
async function stillServes(version = serving): Promise<void> {
  expect((await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))).FunctionVersion).toBe(version);
  const r = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [-1, 2, -3, 4] }] })) }));
  expect(r.ExecutedVersion).toBe(version);
  expect(JSON.parse(Buffer.from(r.Payload!).toString())).toMatchObject({ outputs: [{ name: 'y', data: [0, 4, 0, 8] }] });
}

beforeAll(async () => {
  fake = await startAwsFake({ accountId: ACCOUNT, region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  lambda = new LambdaClient({});
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-faults-lambda-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await nextVersion();
  // The default cache, as the CLI's: the onnxruntime layer is built once per machine (about 20 s).
  toolkit = new Toolkit();
  const first = await deploy();
  expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'passed', promoted: true, version: '1' });
  serving = first.version!;
  functionName = first.details!.functionName as string;
}, 120_000);

afterAll(async () => {
  delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
  lambda?.destroy();
  restoreEnv?.();
  expect(fake?.internalErrors).toEqual([]);
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.faults.reset();
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host });
  await nextVersion();
});

describe('aws-lambda under cloud faults', () => {
  it('a stack operation that hangs times out (DEPLOY_MODEL_STACK_TIMEOUT_MINUTES): the update is cancelled and rolled back, AWS_STACK_TIMEOUT, the old version serves', async () => {
    // GIVEN the next stack operation stays UPDATE_IN_PROGRESS, and a timeout of 0.6 s
    fake.faults.interruptDeploy();
    const from = fake.calls.length;
    // WHEN
    const report = await withEnv('DEPLOY_MODEL_STACK_TIMEOUT_MINUTES', '0.01', deploy);
    // THEN
    expect(report.error).toMatchObject({ code: 'AWS_STACK_TIMEOUT', message: expect.stringContaining(`Stack ${STACK} in ${REGION} did not finish its operation within 0.6 s (it was UPDATE_IN_PROGRESS)`) });
    expect(report.error!.message).toContain('deploy-model cancelled the update (CancelUpdateStack), and CloudFormation rolled the stack back to what was deployed before');
    expect(report.error!.message).toContain(`Fix: find the resource that does not finish in the stack's events (\`aws cloudformation describe-stack-events --stack-name ${STACK} --region ${REGION}\`)`);
    expect(report.error!.message).toContain('set DEPLOY_MODEL_STACK_TIMEOUT_MINUTES to more minutes');
    expect(statuses(fake.calls.slice(from), 'CancelUpdateStack')).toEqual([200]);
    expect(stack().status).toBe('UPDATE_ROLLBACK_COMPLETE');
    await stillServes();
  });

  it('UPDATE_ROLLBACK_FAILED is AWS_STACK_ROLLBACK_FAILED naming what was not restored and the fix; the old version serves, and the next deploy continues the rollback and goes through', async () => {
    // GIVEN the new version cannot be created, and the function cannot be restored in the rollback
    fake.faults.failResource('AWS::Lambda::Version', 'Simulated: version refused');
    fake.faults.failRollback('AWS::Lambda::Function', 'Resource handler returned message: "Rate exceeded (Service: Lambda, Status Code: 429)" (HandlerErrorCode: Throttling)');
    // WHEN
    const report = await deploy();
    // THEN
    expect(report.error).toMatchObject({ code: 'AWS_STACK_ROLLBACK_FAILED', message: expect.stringContaining('the stack is UPDATE_ROLLBACK_FAILED and takes no update until the rollback is continued') });
    expect(report.error!.message).toMatch(/ModelFunction\w+ could not be restored/);
    expect(report.error!.message).toMatch(new RegExp(`Fix the cause of the failed restore, then deploy again \\(deploy-model continues the rollback first\\), or run \`aws cloudformation continue-update-rollback --stack-name ${STACK} --region ${REGION}\` \\(add \`--resources-to-skip ModelFunction\\w+\``));
    expect(stack().status).toBe('UPDATE_ROLLBACK_FAILED');
    await stillServes();

    // WHEN deploying again (the cause is gone)
    const again = await deploy();
    // THEN toolkit-lib continued the rollback, then deployed
    expect(again, JSON.stringify(again.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: serving });
    expect(fake.calls.some((c) => c.action === 'ContinueUpdateRollback')).toBe(true);
    serving = again.version!;
    await stillServes();
  });

  it('throttled S3 uploads (SlowDown) and change-set calls (Throttling) are retried, and the deploy goes through', async () => {
    // GIVEN
    fake.faults.throttle('s3', 'PutObject', 2);
    fake.faults.throttle('cloudformation', 'CreateChangeSet', 1);
    fake.faults.throttle('cloudformation', 'ExecuteChangeSet', 1);
    const from = fake.calls.length;
    // WHEN
    const report = await deploy();
    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
    const calls = fake.calls.slice(from);
    expect(statuses(calls, 'PutObject').slice(0, 3)).toEqual([503, 503, 200]);
    expect(statuses(calls, 'CreateChangeSet').slice(0, 2)).toEqual([400, 200]);
    expect(statuses(calls, 'ExecuteChangeSet').slice(0, 2)).toEqual([400, 200]);
    serving = report.version!;
    await stillServes();
  });

  it('expired credentials are AWS_CREDENTIALS_EXPIRED with the way to renew them, before the deploy or during its smoke test; the old version serves', async () => {
    // GIVEN the credentials expire before the deploy
    fake.faults.expireCredentials();
    const from = fake.calls.length;
    // WHEN
    const before = await deploy();
    fake.faults.renewCredentials();
    // THEN nothing was changed
    expect(before.error).toMatchObject({ code: 'AWS_CREDENTIALS_EXPIRED', message: expect.stringContaining('ExpiredToken: The security token included in the request is expired') });
    expect(before.error!.message).toMatch(/Fix: get new credentials and run the command again: `aws sso login --profile NAME`/);
    expect(fake.calls.slice(from).map((c) => c.action)).not.toContain('ExecuteChangeSet');

    // GIVEN they expire after the new version is published, as the smoke test invokes it
    fake.faults.failCall('lambda', 'Invoke', AWS_FAULTS.expiredTokenException, 1);
    const smoke = fake.calls.length;
    // WHEN
    const during = await deploy();
    // THEN it is not retried (a 403 the SDK does not classify as transient), and the alias did not move
    expect(during.error).toMatchObject({ code: 'AWS_CREDENTIALS_EXPIRED', message: expect.stringContaining('ExpiredTokenException') });
    expect(statuses(fake.calls.slice(smoke), 'Invoke')).toEqual([403]);
    await stillServes();
  });

  it('denied calls (IAM AccessDenied) are AWS_ACCESS_DENIED naming the role and the permission, also inside a failed asset upload; the old version serves', async () => {
    // GIVEN the deploy role may not create change sets
    fake.faults.failCall('cloudformation', 'CreateChangeSet', AWS_FAULTS.accessDenied(DEPLOY_ROLE, 'cloudformation:CreateChangeSet', `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/*`));
    // WHEN
    const changeSet = await deploy();
    // THEN
    expect(changeSet.error).toMatchObject({ code: 'AWS_ACCESS_DENIED', message: expect.stringContaining(`${DEPLOY_ROLE} may not cloudformation:CreateChangeSet`) });
    expect(changeSet.error!.message).toContain('Fix: cdk-hnb659fds-deploy-role is a CDK bootstrap role, which has this permission unless its policy was changed');

    // GIVEN the publishing role may not upload the assets (toolkit-lib reports AssetPublishFailed around S3's error)
    const publishing = `arn:aws:sts::${ACCOUNT}:assumed-role/cdk-hnb659fds-file-publishing-role-${ACCOUNT}-${REGION}/aws-cdk-publisher`;
    fake.faults.failCall('s3', 'PutObject', AWS_FAULTS.accessDenied(publishing, 's3:PutObject', `arn:aws:s3:::cdk-hnb659fds-assets-${ACCOUNT}-${REGION}/*`), 4);
    // WHEN
    const upload = await deploy();
    // THEN
    expect(upload.error).toMatchObject({ code: 'AWS_ACCESS_DENIED', message: expect.stringContaining(`${publishing} may not s3:PutObject`) });
    await stillServes();
  });

  it('Lambda answering 429 (TooManyRequestsException) or 500 (ServiceException) to the smoke test, past the SDK\'s retries, is a coded error; the alias does not move', async () => {
    // GIVEN every try of the smoke test's first invocation is throttled for concurrency
    fake.faults.failCall('lambda', 'Invoke', AWS_FAULTS.lambdaThrottled('ReservedFunctionConcurrentInvocationLimitExceeded'), 3);
    const from = fake.calls.length;
    // WHEN
    const throttled = await deploy();
    // THEN
    expect(throttled.error).toMatchObject({ code: 'AWS_INVOKE_THROTTLED', message: expect.stringContaining('(ReservedFunctionConcurrentInvocationLimitExceeded)') });
    expect(throttled.error!.message).toContain('Fix: deploy again when the load is lower, give the function its own concurrency with `reservedConcurrency`');
    expect(statuses(fake.calls.slice(from), 'Invoke')).toEqual([429, 429, 429]);
    await stillServes();

    // GIVEN Lambda fails every try with its internal error
    await nextVersion();
    fake.faults.failCall('lambda', 'Invoke', AWS_FAULTS.lambdaServiceException, 3);
    // WHEN
    const failing = await deploy();
    // THEN
    expect(failing.error).toMatchObject({ code: 'AWS_INVOKE_FAILED', message: expect.stringContaining('Lambda answered 500 to the invocations of') });
    expect(failing.error!.message).toContain('This is a fault of the Lambda service, not of the function. Fix: run the command again in a few minutes');
    await stillServes();

    // GIVEN one 429 only: the SDK's retry gets through, and the version is promoted
    await nextVersion();
    fake.faults.failCall('lambda', 'Invoke', AWS_FAULTS.lambdaThrottled(), 1);
    const passed = await deploy();
    expect(passed, JSON.stringify(passed.error)).toMatchObject({ status: 'passed', promoted: true });
    serving = passed.version!;
    await stillServes();
  });
});
