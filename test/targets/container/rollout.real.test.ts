/**
 * The container target's linear rollout and `rollback` for real, through the Toolkit and podman:
 * the recorded image and the new one run side by side behind the weighted front, the rollout core
 * steps it 10 % then 50 %, a new image passes and is promoted, one that crashes under the second
 * step's traffic is rolled back with the recorded image named throughout, and `rollback` puts the
 * image before back, then refuses a second time.
 *
 * Needs podman (or docker) and the base image that `bash .ci/containers.sh` builds; the images
 * are y = x + bias models of a few hundred bytes, so each build takes seconds. The steps depend
 * on each other and run in order.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { exec } from '../../../src/targets/container/_exec.js';
import type { Builder } from '../../../src/targets/container/builders.js';
import { readImageRecord, writeImageRecord } from '../../../src/targets/container/image-record.js';
import { Toolkit, type TargetReport } from '../../../src/toolkit/toolkit.js';
import { containerBuilder, TEST_BASE_IMAGE } from '../../_helpers/container-builder.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';

const X = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] };

const env = await containerBuilder();
const title = 'container linear rollout through the weighted front, and rollback, with podman';
// A name of its own, so that images and containers of runs side by side never meet.
const NAME = `ro${randomBytes(3).toString('hex')}`;

describe.skipIf(!env.builder)(env.builder ? title : `${title} (skipped: ${env.reason}; run \`bash .ci/containers.sh\` as root)`, { timeout: 600_000 }, () => {
  const builder = env.builder as Builder;
  let dir: string;
  let work: string;
  let host: RecordingIoHost;
  let toolkit: Toolkit;
  const versions: string[] = [];

  const writeConfig = () => writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: '${NAME}',
    model: { path: './model.onnx' },
    targets: { image: { type: 'container', baseImage: '${TEST_BASE_IMAGE}', rollout: { strategy: 'linear', steps: [10, 50], intervalSeconds: 0, alarms: { probeRequests: 20 } } } },
    smoke: { requests: 2, golden: 'auto' },
  };\n`);
  const deploy = async (bias: number[]): Promise<TargetReport> => {
    await writeFile(path.join(dir, 'model.onnx'), adder(bias));
    host = new RecordingIoHost();
    toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
    const report = (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
    if (report.version) versions.push(report.version);
    return report;
  };
  const answer = async () => (await toolkit.invoke(await toolkit.load({ cwd: dir }), 'image', X)).body as { outputs: Array<{ data: number[] }> };
  const manifestImages = async () => {
    const deployment = parse(await readFile(path.join(work, 'k8s', 'deployment.yaml'), 'utf8'));
    const isvc = parse(await readFile(path.join(work, 'k8s', 'inferenceservice.yaml'), 'utf8'));
    return { deployment: deployment.spec.template.spec.containers[0].image as string, isvc: isvc.spec.predictor.containers[0].image as string, canary: isvc.spec.predictor.canaryTrafficPercent as number | undefined };
  };
  const ourContainers = async () => (await exec([builder.command, 'ps', '-a', '--format', '{{.Names}}'], { timeoutMs: 30_000 })).stdout.split('\n').filter((n) => n.startsWith(NAME));
  const steps = (r: TargetReport) => (r.details?.rollout as { steps: Array<Record<string, unknown>> } | undefined)?.steps;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-container-rollout-'));
    work = path.join(dir, '.deploy-model', 'dev', 'image');
    await writeConfig();
  });

  afterAll(async () => {
    for (const name of await ourContainers().catch(() => [])) await exec([builder.command, 'rm', '--force', name], { timeoutMs: 60_000 });
    const refs = [...new Set(versions)].map((v) => `localhost/${NAME}:${v}`);
    if (refs.length > 0) await exec([builder.command, 'rmi', '--force', ...refs], { timeoutMs: 120_000 });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a first deploy has no image to split with: smoke-tested against its golden outputs, then promoted and recorded', async () => {
    const first = await deploy([1, 2, 3, 4]);
    expect(first, JSON.stringify(first.error ?? first.checks)).toMatchObject({ status: 'passed', promoted: true });
    const golden = first.checks.filter((c) => c.name.startsWith('y matches '));
    expect(golden.length).toBeGreaterThan(0);
    expect(golden.every((c) => c.passed)).toBe(true);
    expect(first.details?.rollout).toBeUndefined();
    const record = await readImageRecord(work);
    expect(record).toMatchObject({ ref: `localhost/${NAME}:${first.version}`, contentTag: first.version });
    expect(record?.previous).toBeUndefined();
    // The InferenceService carries the first step for KServe; the Deployment is the image alone.
    expect(await manifestImages()).toEqual({ deployment: record!.ref, isvc: record!.ref, canary: 10 });
    expect(await answer()).toMatchObject({ outputs: [{ data: [1, 2, 3, 4] }] });
  });

  it('a new image passes 10 % then 50 % of the requests through the front, is promoted, and records the one before it', async () => {
    const started = performance.now();
    const second = await deploy([1, 2, 3, 5]);
    const tookMs = Math.round(performance.now() - started);
    expect(second, JSON.stringify(second.error ?? second.checks)).toMatchObject({ status: 'passed', promoted: true, previousVersion: versions[0] });
    expect(steps(second)).toMatchObject([
      { step: 1, percent: 10, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
      { step: 2, percent: 50, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
    ]);
    // Smooth weighted round-robin: 2 of the 20 probes at 10 %, 10 of the 20 at 50 %, on the new image.
    expect(second.details?.split).toMatchObject({ served: { previous: 28, candidate: 12 } });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_CONTAINER_SPLIT', 'DM_CONTAINER_SHIFT', 'DM_ROLLOUT_PROMOTE']));
    expect(host.messages.filter((m) => m.code === 'DM_CONTAINER_SHIFT').map((m) => (m.data as { percent: number }).percent)).toEqual([10, 50]);
    const record = await readImageRecord(work);
    expect(record).toMatchObject({ contentTag: second.version, previous: { contentTag: versions[0] } });
    expect(record?.previous).not.toHaveProperty('previous');
    expect(await ourContainers()).toEqual([]);
    expect(await answer()).toMatchObject({ outputs: [{ data: [1, 2, 3, 5] }] });
    console.info(`container linear rollout (${builder.name}): deploy ${tookMs} ms; steps ${JSON.stringify(steps(second)!.map((s) => ({ percent: s.percent, startedAtMs: s.startedAtMs, durationMs: s.durationMs, p99Ms: (s.probe as { p99Ms: number }).p99Ms })))}`);
  });

  it('an image that crashes under the second step is rolled back: the report names the step, the check and what was measured; the recorded image is named throughout', async () => {
    // GIVEN the next image's container is killed when the second step starts (a crash under load)
    const record = await readImageRecord(work);
    const killAtStep2 = (msg: { code: string; data?: unknown }) => {
      if (msg.code !== 'DM_ROLLOUT_STEP' || (msg.data as { step: number }).step !== 2) return;
      const run = host.messages.find((m) => m.code === 'DM_CONTAINER_RUN' && !(m.data as { name: string }).name.includes('-prev-'));
      spawnSync(builder.command, ['kill', (run!.data as { name: string }).name]);
    };
    // AND the record and the manifests sampled every 20 ms while the deploy runs
    const seen = new Set<string>();
    const sample = async () => {
      const r = await readImageRecord(work);
      const m = await manifestImages().catch(() => undefined);
      seen.add(`${r?.ref} ${m?.deployment} ${m?.isvc}`);
    };
    const timer = setInterval(() => { void sample(); }, 20);
    let third: TargetReport;
    try {
      await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 6]));
      host = new RecordingIoHost();
      const notify = host.notify.bind(host);
      host.notify = (msg) => { notify(msg); killAtStep2(msg); };
      toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
      third = (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
      if (third.version) versions.push(third.version);
    } finally {
      clearInterval(timer);
    }
    await sample();
    // THEN
    expect(third).toMatchObject({ status: 'failed', promoted: false, previousVersion: record!.contentTag });
    expect(third.details?.rollout).toMatchObject({ failedStep: 2, steps: [{ step: 1, percent: 10, passed: true }, { step: 2, percent: 50, passed: false }] });
    const failed = third.checks.filter((c) => !c.passed);
    expect(failed[failed.length - 1]).toEqual({
      name: 'traffic step 2 of 2 (50 %)', passed: false,
      message: expect.stringMatching(/^error rate alarm: 0\.5 \(10 of 20 probe requests through the split endpoint\) > maxErrorRate 0; first error: HTTP 502: .*the candidate version at http:\/\/127\.0\.0\.1:\d+ did not answer/),
    });
    // The front went back to the recorded image alone before it closed, having sent the new image 2 + 10 of the probes.
    expect(host.codes()).toContain('DM_CONTAINER_SHIFT_BACK');
    expect(third.details?.split).toMatchObject({ served: { previous: 28, candidate: 12 } });
    // The record and both manifests named the recorded image throughout, and still do.
    expect([...seen]).toEqual([`${record!.ref} ${record!.ref} ${record!.ref}`]);
    expect(await readImageRecord(work)).toEqual(record);
    expect(await ourContainers()).toEqual([]);
    const images = await exec([builder.command, 'image', 'inspect', `localhost/${NAME}:${third.version}`], { timeoutMs: 30_000 });
    expect(images.code).not.toBe(0);
    expect(await answer()).toMatchObject({ outputs: [{ data: [1, 2, 3, 5] }] });
  });

  it('rollback puts back the image before the last deploy, rewrites the manifests to it with no canary share, and smoke-tests it by running it', async () => {
    const project = await toolkit.load({ cwd: dir });
    const [report] = await toolkit.rollback(project, ['image']);
    expect(report, JSON.stringify(report?.error)).toMatchObject({ status: 'rolled-back', from: versions[1], to: versions[0], endpoint: `localhost/${NAME}:${versions[0]}`, smoke: { status: 'passed' } });
    const record = await readImageRecord(work);
    expect(record).toMatchObject({ contentTag: versions[0] });
    expect(record?.previous).toBeUndefined();
    expect(await manifestImages()).toEqual({ deployment: record!.ref, isvc: record!.ref, canary: undefined });
    expect(await answer()).toMatchObject({ outputs: [{ data: [1, 2, 3, 4] }] });
    expect(await ourContainers()).toEqual([]);
  });

  it('a second rollback has nothing to go back to: ROLLBACK_NO_PREVIOUS, and nothing changes', async () => {
    const before = await readFile(path.join(work, 'image.json'), 'utf8');
    const [report] = await toolkit.rollback(await toolkit.load({ cwd: dir }), ['image']);
    expect(report).toMatchObject({ status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS' } });
    expect(await readFile(path.join(work, 'image.json'), 'utf8')).toBe(before);
  });

  it('an image recorded before but gone from local storage: rollback and a stepped deploy say so, and how to rebuild it', async () => {
    // GIVEN a record whose previous image was removed (never pushed)
    const record = (await readImageRecord(work))!;
    const gone = { ...record, ref: `localhost/${NAME}:000000000000`, refs: [`localhost/${NAME}:000000000000`], contentTag: '000000000000' };
    await writeImageRecord(work, { ...record, previous: gone });
    const [report] = await toolkit.rollback(await toolkit.load({ cwd: dir }), ['image']);
    expect(report).toMatchObject({ status: 'failed', error: { code: 'CONTAINER_PREVIOUS_IMAGE_MISSING', message: expect.stringContaining('the same build context gives the same content tag, 000000000000') } });
    // AND a stepped deploy over a recorded image that is gone stops before building anything
    await writeImageRecord(work, gone);
    const stepped = await deploy([1, 2, 3, 7]);
    expect(stepped).toMatchObject({ status: 'failed', error: { code: 'CONTAINER_PREVIOUS_IMAGE_MISSING', message: expect.stringContaining("deploy all at once (strategy 'all-at-once')") } });
    expect(host.codes()).not.toContain('DM_CONTAINER_BUILD');
  });
});
