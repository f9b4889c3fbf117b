// aws-sagemaker canary and linear rollouts against the AWS fake: SageMaker's own traffic steps reported, an alarm at step 2 rolled back by SageMaker, then `rollback` and a second one refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';
import { sageMakerFake, type SageMakerFake } from '../../emulators/aws/sagemaker.js';

// GIVEN y = x + bias models (three versions), an aws-sagemaker target whose rollout is a canary
// (then a linear one), golden outputs recorded at build, and the AWS fake, whose SageMaker turns
// traffic on for the new fleet step by step (one DeploymentConfig second lasting 100 ms), routes
// InvokeEndpoint by the share of each step, and rolls back when a rollback alarm is in ALARM.
const REGION = 'us-east-1';
const ENDPOINT = 'adder-dev-sagemaker';
const SECOND_MS = 100;

let fake: AwsFake;
let sm: SageMakerFake;
let restoreEnv: () => void;
let dir: string;
let host: RecordingIoHost;
let toolkit: Toolkit;
let runtime: SageMakerRuntimeClient;
const configs: string[] = [];

async function writeProject(bias: number[], rollout: string): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), adder(bias));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: '${REGION}', instanceType: 'ml.g5.xlarge', bakeSeconds: 1, rollout: ${rollout} } },
    smoke: { requests: 2, golden: 'auto' },
  };\n`);
}

async function deploy() {
  return (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
}

/** y for x = [1, 1, 1, 1] through InvokeEndpoint: 1 + bias. */
async function answer(): Promise<number[]> {
  const r = await runtime.send(new InvokeEndpointCommand({
    EndpointName: ENDPOINT, ContentType: 'application/json',
    Body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] }),
  }));
  return (JSON.parse(Buffer.from(r.Body!).toString('utf8')) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;
}

/**
 * While `work` runs: the endpoint's config in service and the share of traffic on the new fleet,
 * sampled every 5 ms, and the config that answered each of the InvokeEndpoint calls sent meanwhile.
 */
async function watch<R>(work: () => Promise<R>): Promise<{ result: R; seen: Array<{ config: string; percent: number }>; answeredBy: Set<string> }> {
  const seen: Array<{ config: string; percent: number }> = [];
  const sample = () => {
    const e = sm.endpoints.get(ENDPOINT);
    if (!e) return;
    const entry = { config: e.configName, percent: e.pending?.served ? e.pending.percent : 0 };
    const last = seen[seen.length - 1];
    if (!last || last.config !== entry.config || last.percent !== entry.percent) seen.push(entry);
  };
  const from = sm.invocations.length;
  let done = false;
  const timer = setInterval(sample, 5);
  const calls = (async () => {
    while (!done) {
      await answer().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    const result = await work();
    sample();
    return { result, seen, answeredBy: new Set(sm.invocations.slice(from).map((i) => i.configName!).filter(Boolean)) };
  } finally {
    done = true;
    clearInterval(timer);
    await calls;
  }
}

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION });
  fake.bootstrap();
  sm = sageMakerFake(fake.state);
  sm.deploymentSecondMs = SECOND_MS;
  // Turning traffic on for a step takes this long: several of the 20 ms DescribeEndpoint polls.
  sm.transitionMs = 150;
  restoreEnv = fake.applyEnv();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  runtime = new SageMakerRuntimeClient({ region: REGION });
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-sagemaker-canary-'));
});

afterAll(async () => {
  runtime?.destroy();
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

describe('aws-sagemaker canary and linear rollouts through SageMaker traffic routing', { timeout: 300_000 }, () => {
  it('plan says what SageMaker does at each step; a first deploy creates the endpoint with no steps', async () => {
    await writeProject([1, 2, 3, 4], "{ strategy: 'canary', steps: [10], intervalSeconds: 3 }");
    const plans = await toolkit.plan(await toolkit.load({ cwd: dir }));
    const p = plans.sagemaker as unknown as { rollout: { strategy: string; steps: Array<{ action: string }>; traffic?: unknown }; trafficRouting: unknown };
    expect(p.rollout.strategy).toBe('canary');
    expect(p.rollout.traffic).toBeUndefined();
    expect(p.trafficRouting).toEqual({ type: 'CANARY', sizePercent: 10, waitIntervalSeconds: 3, percents: [10, 100], alarms: { maxErrorRate: 0 } });
    expect(p.rollout.steps.map((s) => s.action)).toEqual(expect.arrayContaining([
      expect.stringContaining("SageMaker turns traffic on for 10 % of the new fleet's capacity, then waits 3 s"),
      expect.stringContaining('SageMaker turns traffic on for all of the new fleet, then keeps the old fleet 1 s'),
    ]));
    const first = await deploy();
    expect(first).toMatchObject({ status: 'passed', promoted: true });
    expect(first.details?.rollout).toBeUndefined();
    configs.push(first.version!);
    expect(await answer()).toEqual([2, 3, 4, 5]);
  });

  it('a canary that passes: SageMaker turns 10 % on, then all, then bakes; the report lists each step; the previous config is kept for rollback', async () => {
    // GIVEN version 2
    await writeProject([1, 2, 3, 5], "{ strategy: 'canary', steps: [10], intervalSeconds: 3 }");
    // WHEN
    const started = performance.now();
    const { result: t, seen, answeredBy } = await watch(deploy);
    const tookMs = performance.now() - started;
    // THEN
    expect(t, JSON.stringify(t.checks)).toMatchObject({ status: 'passed', promoted: true, previousVersion: configs[0] });
    configs.push(t.version!);
    const rollout = t.details!.rollout as { strategy: string; trafficRouting: string; steps: Array<{ step: number; status: string; percent: number; startedAtMs: number; durationMs: number }> };
    expect(rollout).toMatchObject({ strategy: 'canary', trafficRouting: 'CANARY' });
    expect(rollout.steps.map(({ step, status, percent }) => ({ step, status, percent }))).toEqual([
      { step: 1, status: 'ActivatingTraffic', percent: 10 }, { step: 2, status: 'ActivatingTraffic', percent: 100 }, { step: 3, status: 'Baking', percent: 100 },
    ]);
    // The canary served its 3 s (300 ms here) before the rest moved, and the old fleet baked 1 s (100 ms).
    expect(rollout.steps[0]!.durationMs).toBeGreaterThanOrEqual(3 * SECOND_MS - 40);
    expect(rollout.steps[2]!.durationMs).toBeGreaterThanOrEqual(SECOND_MS - 40);
    console.info(`canary rollout: ${Math.round(tookMs)} ms in all; steps ${JSON.stringify(rollout.steps.map(({ step, percent, status, startedAtMs, durationMs }) => ({ step, percent, status, startedAtMs, durationMs })))}`);
    // The fake's endpoint went old → old + 10 % new → old + all new → new, and both answered meanwhile.
    expect(seen.map((s) => s.percent)).toEqual([0, 10, 100, 0]);
    expect(seen.map((s) => s.config)).toEqual([configs[0], configs[0], configs[0], configs[1]]);
    expect(answeredBy).toEqual(new Set([configs[0], configs[1]]));
    expect(t.details).toMatchObject({ keptPrevious: configs[0], retired: [] });
    expect(sm.endpoints.get(ENDPOINT)!.tags?.get('deploy-model:previous-endpoint-config')).toBe(configs[0]);
    expect(sm.endpointConfigs.has(configs[0]!)).toBe(true);
    expect(await answer()).toEqual([2, 3, 4, 6]);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_SAGEMAKER_TRAFFIC_STEP', 'DM_SAGEMAKER_PREVIOUS_KEPT']));
  });

  it('a linear rollout whose rollback alarm fires at step 2: SageMaker rolls back, the old config serves throughout, the deploy is not promoted and names the alarm', async () => {
    // GIVEN version 3, and its error alarm going into ALARM once it has 50 % of the capacity
    await writeProject([1, 2, 3, 6], "{ strategy: 'linear', steps: [25, 50, 75], intervalSeconds: 2 }");
    sm.faults.alarmAtStep({ step: 2, endpoint: ENDPOINT });
    // WHEN
    const { result: t, seen, answeredBy } = await watch(deploy);
    const inAlarm = [...sm.alarmStates].filter(([, state]) => state === 'ALARM').map(([name]) => name);
    // The alarm returns to OK once the new fleet is gone, as CloudWatch's would.
    for (const name of inAlarm) sm.setAlarmState(name, 'OK');
    // THEN
    expect(t).toMatchObject({ status: 'failed', promoted: false, previousVersion: configs[1] });
    const alarms = t.details!.alarms as string[];
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toContain('Invocation5xxAlarm');
    expect(inAlarm).toEqual(alarms);
    expect(t.details!.rollout).toMatchObject({ strategy: 'linear', failedStep: 2, steps: [{ step: 1, status: 'ActivatingTraffic', percent: 25 }, { step: 2, status: 'ActivatingTraffic', percent: 50 }] });
    const failed = t.checks.filter((c) => !c.passed);
    expect(failed).toEqual([{ name: 'traffic step 2 of 4 (50 %)', passed: false, message: expect.stringContaining(`rollback alarm ${alarms[0]} went into ALARM; SageMaker moved all traffic back to endpoint config ${configs[1]}. FailureReason: `) }]);
    // the config in service never changed; the new fleet had 25 %, then 50 %, then nothing
    expect(seen.every((s) => s.config === configs[1])).toBe(true);
    expect(seen.map((s) => s.percent)).toEqual([0, 25, 50, 0]);
    expect(answeredBy.has(configs[1]!)).toBe(true);
    const live = sm.endpoints.get(ENDPOINT)!;
    expect(live).toMatchObject({ status: 'InService', configName: configs[1], failureReason: expect.stringContaining(alarms[0]!) });
    expect(live.pending).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(await answer()).toEqual([2, 3, 4, 6]);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_SAGEMAKER_TRAFFIC_ROLLED_BACK', 'DM_ROLLOUT_STEP_FAILED']));
  });

  it('a canary whose new fleet answers 5XX: the fake counts them as Invocation5XXErrors, the alarm fires at step 1 and SageMaker rolls back', async () => {
    // GIVEN version 4, whose model fails every request on the new fleet; users keep calling the endpoint
    await writeProject([1, 2, 3, 7], "{ strategy: 'canary', steps: [20], intervalSeconds: 5 }");
    sm.faults.breakNextConfig('CUDA error: an illegal memory access was encountered');
    // WHEN
    const { result: t, seen } = await watch(deploy);
    const inAlarm = [...sm.alarmStates].filter(([, state]) => state === 'ALARM').map(([name]) => name);
    for (const name of inAlarm) sm.setAlarmState(name, 'OK');
    // THEN
    expect(t).toMatchObject({ status: 'failed', promoted: false, previousVersion: configs[1], details: { rollout: { failedStep: 1, steps: [{ step: 1, percent: 20 }] } } });
    expect(inAlarm).toEqual(t.details!.alarms);
    expect(t.checks.find((c) => !c.passed)?.name).toBe('traffic step 1 of 2 (20 %)');
    expect(seen.map((s) => s.percent)).toEqual([0, 20, 0]);
    expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: configs[1] });
    expect(await answer()).toEqual([2, 3, 4, 6]);
  });

  it('rollback puts the endpoint back on the config that served before the last deploy; a second rollback is refused', async () => {
    const project = await toolkit.load({ cwd: dir });
    // WHEN
    const [first] = await toolkit.rollback(project, ['sagemaker']);
    // THEN
    expect(first, JSON.stringify(first)).toMatchObject({ status: 'rolled-back', from: configs[1], to: configs[0] });
    expect(sm.endpoints.get(ENDPOINT)!.configName).toBe(configs[0]);
    expect(await answer()).toEqual([2, 3, 4, 5]);
    expect(sm.endpoints.get(ENDPOINT)!.tags?.has('deploy-model:previous-endpoint-config')).toBe(false);
    // WHEN again
    const [second] = await toolkit.rollback(project, ['sagemaker']);
    // THEN
    expect(second).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS' } });
    expect(second!.error!.message).toContain(`endpoint ${ENDPOINT} serves ${configs[0]}`);
    expect(sm.endpoints.get(ENDPOINT)!.configName).toBe(configs[0]);
  });
});
