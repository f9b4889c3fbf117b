// gcp-vertex linear rollout and rollback against the Vertex AI fake: the live endpoint's trafficSplit step by step, an error alarm at the second step, and `rollback` to the Model a promote kept.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';
import { startVertexFake, type FakeDeployedModel, type FakeEndpoint, type VertexFake } from '../../emulators/vertex/index.js';

// GIVEN y = x + bias models (three versions: A, B, C), a gcp-vertex target with a linear rollout
// of two steps (10 %, then 50 % of the requests on the new version), golden outputs recorded at
// build, and the Vertex AI fake, whose endpoints route RawPredict by their trafficSplit (smooth
// weighted round robin, so the shares are exact).
const TARGET = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
  rollout: { strategy: 'linear', steps: [10, 50], intervalSeconds: 0, alarms: { probeRequests: 20 } },
};
const X = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] };

let fake: VertexFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;

const live = (stage = 'dev'): FakeEndpoint | undefined => [...fake.state.endpoints.values()].find((e) => e.displayName === `adder-${stage}-vertex`);
const versionOf = (d: FakeDeployedModel) => d.displayName.slice(-12);
const load = (stage = 'dev') => toolkit.load({ cwd: dir, stage });
const deploy = async () => (await toolkit.deploy(await load())).targets[0]!;
const answer = async () => ((await toolkit.invoke(await load(), 'vertex', X)).body as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;

/** The live endpoint's split by version (shares above 0), and every deployed model seen, sampled every 5 ms while `work` runs. */
async function watchSplit<R>(work: () => Promise<R>): Promise<{ result: R; seen: Array<Record<string, number>>; models: Set<FakeDeployedModel> }> {
  const seen: Array<Record<string, number>> = [];
  const models = new Set<FakeDeployedModel>();
  const sample = () => {
    const endpoint = live();
    if (!endpoint) return;
    for (const d of endpoint.deployedModels) models.add(d);
    const split = Object.fromEntries(endpoint.deployedModels.filter((d) => (endpoint.trafficSplit[d.id] ?? 0) > 0).map((d) => [versionOf(d), endpoint.trafficSplit[d.id]]));
    if (JSON.stringify(seen.at(-1)) !== JSON.stringify(split)) seen.push(split);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, seen, models };
  } finally {
    clearInterval(timer);
  }
}

beforeAll(async () => {
  fake = await startVertexFake();
  fake.gcs.createBucket('dm-staging');
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-vertex-rollout-'));
  await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 4]));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { vertex: ${JSON.stringify(TARGET)} },
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

