// The local target's canary/linear rollouts (the daemon's stable URL split by a smooth weighted round-robin) and `rollback` to the version kept from before the last promotion, through the Toolkit as the CLI drives it.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonState, shiftTraffic } from '../../../src/targets/local/daemon-control.js';
import type { DaemonState } from '../../../src/targets/local/daemon-protocol.js';
import { readRecord } from '../../../src/targets/local/daemon-records.js';
import { targetModule } from '../../../src/targets/registry.js';
import { trafficSplit } from '../../../src/targets/local/traffic-split.js';
import { Toolkit, type DeployReport, type Project, type RollbackReport } from '../../../src/toolkit/toolkit.js';
import { adderModel as adder, encodeModel, floatBytes, nodeProto, onnx, tensorInfo } from '../../_helpers/onnx-models.js';
import { runCli } from '../../_helpers/run-cli.js';

// GIVEN y = x + bias models: A, B and C differ in bias[3], so y[3] for x = [1, 1, 1, 1] names the
// version that answered (5: A, 6: B, 7: C).
const T = onnx.TensorProto.DataType;
const A = { bias: [1, 2, 3, 4], y3: 5 };
const B = { bias: [1, 2, 3, 5], y3: 6 };
const C = { bias: [1, 2, 3, 6], y3: 7 };

/**
 * y = x + bias, from a model that fails some of its runs, as a model with a data-dependent bug
 * does: a seeded RandomUniform (its generator lives in the session and advances with every run,
 * onnxruntime/core/providers/cpu/generator/random.cc) picks a Gather index that is out of range
 * for a share `p` of the runs, which the Gather kernel refuses ("indices element out of data
 * bounds"). The gathered value enters y times 0, so a run that passes answers exactly x + bias.
 */
const flakyAdder = (bias: number[], seed: number, p: number) => {
  const attr = onnx.AttributeProto.AttributeType;
  return encodeModel({
    nodes: [
      nodeProto('RandomUniform', [], ['r'], [{ name: 'dtype', type: attr.INT, i: T.FLOAT }, { name: 'shape', type: attr.INTS, ints: [1] }, { name: 'seed', type: attr.FLOAT, f: seed }]),
      nodeProto('Add', ['r', 'p'], ['rp']),
      nodeProto('Floor', ['rp'], ['fails']),
      nodeProto('Mul', ['fails', 'ten'], ['index_f']),
      nodeProto('Cast', ['index_f'], ['index'], [{ name: 'to', type: attr.INT, i: T.INT64 }]),
      nodeProto('Gather', ['table', 'index'], ['picked']),
      nodeProto('Mul', ['picked', 'zero'], ['nothing']),
      nodeProto('Add', ['x', 'bias'], ['sum']),
      nodeProto('Add', ['sum', 'nothing'], ['y']),
    ],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
    initializers: [
      { name: 'bias', dataType: T.FLOAT, dims: [4], rawData: floatBytes(bias) },
      { name: 'p', dataType: T.FLOAT, dims: [], rawData: floatBytes([p]) },
      { name: 'ten', dataType: T.FLOAT, dims: [], rawData: floatBytes([10]) },
      { name: 'zero', dataType: T.FLOAT, dims: [], rawData: floatBytes([0]) },
      { name: 'table', dataType: T.FLOAT, dims: [2], rawData: floatBytes([0, 0]) },
    ],
  });
};

/** Which of a fresh session's first `n` runs fail, by onnxruntime-node itself. */
async function failingRuns(model: Uint8Array, n: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(model);
  const failed: number[] = [];
  for (let run = 1; run <= n; run++) {
    await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 1, 1, 1]), [1, 4]) }).catch(() => failed.push(run));
  }
  await session.release();
  return failed;
}

let dir: string;
let cacheDir: string;
let port: number;
let flaky: Uint8Array;
let flakyRuns: number[];
const STEP_INTERVAL_S = 3;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as net.AddressInfo;
      server.close(() => resolve(p));
    });
  });
}

