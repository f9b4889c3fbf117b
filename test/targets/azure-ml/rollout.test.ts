// azure-ml linear rollout and rollback against the Azure fake: the endpoint's traffic map step by step, an error alarm at the second step, and `rollback` recreating the deployment a promote recorded.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';
import { startAzureFake, type AzureFake } from '../../emulators/azure/index.js';

// GIVEN y = x + bias models (three versions: A, B, C), an azure-ml target with a linear rollout of
// two steps (10 %, then 50 % of the scoring requests on the new deployment), golden outputs
// recorded at build, and the Azure fake, whose endpoints route requests without the
// azureml-model-deployment header by their traffic map (smooth weighted round robin, so the shares
// are exact).
const ENDPOINT = 'adder-dev-azure';
const TARGET = {
  type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3',
  rollout: { strategy: 'linear', steps: [10, 50], intervalSeconds: 0, alarms: { probeRequests: 20 } },
};
const X = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] };

let fake: AzureFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;

const endpoint = (name = ENDPOINT) => fake.state.endpoints.get(name);
const deployments = () => fake.state.deployments.get(ENDPOINT) ?? new Map();
const specOf = (deployment: string): string => deployments().get(deployment)?.tags['deploy-model-spec'] ?? deployment;
const load = (stage = 'dev') => toolkit.load({ cwd: dir, stage });
const deploy = async () => (await toolkit.deploy(await load())).targets[0]!;
const answer = async () => ((await toolkit.invoke(await load(), 'azure', X)).body as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;

/** The endpoint's traffic by version (shares above 0), sampled every 5 ms while `work` runs. */
async function watchTraffic<R>(work: () => Promise<R>): Promise<{ result: R; seen: Array<Record<string, number>> }> {
  const seen: Array<Record<string, number>> = [];
  const sample = () => {
    const traffic = endpoint()?.properties.traffic ?? {};
    const byVersion = Object.fromEntries(Object.entries(traffic).filter(([, share]) => share > 0).map(([name, share]) => [specOf(name), share]));
    if (JSON.stringify(seen.at(-1)) !== JSON.stringify(byVersion)) seen.push(byVersion);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, seen };
  } finally {
    clearInterval(timer);
  }
}