describe('gcp-vertex linear rollout through the live endpoint\'s traffic split', { timeout: 300_000 }, () => {
  let versionA: string;
  let versionB: string;
  let modelA: string;

  it('plan shows what each step does on Vertex AI; a first deploy has no version to split with and takes all the traffic', async () => {
    const plan = (await toolkit.plan(await load())).vertex!;
    expect(plan.rollout).toMatchObject({ strategy: 'linear', traffic: { percents: [10, 50], intervalSeconds: 0, alarms: { maxErrorRate: 0, probeRequests: 20 } } });
    expect(plan.rollout.steps.map((s) => s.action)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^deploy the new model on 'adder-dev-vertex' beside the serving one with the trafficSplit \{new: 10, previous: 90\}/),
      expect.stringMatching(/^update the trafficSplit of 'adder-dev-vertex' to \{new: 50, previous: 50\}.*20 RawPredict requests to 'adder-dev-vertex'/),
      expect.stringMatching(/^a failed step: set the trafficSplit of 'adder-dev-vertex' back to the previous models alone/),
    ]));
    const first = await deploy();
    expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(first.details?.rollout).toBeUndefined();
    versionA = first.version!;
    modelA = live()!.deployedModels[0]!.model;
    expect(await answer()).toEqual([1, 2, 3, 4]);
  });

  it('a new version passes both steps and is promoted: 10 %, then 50 %, then all; the previous Model is kept and recorded for rollback', async () => {
    await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 5]));
    const servedBefore = live()!.deployedModels[0]!.served;
    const { result: report, seen, models } = await watchSplit(deploy);
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: versionA });
    versionB = report.version!;
    expect(report.details?.rollout).toMatchObject({ strategy: 'linear', steps: [
      { step: 1, percent: 10, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
      { step: 2, percent: 50, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
    ] });
    // every step's smoke test compared the outputs with the golden ones recorded at build
    expect(report.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'y matches golden outputs', passed: true })]));
    // THEN the split went A → A 90 / B 10 → A 50 / B 50 → B, never anything else
    expect(seen).toEqual([{ [versionA]: 100 }, { [versionA]: 90, [versionB]: 10 }, { [versionA]: 50, [versionB]: 50 }, { [versionB]: 100 }]);
    // THEN the split routed exactly its shares of the 40 probe requests: 2 + 10 to B, 18 + 10 to A
    const served = (v: string) => [...models].filter((d) => versionOf(d) === v).reduce((n, d) => n + d.served, 0);
    expect({ a: served(versionA) - servedBefore, b: served(versionB) }).toEqual({ a: 28, b: 12 });
    // THEN B serves alone; the smoke endpoint is gone; A's Model stays in the Model Registry, recorded in the endpoint's labels
    const endpoint = live()!;
    expect(endpoint.deployedModels.map(versionOf)).toEqual([versionB]);
    expect([...fake.state.endpoints.values()].map((e) => e.displayName)).toEqual(['adder-dev-vertex']);
    expect(fake.state.models.has(modelA)).toBe(true);
    expect(endpoint.labels).toMatchObject({ 'deploy-model-previous-model': modelA.split('/').pop(), 'deploy-model-previous-version': versionA, 'deploy-model-previous-machine': 'g2-standard-4', 'deploy-model-previous-accelerator': 'nvidia_l4' });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_SHIFT', 'DM_ROLLOUT_STEP_DONE', 'DM_ROLLOUT_PROMOTE']));
    expect(await answer()).toEqual([1, 2, 3, 5]);
  });

  it('a version whose error alarm fires at the second step is rolled back: the report names the step, the check and what was measured; B served throughout', async () => {
    // GIVEN version C starts failing once it gets half of the traffic
    await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 6]));
    const modelsBefore = [...fake.state.models.keys()];
    let failing: string | undefined;
    const arm = setInterval(() => {
      const endpoint = live();
      const c = endpoint?.deployedModels.find((d) => versionOf(d) !== versionB && endpoint.trafficSplit[d.id] === 50);
      if (c && !failing) {
        failing = c.model;
        fake.faults.modelFailure(c.model, 'connection pool exhausted under load');
      }
    }, 2);
    try {
      const { result: report, seen } = await watchSplit(deploy);
      // THEN
      expect(report).toMatchObject({ status: 'failed', promoted: false, previousVersion: versionB, endpoint: live()!.name });
      const versionC = report.version!;
      expect(report.details?.rollout).toMatchObject({ failedStep: 2, steps: [{ step: 1, percent: 10, passed: true }, { step: 2, percent: 50, passed: false, probe: { requests: 20, errors: 10, errorRate: 0.5 } }] });
      const failed = report.checks.filter((c) => !c.passed);
      expect(failed.at(-1)).toEqual({ name: 'traffic step 2 of 2 (50 %)', passed: false, message: expect.stringMatching(/^error rate alarm: 0\.5 \(10 of 20 probe requests through the split endpoint\) > maxErrorRate 0; first error: HTTP 500: .*connection pool exhausted under load/) });
      // THEN B kept at least half of the traffic throughout, and serves alone again
      expect(seen).toEqual([{ [versionB]: 100 }, { [versionB]: 90, [versionC]: 10 }, { [versionB]: 50, [versionC]: 50 }, { [versionB]: 100 }]);
      expect(live()!.deployedModels.map(versionOf)).toEqual([versionB]);
      expect([...fake.state.endpoints.values()].map((e) => e.displayName)).toEqual(['adder-dev-vertex']);
      // C's Model is deleted; A's is still recorded for rollback
      expect([...fake.state.models.keys()]).toEqual(modelsBefore);
      expect(live()!.labels['deploy-model-previous-version']).toBe(versionA);
      expect(host.codes()).toEqual(expect.arrayContaining(['DM_ROLLOUT_STEP_FAILED', 'DM_VERTEX_SHIFT_BACK']));
      for (let i = 0; i < 5; i++) expect(await answer()).toEqual([1, 2, 3, 5]);
    } finally {
      clearInterval(arm);
      if (failing) fake.faults.clearModelFailure(failing);
    }
  });

  it('rollback deploys the kept Model of A again and gives it all the traffic; a second rollback is refused', async () => {
    const [back] = await toolkit.rollback(await load(), ['vertex']);
    expect(back, JSON.stringify(back!.error)).toMatchObject({ name: 'vertex', status: 'rolled-back', from: versionB, to: versionA, endpoint: live()!.name, smoke: expect.objectContaining({ status: 'passed' }) });
    const endpoint = live()!;
    expect(endpoint.deployedModels.map((d) => [versionOf(d), d.model])).toEqual([[versionA, modelA]]);
    expect(Object.values(endpoint.trafficSplit)).toEqual([100]);
    // A's resources came from the labels; B's Model is deleted and the record is cleared
    expect(endpoint.deployedModels[0]!.dedicatedResources).toMatchObject({ machineSpec: { machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 1 });
    expect([...fake.state.models.keys()]).toEqual([modelA]);
    expect(Object.keys(endpoint.labels).filter((k) => k.startsWith('deploy-model-previous'))).toEqual([]);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_RESTORE', 'DM_ROLLBACK_DONE']));
    expect(await answer()).toEqual([1, 2, 3, 4]);

    const [again] = await toolkit.rollback(await load(), ['vertex']);
    expect(again).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`serves version ${versionA}`) } });
    const [nothing] = await toolkit.rollback(await load('empty'), ['vertex']);
    expect(nothing).toMatchObject({ status: 'failed', error: { code: 'NOT_DEPLOYED' } });
    expect(fake.internalErrors).toEqual([]);
  });
});