async function project(model: Uint8Array): Promise<{ toolkit: Toolkit; project: Project }> {
  await writeFile(path.join(dir, 'model.onnx'), model);
  const toolkit = new Toolkit({ cacheDir });
  return { toolkit, project: await toolkit.load({ cwd: dir }) };
}

const url = () => `http://127.0.0.1:${port}/`;

/** y[3] of x = [1, 1, 1, 1] through `base` (the stable URL by default), or the error. */
async function answer(base = url()): Promise<number | string> {
  try {
    const res = await fetch(new URL('v2/models/adder/infer', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] }) });
    const body = await res.json() as { outputs?: Array<{ data: number[] }> };
    return res.status === 200 ? body.outputs![0]!.data[3]! : `HTTP ${res.status}: ${JSON.stringify(body).slice(0, 200)}`;
  } catch (e) {
    return (e as Error).message;
  }
}

async function countAnswers(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const a = String(await answer());
    counts[a] = (counts[a] ?? 0) + 1;
  }
  return counts;
}

/** The daemon as it is now, read over its control socket. */
async function daemon(p: { toolkit: Toolkit; project: Project }): Promise<DaemonState> {
  const [ctx] = await p.toolkit.contexts(p.project);
  const record = await readRecord(ctx!.stateDir, ctx!.plan.resourceName);
  return daemonState(record!);
}

interface Seen { current?: string; candidate?: string; percent?: number; candidateFrontRequests?: number; currentFrontRequests?: number }

/**
 * Samples the daemon every 10 ms while `work` runs, keeping each change of who serves and how the
 * stable URL is split; `onShift` runs (once per new share) when a traffic step starts.
 */
