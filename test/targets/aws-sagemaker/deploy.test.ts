import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';
import { PING_HEALTH_CHECK_FAILURE, sageMakerFake, type SageMakerFake } from '../../emulators/aws/sagemaker.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4], x float32 [batch,4]) and an
// aws-sagemaker target, and the local AWS fake with its SageMaker service: the real toolkit-lib
// and SDK clients deploy the stack, and each endpoint config that goes into service runs the
// uploaded model.tar.gz with the project's Node runtime.

const REGION = 'us-east-1';
const ENDPOINT = 'adder-dev-sagemaker';

let fake: AwsFake;
let sm: SageMakerFake;
let restoreEnv: () => void;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;

async function writeProject(model: 'add' | 'unnamed-dim', target = ''): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes(model));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: '${REGION}', instanceType: 'ml.g5.xlarge'${target} } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(stage = 'dev') {
  const project = await toolkit.load({ cwd: dir, stage });
  return (await toolkit.deploy(project)).targets[0]!;
}

async function status(stage = 'dev') {
  return (await toolkit.status(await toolkit.load({ cwd: dir, stage })))[0]!;
}

const live = (name = ENDPOINT) => sm.endpoints.get(name);

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION });
  fake.bootstrap();
  sm = sageMakerFake(fake.state);
  restoreEnv = fake.applyEnv();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-sagemaker-'));
  await writeProject('add');
});

afterAll(async () => {
  delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
  restoreEnv?.();
  await sm?.close();
  expect(fake?.internalErrors).toEqual([]);
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
});