beforeAll(async () => {
  fake = await startAzureFake();
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-azure-rollout-'));
  await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 4]));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { azure: ${JSON.stringify(TARGET)} },
    smoke: { requests: 2, golden: 'auto' },
  };\n`);
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
});

describe('azure-ml linear rollout through the endpoint\'s traffic map', { timeout: 300_000 }, () => {
  let versionA: string;
  let versionB: string;

  it('plan shows what each step does on Azure ML; a first deploy has no deployment to split with and takes all the traffic', async () => {
    const plan = (await toolkit.plan(await load())).azure!;
    expect(plan.rollout).toMatchObject({ strategy: 'linear', traffic: { percents: [10, 50], intervalSeconds: 0, alarms: { maxErrorRate: 0, probeRequests: 20 } } });
    expect(plan.rollout.steps.map((s) => s.action)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^PUT 'adder-dev-azure' with the traffic \{new: 10, previous: 90\}/),
      expect.stringMatching(/^PUT 'adder-dev-azure' with the traffic \{new: 50, previous: 50\}.*send 20 requests to the scoring URI without it/),
      expect.stringMatching(/^a failed step: PUT 'adder-dev-azure' with the traffic it had before the steps, then delete the new deployment/),
    ]));
    const first = await deploy();
    expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'passed', promoted: true, details: expect.objectContaining({ deployment: 'blue' }) });
    expect(first.details?.rollout).toBeUndefined();
    versionA = first.version!;
    expect(await answer()).toEqual([1, 2, 3, 4]);
  });

  it('a new deployment passes both steps and is promoted: 10 %, then 50 %, then all; the previous one is recorded in the endpoint\'s tags and deleted', async () => {
    await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 5]));
    const requestsBefore = fake.requests.length;
    const { result: report, seen } = await watchTraffic(deploy);
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: versionA, details: expect.objectContaining({ deployment: 'green' }) });
    versionB = report.version!;
    expect(report.details?.rollout).toMatchObject({ strategy: 'linear', steps: [
      { step: 1, percent: 10, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
      { step: 2, percent: 50, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
    ] });
    expect(report.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'y matches golden outputs', passed: true })]));
    // THEN the traffic went A → A 90 / B 10 → A 50 / B 50 → B, never anything else
    expect(seen).toEqual([{ [versionA]: 100 }, { [versionA]: 90, [versionB]: 10 }, { [versionA]: 50, [versionB]: 50 }, { [versionB]: 100 }]);
    // THEN the 40 probe requests (no deployment header) were routed by exactly those shares
    const probes = fake.requests.slice(requestsBefore).filter((r) => r.servedBy && !r.deploymentHeader);
    expect({ blue: probes.filter((r) => r.servedBy === 'blue').length, green: probes.filter((r) => r.servedBy === 'green').length }).toEqual({ blue: 28, green: 12 });
    // THEN green serves alone; blue's definition is in the endpoint's tags, and its model version is still registered
    expect([...deployments().keys()]).toEqual(['green']);
    expect(endpoint()!.tags).toMatchObject({
      'deploy-model-previous': 'blue', 'deploy-model-previous-spec': versionA, 'deploy-model-previous-model-version': '1',
      'deploy-model-previous-instance-type': 'Standard_NC4as_T4_v3', 'deploy-model-previous-instance-count': '1',
    });
    expect([...fake.state.models.get('adder-dev-azure')!.versions.keys()]).toEqual(['1', '2']);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AZURE_SHIFT', 'DM_ROLLOUT_STEP_DONE', 'DM_ROLLOUT_PROMOTE']));
    expect(await answer()).toEqual([1, 2, 3, 5]);
  });

  it('a deployment whose error alarm fires at the second step is rolled back: the report names the step, the check and what was measured; B served throughout', async () => {
    // GIVEN version C starts failing once it gets half of the traffic
    await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 6]));
    let failing: string | undefined;
    const arm = setInterval(() => {
      const traffic = endpoint()?.properties.traffic ?? {};
      const c = Object.keys(traffic).find((name) => name !== 'green' && traffic[name] === 50);
      if (c && !failing) {
        failing = c;
        fake.faults.deploymentFailure(ENDPOINT, c, 'connection pool exhausted under load');
      }
    }, 2);
    try {
      const { result: report, seen } = await watchTraffic(deploy);
      // THEN
      expect(report).toMatchObject({ status: 'failed', promoted: false, previousVersion: versionB, endpoint: endpoint()!.properties.scoringUri });
      const versionC = report.version!;
      expect(failing).toBe('blue');
      expect(report.details?.rollout).toMatchObject({ failedStep: 2, steps: [{ step: 1, percent: 10, passed: true }, { step: 2, percent: 50, passed: false, probe: { requests: 20, errors: 10, errorRate: 0.5 } }] });
      const failed = report.checks.filter((c) => !c.passed);
      expect(failed.at(-1)).toEqual({ name: 'traffic step 2 of 2 (50 %)', passed: false, message: expect.stringMatching(/^error rate alarm: 0\.5 \(10 of 20 probe requests through the split endpoint\) > maxErrorRate 0; first error: HTTP 500: .*connection pool exhausted under load/) });
      // THEN B kept at least half of the traffic throughout, and serves alone again; the record of A is kept
      expect(seen).toEqual([{ [versionB]: 100 }, { [versionB]: 90, [versionC]: 10 }, { [versionB]: 50, [versionC]: 50 }, { [versionB]: 100 }]);
      expect([...deployments().keys()]).toEqual(['green']);
      expect(endpoint()!.properties.traffic).toEqual({ green: 100 });
      expect(endpoint()!.tags['deploy-model-previous-spec']).toBe(versionA);
      expect(host.codes()).toEqual(expect.arrayContaining(['DM_ROLLOUT_STEP_FAILED', 'DM_AZURE_SHIFT_BACK']));
      for (let i = 0; i < 5; i++) expect(await answer()).toEqual([1, 2, 3, 5]);
    } finally {
      clearInterval(arm);
      if (failing) fake.faults.clearDeploymentFailure(ENDPOINT, failing);
    }
  });

  it('rollback creates A\'s deployment again from the tags and gives it all the traffic; a second rollback is refused', async () => {
    const [back] = await toolkit.rollback(await load(), ['azure']);
    expect(back, JSON.stringify(back!.error)).toMatchObject({ name: 'azure', status: 'rolled-back', from: versionB, to: versionA, smoke: expect.objectContaining({ status: 'passed' }) });
    expect([...deployments().keys()]).toEqual(['blue']);
    expect(endpoint()!.properties.traffic).toEqual({ blue: 100 });
    const blue = deployments().get('blue')!;
    expect(blue.tags['deploy-model-spec']).toBe(versionA);
    expect(blue.properties.model).toMatch(/\/models\/adder-dev-azure\/versions\/1$/);
    expect(blue.sku).toMatchObject({ capacity: 1 });
    expect(Object.keys(endpoint()!.tags).filter((k) => k.startsWith('deploy-model-previous'))).toEqual([]);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AZURE_RESTORE', 'DM_ROLLBACK_DONE']));
    expect(await answer()).toEqual([1, 2, 3, 4]);

    const [again] = await toolkit.rollback(await load(), ['azure']);
    expect(again).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`serves version ${versionA}`) } });
    const [nothing] = await toolkit.rollback(await load('empty'), ['azure']);
    expect(nothing).toMatchObject({ status: 'failed', error: { code: 'NOT_DEPLOYED' } });
  });
});
