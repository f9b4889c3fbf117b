import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SageMakerClient, UpdateEndpointCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { Toolkit, type TargetReport } from '../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { startAwsFake, type AwsFake } from '../emulators/aws/index.js';
import { sageMakerFake, type SageMakerFake } from '../emulators/aws/sagemaker.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4]) deployed on aws-sagemaker, and the
// AWS fake with its SageMaker service, reached by the real toolkit-lib and SDK clients: each
// endpoint config in service runs the uploaded model.tar.gz with the project's Node runtime. Each
// test injects one fault into the deploy of a new version (another instanceCount: another
// endpoint config) and checks the coded error, its fix, and what serves afterwards. The faults
// are SageMaker's own answers: ResourceLimitExceeded with its "account-level service limit"
// wording (which CloudFormation reports as the endpoint's handler error), ThrottlingException
// (`__type` in awsJson 1.1, which @smithy/core classifies as throttling and retries), an
// UpdateEndpoint whose instances never pass the ping health check, an endpoint held Updating.

const REGION = 'us-east-1';
const ENDPOINT = 'adder-dev-sagemaker';
const X = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] };

let fake: AwsFake;
let sm: SageMakerFake;
let restoreEnv: () => void;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
let instances = 1;
/** The endpoint config in service: what a failed deploy must leave serving. */
let serving: string;

async function nextVersion(): Promise<void> {
  instances++;
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: '${REGION}', instanceType: 'ml.g5.xlarge', instanceCount: ${instances} } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(): Promise<TargetReport> {
  return (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
}

/** `configName` is in service and answers a real inference through InvokeEndpoint. */
async function serves(configName: string): Promise<void> {
  expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName });
  const project = await toolkit.load({ cwd: dir });
  expect(await toolkit.invoke(project, 'sagemaker', X)).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [1, 2, 3, 4] }] } });
  expect(sm.invocations.at(-1)).toMatchObject({ status: 200, configName });
}

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION });
  fake.bootstrap();
  sm = sageMakerFake(fake.state);
  restoreEnv = fake.applyEnv();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-faults-sagemaker-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await nextVersion();
  toolkit = new Toolkit({ cacheDir: path.join(dir, '.cache') });
  const first = await deploy();
  expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'passed', promoted: true });
  serving = first.version!;
}, 120_000);

afterAll(async () => {
  delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
  restoreEnv?.();
  await sm?.close();
  expect(fake?.internalErrors).toEqual([]);
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.faults.reset();
  sm.faults.reset();
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
  await nextVersion();
});