describe('aws-sagemaker through the Toolkit against the AWS fake', () => {
  let v1: string;
  let v2: string;

  it('build writes the Triton repository and a model.tar.gz that is byte-for-byte the same on every build', async () => {
    const project = await toolkit.load({ cwd: dir });
    const first = (await toolkit.build(project)).sagemaker!;
    const again = (await toolkit.build(project)).sagemaker!;
    const archive = first.artifacts[0]!;
    expect(archive).toMatchObject({ kind: 'model.tar.gz', file: path.join(dir, '.deploy-model/dev/sagemaker/model.tar.gz'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(again.artifacts[0]!.sha256).toBe(archive.sha256);
    expect(first.artifacts.slice(1).map((a) => path.relative(path.join(dir, '.deploy-model/dev/sagemaker/repository'), a.file))).toEqual(['adder/1/model.onnx', 'adder/config.pbtxt']);
    expect(readFileSync(path.join(dir, '.deploy-model/dev/sagemaker/repository/adder/config.pbtxt'), 'utf8'))
      .toMatch(/trt_engine_cache_path.*\/opt\/ml\/model\/adder\/trt_engine_cache/s);
    expect(fake.calls).toEqual([]);
  });

  it('first deploy: the stack creates the endpoint, its status is reported while CloudFormation waits, and the smoke test passes', async () => {
    // WHEN
    const report = await deploy();

    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({
      status: 'passed', promoted: true, type: 'aws-sagemaker',
      endpoint: `https://runtime.sagemaker.${REGION}.amazonaws.com/endpoints/${ENDPOINT}/invocations`,
    });
    v1 = report.version!;
    expect(live()).toMatchObject({ status: 'InService', configName: v1 });
    const statuses = host.messages.filter((m) => m.code === 'DM_SAGEMAKER_ENDPOINT_STATUS').map((m) => (m.data as { status: string }).status);
    expect(statuses).toContain('Creating');
    // The model the endpoint serves is the archive the build wrote, with the model name Triton needs.
    const model = sm.models.get(sm.endpointConfigs.get(v1)!.variants[0]!.ModelName)!;
    expect(model).toMatchObject({ environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'adder' }, image: `763104351884.dkr.ecr.${REGION}.amazonaws.com/sagemaker-tritonserver:25.09-py3` });
    expect(model.modelDataUrl).toMatch(/\.tar\.gz$/);
    expect(sm.invocations.filter((i) => i.status === 200)).toHaveLength(2);
    expect([...sm.scalableTargets.keys()]).toEqual([]);
  });

  it('invoke answers through InvokeEndpoint with the deployed model', async () => {
    const call = await toolkit.invoke(await toolkit.load({ cwd: dir }), 'sagemaker', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [-1, 2, -3, 4] }] });
    expect(call).toMatchObject({ status: 200, body: { model_name: 'adder', outputs: [{ name: 'y', shape: [1, 4], data: [0, 4, 0, 8] }] } });
  });

  it('a redeploy of the same build changes nothing and smoke-tests what serves', async () => {
    const report = await deploy();
    // The endpoint already served this config: the rollout core has nothing to move, nothing is retired.
    expect(report).toMatchObject({ status: 'passed', promoted: true, version: v1, previousVersion: v1, details: expect.objectContaining({ unchanged: true, stackUnchanged: true }) });
    expect(report.details).not.toHaveProperty('retired');
    expect(host.codes()).toContain('DM_ROLLOUT_UNCHANGED');
    expect(live()).toMatchObject({ status: 'InService', configName: v1 });
  });

  it('an update with a new model goes into service blue/green, and the old config and model are kept for rollback', async () => {
    // GIVEN a relu model and autoscaling
    await writeProject('unnamed-dim', ', autoscaling: { max: 3 }');
    const oldModel = sm.endpointConfigs.get(v1)!.variants[0]!.ModelName;

    // WHEN
    const report = await deploy();

    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, details: expect.objectContaining({ retired: [], keptPrevious: v1 }) });
    v2 = report.version!;
    expect(v2).not.toBe(v1);
    expect(live()).toMatchObject({ status: 'InService', configName: v2 });
    // One previous config (and its model) stays for `deploy-model rollback`, named in the endpoint's tag.
    expect(sm.endpointConfigs.has(v1)).toBe(true);
    expect(sm.models.has(oldModel)).toBe(true);
    expect(live()!.tags?.get('deploy-model:previous-endpoint-config')).toBe(v1);
    expect([...sm.endpointConfigs.keys()]).toEqual([v1, v2]);
    expect([...sm.scalableTargets.values()]).toEqual([{ resourceId: `endpoint/${ENDPOINT}/variant/AllTraffic`, scalableDimension: 'sagemaker:variant:DesiredInstanceCount', minCapacity: 1, maxCapacity: 3 }]);
    const call = await toolkit.invoke(await toolkit.load({ cwd: dir }), 'sagemaker', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [-1, 2, -3, 4] }] });
    expect(call.body).toMatchObject({ outputs: [{ data: [0, 2, 0, 4] }] });
  });

  it('an update whose instances fail the health check fails with the FailureReason and the log group, and the old config keeps serving', async () => {
    // GIVEN
    await writeProject('add', ', autoscaling: { max: 3 }');
    sm.faults.failNextEndpoint({ endpoint: ENDPOINT });

    // WHEN
    const report = await deploy();

    // THEN
    expect(report.status).toBe('failed');
    expect(report.error?.code).toBe('SAGEMAKER_ENDPOINT_FAILED');
    expect(report.error?.message).toContain(`FailureReason: ${PING_HEALTH_CHECK_FAILURE()}`);
    expect(report.error?.message).toContain(`/aws/sagemaker/Endpoints/${ENDPOINT}`);
    expect(report.error?.message).toContain(`Endpoint config ${v2} keeps serving.`);
    expect(host.codes()).toContain('DM_SAGEMAKER_ENDPOINT_FAILED');
    expect(live()).toMatchObject({ status: 'InService', configName: v2 });
    // CloudFormation rolled back: the replacement config and model it created are gone.
    expect([...sm.endpointConfigs.keys()]).toEqual([v1, v2]);
    expect((await status())).toMatchObject({ state: 'running', version: v2, details: expect.objectContaining({ stackStatus: 'UPDATE_ROLLBACK_COMPLETE' }) });
  });

  it('an update that fails its smoke test is rolled back to the previous endpoint config and reported not promoted', async () => {
    // GIVEN the same new model, whose container now answers every request with an error
    sm.faults.breakNextConfig('CUDA error: an illegal memory access was encountered');

    // WHEN
    const report = await deploy();

    // THEN
    // The report names the candidate that failed and the config that serves again.
    expect(report).toMatchObject({ status: 'failed', promoted: false, previousVersion: v2, details: expect.objectContaining({ rolledBackTo: v2 }) });
    expect(report.version).not.toBe(v2);
    expect(report.endpoint).toBe(`https://runtime.sagemaker.${REGION}.amazonaws.com/endpoints/${ENDPOINT}/invocations`);
    expect(report.checks.find((c) => c.name === 'status')?.message).toContain('illegal memory access');
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_SAGEMAKER_ROLLBACK', 'DM_SAGEMAKER_ROLLED_BACK', 'DM_DEPLOY_SMOKE_FAILED']));
    expect(live()).toMatchObject({ status: 'InService', configName: v2 });
    const call = await toolkit.invoke(await toolkit.load({ cwd: dir }), 'sagemaker', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [-1, 2, -3, 4] }] });
    expect(call.body).toMatchObject({ outputs: [{ data: [0, 2, 0, 4] }] });
    // The stack names the config that failed; status says the endpoint was rolled back.
    expect(await status()).toMatchObject({ state: 'running', version: v2, details: expect.objectContaining({ rolledBack: true }) });
  });

  it('the next deploy of the same build puts the endpoint on the stack\'s config again before smoke-testing it', async () => {
    // WHEN (the broken container fault was used up)
    const report = await deploy();

    // THEN
    // CloudFormation had nothing to change, but the endpoint served v2: the stack's config is the candidate.
    // v2 served before: it is kept for rollback, and v1, kept before, goes.
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: v2, details: expect.objectContaining({ stackUnchanged: true, retired: [v1], keptPrevious: v2 }) });
    expect(host.codes()).toContain('DM_SAGEMAKER_RECONCILE');
    expect(live()?.configName).toBe(report.version);
    expect([...sm.endpointConfigs.keys()].sort()).toEqual([v2, report.version].sort());
    expect(sm.models.size).toBe(2);
  });

  it('status reports creating while a first deploy waits for its instances', async () => {
    // GIVEN a second stage whose endpoint creation is held
    const hold = sm.faults.holdNextEndpoint('adder-qa-sagemaker');
    const deploying = deploy('qa');
    // WHEN
    let seen = await status('qa');
    for (let i = 0; i < 400 && seen.state !== 'creating'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      seen = await status('qa');
    }
    hold.release();
    // THEN
    expect(seen).toMatchObject({ state: 'creating' });
    expect(await deploying).toMatchObject({ status: 'passed' });
    expect(await status('qa')).toMatchObject({ state: 'running' });
  });

  it('a first deploy whose endpoint fails reports the FailureReason and leaves nothing deployed', async () => {
    // GIVEN
    sm.faults.failNextEndpoint({ endpoint: 'adder-test-sagemaker', reason: 'CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.' });
    // WHEN
    const report = await deploy('test');
    // THEN
    expect(report.error?.code).toBe('SAGEMAKER_ENDPOINT_FAILED');
    expect(report.error?.message).toContain('FailureReason: CapacityError: Unable to provision requested ML compute capacity. Please retry using a different ML instance type.');
    expect(report.error?.message).toContain('The endpoint is not serving.');
    await fake.idle();
    expect(await status('test')).toMatchObject({ state: 'not-deployed' });
  });

  it('a first deploy whose smoke test fails has no config to go back to: it keeps serving, and the deploy says so', async () => {
    // GIVEN a new stage whose first config answers every request with an error
    sm.faults.breakNextConfig('CUDA error: an illegal memory access was encountered');
    // WHEN
    const report = await deploy('broken');
    // THEN
    expect(report).toMatchObject({ status: 'failed', promoted: true, details: expect.objectContaining({ failedVersionServes: true }) });
    expect(report).not.toHaveProperty('previousVersion');
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_ROLLOUT_ROLLBACK', 'DM_SAGEMAKER_NO_PREVIOUS']));
    expect(live('adder-broken-sagemaker')).toMatchObject({ status: 'InService', configName: report.version });
  });

  it('destroy deletes the stack, the endpoint, its config and model, and the config kept for rollback', async () => {
    const project = await toolkit.load({ cwd: dir });
    expect(await toolkit.destroy(project)).toEqual([{ name: 'sagemaker', removed: true }]);
    expect(live()).toBeUndefined();
    expect(await status()).toMatchObject({ state: 'not-deployed' });
    for (const stage of ['qa', 'broken']) await toolkit.destroy(await toolkit.load({ cwd: dir, stage }));
    expect([...sm.endpoints.keys()]).toEqual([]);
    expect([...sm.endpointConfigs.keys()]).toEqual([]);
    expect([...sm.models.keys()]).toEqual([]);
    expect([...sm.scalableTargets.keys()]).toEqual([]);
  });
});