async function watchDaemon<R>(p: { toolkit: Toolkit; project: Project }, work: () => Promise<R>, onShift?: (percent: number) => Promise<void>): Promise<{ result: R; seen: Seen[]; shifts: Array<Promise<void>> }> {
  const seen: Seen[] = [];
  const shifts: Array<Promise<void>> = [];
  let done = false;
  const sample = async () => {
    const s = await daemon(p).catch(() => undefined);
    if (!s) return;
    const entry: Seen = { ...(s.current ? { current: s.current.version } : {}), ...(s.candidate ? { candidate: s.candidate.version } : {}), ...(s.split ? { percent: s.split.candidatePercent, candidateFrontRequests: s.candidate?.frontRequests } : {}) };
    const last = seen[seen.length - 1];
    if (!last || last.current !== entry.current || last.candidate !== entry.candidate || last.percent !== entry.percent) {
      seen.push(entry);
      if (entry.percent !== undefined && onShift) shifts.push(onShift(entry.percent));
    }
  };
  const loop = (async () => { while (!done) { await sample(); await new Promise((r) => setTimeout(r, 10)); } })();
  try {
    const result = await work();
    return { result, seen, shifts };
  } finally {
    done = true;
    await loop;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-local-rollout-'));
  // The CLI's cache under XDG_CACHE_HOME is the Toolkit's here: the layer and Node are fetched once.
  cacheDir = path.join(dir, 'xdg', 'deploy-model');
  port = await freePort();
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { local: { type: 'local', port: ${port}, rollout: { strategy: 'linear', steps: [10, 50], intervalSeconds: ${STEP_INTERVAL_S}, alarms: { probeRequests: 20 } } } },
    smoke: { requests: 2, golden: 'auto' },
  };\n`);
  // C fails some runs. Its process runs 2 smoke requests, then at 10 % 2 of the 20 probes and 2
  // smoke requests: the seed is one under which its first 8 runs pass (a margin of 2) and one of
  // runs 9-16, the probes at 50 %, fails, as onnxruntime-node itself says here.
  for (let seed = 1; seed < 200 && !flaky; seed++) {
    const model = flakyAdder(C.bias, seed, 0.15);
    const runs = await failingRuns(model, 16);
    if (runs.length > 0 && runs[0]! >= 9) [flaky, flakyRuns] = [model, runs];
  }
  expect(flakyRuns?.[0]).toBeGreaterThanOrEqual(9);
}, 60_000);

afterAll(async () => {
  const p = await project(adder(A.bias)).catch(() => undefined);
  await p?.toolkit.destroy(p.project).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('the smooth weighted round-robin of a traffic step', () => {
  it('sends exactly the share, spread evenly: 2 of 20 at 10 %, every other one at 50 %, 33 of 100 at 33 %', () => {
    const take = (percent: number, n: number) => { const s = trafficSplit(percent); return Array.from({ length: n }, () => s.next()); };
    const ten = take(10, 20);
    expect(ten.filter((t) => t === 'candidate')).toHaveLength(2);
    expect(ten.indexOf('candidate')).toBeGreaterThan(0);
    expect(take(50, 20)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'current' : 'candidate')));
    expect(take(33, 100).filter((t) => t === 'candidate')).toHaveLength(33);
    // every 20 in a row at 10 % holds exactly 2, wherever the window starts
    const long = take(10, 100);
    for (let i = 0; i + 20 <= long.length; i++) expect(long.slice(i, i + 20).filter((t) => t === 'candidate')).toHaveLength(2);
    expect(() => trafficSplit(101)).toThrow(RangeError);
  });
});

describe('local: canary/linear rollouts through the stable URL, and rollback', { timeout: 300_000 }, () => {
  it('plan shows the steps; rollback with nothing deployed is NOT_DEPLOYED; a first deploy takes all the traffic and keeps nothing to roll back to', async () => {
    const a = await project(adder(A.bias));
    const [ctx] = await a.toolkit.contexts(a.project);
    expect(ctx!.plan.rollout).toMatchObject({ strategy: 'linear', traffic: { percents: [10, 50], intervalSeconds: STEP_INTERVAL_S, alarms: { maxErrorRate: 0, probeRequests: 20 } } });
    expect(ctx!.plan.rollout.steps.map((s) => s.action)).toEqual(expect.arrayContaining([expect.stringContaining('sends 10 % of its requests to the new function'), expect.stringContaining('sends 50 % of its requests')]));

    const none = await a.toolkit.rollback(a.project, ['local']);
    expect(none).toEqual([expect.objectContaining({ name: 'local', status: 'failed', error: expect.objectContaining({ code: 'NOT_DEPLOYED' }) })]);

    const first = (await a.toolkit.deploy(a.project)).targets[0]!;
    expect(first).toMatchObject({ status: 'passed', promoted: true, endpoint: url() });
    expect(first.details?.rollout).toBeUndefined();
    expect(await answer()).toBe(A.y3);
    const again = await a.toolkit.rollback(a.project, ['local']);
    expect(again).toEqual([expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`serves version ${first.version}`) }) })]);
    expect(await answer()).toBe(A.y3);
  });

  it('B passes 10 %, then 50 %, and is promoted; the stable URL answered with the share of each step, counted by the version that answered', async () => {
    const b = await project(adder(B.bias));
    const measured: Record<number, Record<string, number>> = {};
    // WHEN B deploys; as each step starts (its share set, its checks 3 s away) 20 requests go through the stable URL
    const { result, seen, shifts } = await watchDaemon(b, () => b.toolkit.deploy(b.project), async (percent) => { measured[percent] = await countAnswers(20); });
    await Promise.all(shifts);
    const t = result.targets[0]!;
    // THEN
    expect(t, JSON.stringify(t.checks)).toMatchObject({ status: 'passed', promoted: true, endpoint: url() });
    const steps = t.details!.rollout as { strategy: string; steps: Array<Record<string, unknown>> };
    expect(steps).toMatchObject({ strategy: 'linear', steps: [
      { step: 1, percent: 10, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
      { step: 2, percent: 50, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
    ] });
    console.info(`local linear rollout, B promoted: ${JSON.stringify(steps.steps.map(({ step, percent, startedAtMs, durationMs, probe }) => ({ step, percent, startedAtMs, durationMs, p99Ms: (probe as { p99Ms: number }).p99Ms })))}; deploy ${t.durationMs} ms`);
    expect(measured).toEqual({ 10: { [A.y3]: 18, [B.y3]: 2 }, 50: { [A.y3]: 10, [B.y3]: 10 } });
    // the daemon went A → A + 10 % to B → A + 50 % to B → B; when 50 % began, B had taken 2 of the test's and 2 of the probes' 40 requests
    const versions = seen.map((s) => [s.current, s.candidate, s.percent]);
    expect(versions[0]![0]).not.toBe(t.version);
    expect(versions.filter((v) => v[2] !== undefined)).toEqual([[versions[0]![0], t.version, 10], [versions[0]![0], t.version, 50]]);
    expect(seen.find((s) => s.percent === 50)!.candidateFrontRequests).toBe(4);
    expect(seen[seen.length - 1]).toEqual({ current: t.version });
    // every request now: B
    expect(await countAnswers(10)).toEqual({ [B.y3]: 10 });
    expect((await b.toolkit.status(b.project))[0]).toMatchObject({ state: 'running', version: t.version, details: { previousVersion: versions[0]![0] } });
  });

  it("C's error alarm fires at 50 %: the report names the step, the check and what was measured; all traffic goes back to B, which served throughout", async () => {
    const c = await project(flaky);
    const before = await daemon(c);
    const bVersion = before.current!.version;
    // B's own function URL is sampled throughout: it must answer every request, from the first to the last
    const own: Array<number | string> = [];
    let sampling = true;
    const sampler = (async () => { while (sampling) own.push(await answer(before.current!.url)); })();
    let run!: { result: DeployReport; seen: Seen[] };
    try {
      run = await watchDaemon(c, () => c.toolkit.deploy(c.project));
    } finally {
      sampling = false;
      await sampler;
    }
    const t = run.result.targets[0]!;
    // THEN
    expect(t).toMatchObject({ status: 'failed', promoted: false, previousVersion: bVersion, endpoint: url() });
    const rollout = t.details!.rollout as { failedStep: number; steps: Array<Record<string, unknown>> };
    expect(rollout).toMatchObject({ failedStep: 2, steps: [{ step: 1, percent: 10, passed: true, smoke: 'passed', probe: { errors: 0 } }, { step: 2, percent: 50, passed: false }] });
    console.info(`local linear rollout, C rolled back: ${JSON.stringify(rollout.steps.map(({ step, percent, startedAtMs, durationMs, probe }) => ({ step, percent, startedAtMs, durationMs, probe })))}; deploy ${t.durationMs} ms`);
    const failed = t.checks.filter((k) => !k.passed);
    expect(failed[failed.length - 1]).toEqual({ name: 'traffic step 2 of 2 (50 %)', passed: false, message: expect.stringMatching(/^error rate alarm: 0\.\d+ \([1-9]\d* of 20 probe requests through the split endpoint\) > maxErrorRate 0; first error: HTTP 400: .*the model refused the input values: its Gather node 'Gather_picked' says: indices element out of data bounds/) });
    // B stayed the serving version throughout; C had 10 %, then 50 %, then nothing, and is gone
    expect(run.seen.every((s) => s.current === bVersion)).toBe(true);
    expect(run.seen.map((s) => s.percent).filter((p) => p !== undefined)).toEqual([10, 50]);
    expect(run.seen[run.seen.length - 1]).toEqual({ current: bVersion });
    expect(own.length).toBeGreaterThan(5);
    expect(own.filter((a) => a !== B.y3)).toEqual([]);
    expect(await countAnswers(20)).toEqual({ [B.y3]: 20 });
  });

  it('rollback after a promote starts A again behind the same port, B answering until A takes over; a second rollback is refused', async () => {
    const a = await project(adder(A.bias));
    const before = await daemon(a);
    // requests through the stable URL throughout the rollback: none may fail
    const answers: Array<number | string> = [];
    let sampling = true;
    const sampler = (async () => { while (sampling) answers.push(await answer()); })();
    let back!: RollbackReport[];
    try {
      back = await a.toolkit.rollback(a.project, ['local']);
    } finally {
      sampling = false;
      await sampler;
    }
    // THEN
    expect(back[0], JSON.stringify(back[0]?.error)).toMatchObject({ name: 'local', type: 'local', status: 'rolled-back', from: before.current!.version, endpoint: url(), smoke: expect.objectContaining({ status: 'passed' }) });
    console.info(`local rollback: ${back[0]!.durationMs} ms`);
    expect(answers.length).toBeGreaterThan(5);
    expect(answers.filter((x) => x !== A.y3 && x !== B.y3)).toEqual([]);
    // B until the swap, then A: never back and forth
    expect(answers.join(',')).toMatch(new RegExp(`^(${B.y3},)*(${A.y3},?)*$`));
    expect(await countAnswers(10)).toEqual({ [A.y3]: 10 });
    const after = await daemon(a);
    expect(after).toMatchObject({ port, current: { version: back[0]!.to } });
    expect(after.candidate).toBeUndefined();
    expect((await a.toolkit.status(a.project))[0]!.details).not.toHaveProperty('previousVersion');
    // WHEN rolled back again: nothing is kept to go to
    const again = await a.toolkit.rollback(a.project, ['local']);
    expect(again[0]).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining(`serves version ${back[0]!.to}`) } });
    expect(await answer()).toBe(A.y3);
  });

  it('through the built CLI: B deploys in steps again, `deploy-model rollback --target local` puts A back, and a second rollback exits 1', async () => {
    const cli = (args: string[]) => runCli(args, { cwd: dir, env: { XDG_CACHE_HOME: path.join(dir, 'xdg') }, timeoutMs: 240_000 });
    await writeFile(path.join(dir, 'model.onnx'), adder(B.bias));
    const deploy = await cli(['deploy', '--target', 'local', '--json']);
    expect(deploy.code, deploy.stderr).toBe(0);
    const t = deploy.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, endpoint: url(), details: { rollout: { strategy: 'linear', steps: [{ percent: 10, passed: true }, { percent: 50, passed: true }] } } });
    expect(await answer()).toBe(B.y3);
    // WHEN
    const back = await cli(['rollback', '--target', 'local', '--json']);
    // THEN
    expect(back.code, back.stderr).toBe(0);
    expect(back.json().targets).toEqual([expect.objectContaining({ name: 'local', type: 'local', status: 'rolled-back', from: t.version, to: t.previousVersion, endpoint: url(), smoke: expect.objectContaining({ status: 'passed' }) })]);
    expect(await countAnswers(5)).toEqual({ [A.y3]: 5 });
    const again = await cli(['rollback', '--target', 'local']);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(new RegExp(`ROLLBACK_NO_PREVIOUS: Target 'local' has no earlier version to roll back to: the local deployment \\S+ serves version ${t.previousVersion}`));
  });

  it('a deploy killed in the middle of a traffic step: the daemon sees its process gone and takes the share back itself', async () => {
    // GIVEN B staged beside A and given 50 % of the stable URL by a deploy process that then died
    const b = await project(adder(B.bias));
    const [ctx] = await b.toolkit.contexts(b.project);
    const driver = await targetModule('local').driver();
    const staged = await driver.rollout.stage(ctx!, await driver.build(ctx!));
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = gone.pid!;
    await new Promise((r) => gone.once('exit', r));
    const record = (await readRecord(ctx!.stateDir, ctx!.plan.resourceName))!;
    expect((await shiftTraffic(record, 50, deadPid)).split).toEqual({ candidatePercent: 50 });
    // WHEN the daemon's next check runs (every second)
    await new Promise((r) => setTimeout(r, 2500));
    // THEN A answers every request again; B stays staged for the next deploy to discard
    const after = await daemonState(record);
    expect(after.split).toBeUndefined();
    expect(after.candidate?.version).toBe(staged.version);
    expect(await countAnswers(10)).toEqual({ [A.y3]: 10 });
  });
});