describe('aws-sagemaker under cloud faults', () => {
  it('a hung endpoint update times out (DEPLOY_MODEL_STACK_TIMEOUT_MINUTES) with SAGEMAKER_ENDPOINT_TIMEOUT; the old config serves meanwhile, and CloudFormation puts it back when the update ends', async () => {
    // GIVEN the endpoint's update stays Updating, and a timeout of 0.6 s
    const hold = sm.faults.holdNextEndpoint(ENDPOINT);
    process.env.DEPLOY_MODEL_STACK_TIMEOUT_MINUTES = '0.01';
    let report: TargetReport;
    try {
      // WHEN
      report = await deploy();
    } finally {
      delete process.env.DEPLOY_MODEL_STACK_TIMEOUT_MINUTES;
    }
    // THEN
    expect(report.error).toMatchObject({ code: 'SAGEMAKER_ENDPOINT_TIMEOUT', message: expect.stringContaining(`Endpoint ${ENDPOINT} is still Updating after 0.6 s`) });
    expect(report.error!.message).toContain('deploy-model cancelled the stack update');
    expect(report.error!.message).toContain(`Endpoint config ${serving} serves while the endpoint is Updating.`);
    expect(report.error!.message).toMatch(/Fix: read the container logs \(`aws logs tail \/aws\/sagemaker\/Endpoints\/adder-dev-sagemaker/);
    expect(fake.calls.some((c) => c.action === 'CancelUpdateStack')).toBe(true);
    // the old instances answer while the update hangs
    const project = await toolkit.load({ cwd: dir });
    expect(await toolkit.invoke(project, 'sagemaker', X)).toMatchObject({ status: 200 });
    expect(sm.invocations.at(-1)).toMatchObject({ status: 200, configName: serving });

    // WHEN the update ends (the instances came up after all)
    hold.release();
    await fake.idle();
    // THEN the cancelled update was rolled back: the untested config does not stay
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === ENDPOINT && !s.deleted)!;
    expect(stack.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    await serves(serving);
  });

  it('a failed rollback after a failed smoke test is SAGEMAKER_ROLLBACK_FAILED with the command that puts the old config back, which works', async () => {
    // GIVEN the new config fails its smoke test, and the old one cannot start again
    sm.faults.breakNextConfig('CUDA error: an illegal memory access was encountered');
    sm.faults.failNextEndpoint({ endpoint: ENDPOINT, configName: serving, reason: 'CapacityError: Unable to provision requested ML compute capacity.' });
    // WHEN
    const report = await deploy();
    // THEN the candidate serves (SageMaker went back to it), and the error says so and how to fix it
    const candidate = sm.endpoints.get(ENDPOINT)!.configName;
    expect(candidate).not.toBe(serving);
    expect(report.error).toMatchObject({ code: 'SAGEMAKER_ROLLBACK_FAILED', message: expect.stringContaining('CapacityError: Unable to provision requested ML compute capacity.') });
    expect(report.error!.message).toContain(`endpoint config ${candidate}, which failed the smoke test, serves`);
    const fix = `aws sagemaker update-endpoint --endpoint-name ${ENDPOINT} --endpoint-config-name ${serving} --retain-deployment-config --region ${REGION}`;
    expect(report.error!.message).toContain(fix);

    // WHEN the fix is run (the same call, through the SDK)
    const client = new SageMakerClient({ region: REGION });
    await client.send(new UpdateEndpointCommand({ EndpointName: ENDPOINT, EndpointConfigName: serving, RetainDeploymentConfig: true }));
    client.destroy();
    await sm.endpoints.get(ENDPOINT)!.operation;
    // THEN the old config serves again
    await serves(serving);
  });

  it('an instance quota that is used up (ResourceLimitExceeded) is SAGEMAKER_QUOTA_EXCEEDED naming the quota, and the old config serves', async () => {
    // GIVEN
    sm.faults.quotaExceeded({ endpoint: ENDPOINT });
    // WHEN
    const report = await deploy();
    // THEN
    expect(report.error).toMatchObject({ code: 'SAGEMAKER_QUOTA_EXCEEDED', message: expect.stringContaining("The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances, with current utilization of 0 Instances") });
    expect(report.error!.message).toContain("Fix: ask for more in the Service Quotas console (Amazon SageMaker, quota 'ml.g5.xlarge for endpoint usage'");
    expect(report.error!.message).toContain(`Endpoint config ${serving} keeps serving.`);
    await fake.idle();
    await serves(serving);
  });

  it('control-plane throttling (ThrottlingException) is retried by the SDK; throttling that lasts is AWS_THROTTLED, before anything changes', async () => {
    // GIVEN DescribeEndpoint is throttled twice: within the SDK's three attempts
    fake.faults.throttle('sagemaker', 'DescribeEndpoint', 2);
    const from = fake.calls.length;
    // WHEN
    const retried = await deploy();
    // THEN
    expect(retried, JSON.stringify(retried.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(fake.calls.slice(from).filter((c) => c.action === 'DescribeEndpoint').slice(0, 3).map((c) => c.status)).toEqual([400, 400, 200]);
    serving = retried.version!;

    // GIVEN a new version, and DescribeEndpoint throttled past the retries
    await nextVersion();
    fake.faults.throttle('sagemaker', 'DescribeEndpoint', 3);
    const before = fake.calls.length;
    // WHEN
    const throttled = await deploy();
    // THEN
    expect(throttled.error).toMatchObject({ code: 'AWS_THROTTLED', message: expect.stringContaining('SageMaker kept throttling the calls to describe SageMaker endpoint adder-dev-sagemaker') });
    expect(throttled.error!.message).toContain('Fix: wait a minute and run the command again');
    expect(fake.calls.slice(before).map((c) => c.action)).not.toContain('ExecuteChangeSet');
    await serves(serving);
  });
});
