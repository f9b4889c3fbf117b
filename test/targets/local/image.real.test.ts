// The local target with package 'image' for real: aws-lambda's image built with podman (or docker), each version's container run behind the daemon's stable URL against the Runtime API emulator, promoted through a traffic step, rolled back, destroyed.
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { exec } from '../../../src/kits/container/exec.js';
import type { LocalArtifacts } from '../../../src/targets/local/build.js';
import { daemonState } from '../../../src/targets/local/daemon-control.js';
import type { DaemonState } from '../../../src/targets/local/daemon-protocol.js';
import { readRecord } from '../../../src/targets/local/daemon-records.js';
import { planListContainers } from '../../../src/targets/local/image-labels.js';
import type { LocalPlan } from '../../../src/targets/local/plan.js';
import { Toolkit, type Project } from '../../../src/toolkit/toolkit.js';
import { containerBuilder } from '../../_helpers/container-builder.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';

// GIVEN y = x + bias models A and B that differ in bias[3], so y[3] for x = [1, 1, 1, 1] names the
// version that answered (5: A, 6: B), and a local target with package 'image' on the Node 22 base
// image that .ci/containers.sh builds (no public registry is reachable here).
const ENABLE = 'run `bash .ci/containers.sh` as root to install podman and build the base images';
const BASE_IMAGE = process.env.DEPLOY_MODEL_TEST_LAMBDA_BASE_IMAGE ?? 'localhost/deploy-model-base:node22';
const A = { bias: [1, 2, 3, 4], y3: 5 };
const B = { bias: [1, 2, 3, 5], y3: 6 };

const env = await containerBuilder();
const baseThere = env.builder ? (await exec([env.builder.command, 'image', 'inspect', BASE_IMAGE], { timeoutMs: 30_000 })).code === 0 : false;
const reason = !env.builder ? env.reason : !baseThere ? `the base image ${BASE_IMAGE} is not there` : undefined;
const title = "local target with package 'image': the image served, promoted, rolled back and destroyed for real";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as net.AddressInfo;
      server.close(() => resolve(p));
    });
  });
}

describe.skipIf(reason !== undefined)(reason ? `${title} (skipped: ${reason}; ${ENABLE})` : title, () => {
  const builder = env.builder!;
  let dir: string;
  let port: number;
  let host: RecordingIoHost;
  let toolkit: Toolkit;
  const timings: Record<string, number> = {};
  /** The second deploy's messages, `<code>@<ms from its start>`. */
  const steps: string[] = [];
  const images: Record<'A' | 'B', { ref: string; id: string } | undefined> = { A: undefined, B: undefined };

  const url = () => `http://127.0.0.1:${port}/`;
  const load = async (model: Uint8Array): Promise<Project> => {
    await writeFile(path.join(dir, 'model.onnx'), model);
    return toolkit.load({ cwd: dir });
  };
  /** y[3] of x = [1, 1, 1, 1] through the stable URL, or the error. */
  const answer = async (): Promise<number | string> => {
    try {
      const res = await fetch(new URL('v2/models/adder/infer', url()), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] }) });
      const body = await res.json() as { outputs?: Array<{ data: number[] }> };
      return res.status === 200 ? body.outputs![0]!.data[3]! : `HTTP ${res.status}: ${JSON.stringify(body).slice(0, 300)}`;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const daemon = async (project: Project): Promise<DaemonState> => {
    const [ctx] = await toolkit.contexts(project);
    return daemonState((await readRecord(ctx!.stateDir, ctx!.plan.resourceName))!);
  };
  /** The IDs of the images this deployment's containers run now. */
  const runningImages = async (project: Project): Promise<string[]> => {
    const [ctx] = await toolkit.contexts(project);
    const ids = (await exec(planListContainers(builder.command, ctx!.stateDir, ctx!.plan.resourceName), { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    const r = await exec([builder.command, 'inspect', '--format', '{{.Image}}', ...ids], { timeoutMs: 30_000 });
    return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  };
  const imageExists = async (ref: string) => (await exec([builder.command, 'image', 'inspect', ref], { timeoutMs: 30_000 })).code === 0;
  const sameId = (a: string, b: string) => a.replace(/^sha256:/, '').startsWith(b.replace(/^sha256:/, '').slice(0, 12)) || b.replace(/^sha256:/, '').startsWith(a.replace(/^sha256:/, '').slice(0, 12));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-local-image-'));
    port = await freePort();
    host = new RecordingIoHost();
    toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
      name: 'adder',
      model: { path: './model.onnx' },
      targets: { local: { type: 'local', port: ${port}, package: 'image', image: { baseImage: '${BASE_IMAGE}' },
        rollout: { strategy: 'canary', steps: [50], intervalSeconds: 1, alarms: { probeRequests: 10 } } } },
      smoke: { requests: 2, golden: 'auto' },
    };\n`);
  });

  afterAll(async () => {
    if (dir) {
      await toolkit.destroy(await toolkit.load({ cwd: dir })).catch(() => undefined);
      const refs = [images.A?.ref, images.B?.ref].filter((r): r is string => r !== undefined);
      if (refs.length > 0) await exec([builder.command, 'rmi', '--force', ...refs], { timeoutMs: 60_000 });
      await rm(dir, { recursive: true, force: true });
    }
    console.info(`local image timings (ms, ${builder.name}): ${JSON.stringify(timings)}; second deploy step by step: ${steps.join(' ')}`);
  });

  it('plans the aws-lambda image for this machine, and builds it', async () => {
    // WHEN
    const project = await load(adder(A.bias));
    const plan = (await toolkit.plan(project)).local as LocalPlan;
    const t0 = Date.now();
    const built = (await toolkit.build(project)).local!.outputs as LocalArtifacts;
    timings.buildA = Date.now() - t0;
    // THEN the plan says which image is built, from what, and that it runs
    expect(plan).toMatchObject({ package: 'image', image: { baseImage: BASE_IMAGE, platform: process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64', repository: 'localhost/deploy-model-local/adder-dev-local' } });
    expect(plan.rollout.steps[0]!.action).toMatch(/build the aws-lambda image localhost\/deploy-model-local\/adder-dev-local:<content hash> FROM localhost\/deploy-model-base:node22/);
    // AND the image is aws-lambda's: the same context, so the same content tag as aws-lambda's build of it
    expect(built.image).toMatchObject({ ref: expect.stringMatching(/^localhost\/deploy-model-local\/adder-dev-local:[0-9a-f]{20}$/), builder: builder.command, id: expect.stringMatching(/^(sha256:)?[0-9a-f]{64}$/) });
    expect(host.codes()).toContain('DM_LAMBDA_IMAGE_BUILT');
    images.A = { ref: built.image!.ref, id: built.image!.id };
    // The aws-lambda target's build of the same model for this architecture: the same content tag and the same image ID.
    const configFile = path.join(dir, 'lambda.config.mjs');
    await writeFile(configFile, `export default { name: 'adder', model: { path: './model.onnx' }, targets: { lambda: { type: 'aws-lambda', region: 'us-east-1', architecture: '${process.arch === 'arm64' ? 'arm64' : 'x86_64'}', package: 'image', image: { baseImage: '${BASE_IMAGE}' } } } };\n`);
    const lambda = (await toolkit.build(await toolkit.load({ configFile }))).lambda!.outputs as { image: { localRef: string; tag: string } };
    try {
      expect(lambda.image.tag).toBe(built.image!.tag);
      const lambdaId = (await exec([builder.command, 'image', 'inspect', '--format', '{{.Id}}', lambda.image.localRef], { timeoutMs: 30_000 })).stdout.trim();
      expect(lambdaId).toBe(built.image!.id);
    } finally {
      await exec([builder.command, 'rmi', lambda.image.localRef], { timeoutMs: 60_000 });
    }
  }, 600_000);

  it('deploys: the image answers behind the stable URL, its logs reach the local log file', async () => {
    // WHEN
    const project = await load(adder(A.bias));
    const t0 = Date.now();
    const report = (await toolkit.deploy(project)).targets[0]!;
    timings.deployA = Date.now() - t0;
    const t1 = Date.now();
    const first = await answer();
    timings.firstAnswerAfterDeploy = Date.now() - t1;
    // THEN the table's endpoint answers with A
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, endpoint: url() });
    expect(first).toBe(A.y3);
    expect(timings.deployA).toBeGreaterThan(0);
    // AND the version runs A's image in a container of this deployment
    const state = await daemon(project);
    expect(state.current?.stats).toMatchObject({ image: expect.stringContaining(images.A!.id.replace(/^sha256:/, '').slice(0, 12)) });
    timings.containerFirstAnswer = Number(state.current?.stats?.maxInitDurationMs);
    const running = await runningImages(project);
    expect(running).toHaveLength(1);
    expect(sameId(running[0]!, images.A!.id)).toBe(true);
    // AND the container's lines, and START/REPORT for each request, are in the daemon's log
    const log = await readFile(state.logFile, 'utf8');
    expect(log).toMatch(new RegExp(`\\[${state.current!.version}\\] START RequestId: `));
    expect(log).toMatch(new RegExp(`\\[${state.current!.version}\\] REPORT RequestId: .*Memory Size: \\d+ MB`));
    expect(log).toMatch(/runs the image localhost\/deploy-model-local\/adder-dev-local:/);
  }, 600_000);

  it('refuses a local process on the container\'s Runtime API, and keeps serving', async () => {
    // GIVEN the address the container was given (AWS_LAMBDA_RUNTIME_API in its environment)
    const project = await load(adder(A.bias));
    const [ctx] = await toolkit.contexts(project);
    const [id] = (await exec(planListContainers(builder.command, ctx!.stateDir, ctx!.plan.resourceName), { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
    const envs = (await exec([builder.command, 'inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', id!], { timeoutMs: 30_000 })).stdout;
    const api = /^AWS_LAMBDA_RUNTIME_API=(.+)$/m.exec(envs)?.[1]?.trim();
    expect(api).toMatch(/^127\.0\.0\.1:\d+$/);
    const before = Number((await daemon(project)).current?.stats?.refusedRuntimeApiConnections);
    // WHEN this process (not the container's) polls for the next event
    const [hostName, apiPort] = api!.split(':');
    const status = await new Promise<string>((resolve) => {
      http.get({ host: hostName, port: Number(apiPort), path: '/2018-06-01/runtime/invocation/next', timeout: 5_000 }, (res) => resolve(String(res.statusCode))).on('error', (e) => resolve(e.message));
    });
    // THEN it is turned away, counted, and the container still answers every request
    expect(status).not.toBe('200');
    expect(Number((await daemon(project)).current?.stats?.refusedRuntimeApiConnections)).toBe(before + 1);
    expect([await answer(), await answer()]).toEqual([A.y3, A.y3]);
  }, 120_000);

  it('a missing builder is CONTAINER_NO_BUILDER with its fix, and nothing changes', async () => {
    const project = await load(adder(B.bias));
    const before = await daemon(project);
    const path0 = process.env.PATH;
    process.env.PATH = path.join(dir, 'empty-bin');
    try {
      const report = (await toolkit.deploy(project)).targets[0]!;
      expect(report.status).toBe('failed');
      expect(report.error).toMatchObject({ code: 'CONTAINER_NO_BUILDER', message: expect.stringMatching(/podman \(not installed\).*remove package: 'image'/s) });
    } finally {
      process.env.PATH = path0;
    }
    // A serves on, no candidate was staged.
    const after = await daemon(project);
    expect(after.current?.version).toBe(before.current?.version);
    expect(after.candidate).toBeUndefined();
    expect(await answer()).toBe(A.y3);
  }, 120_000);

  it('a second deploy with model B goes through the traffic step and is promoted', async () => {
    // WHEN
    const project = await load(adder(B.bias));
    const t0 = Date.now();
    const result = await toolkit.deploy(project);
    timings.deployB = Date.now() - t0;
    // Each step of the rollout, in ms from the start of the deploy.
    steps.push(...host.messages.filter((m) => m.time.getTime() >= t0 && /^DM_(LAMBDA_IMAGE_BUILT|LOCAL_START|LOCAL_SHIFT|SMOKE_DONE|ROLLOUT_|DEPLOY_DONE)/.test(m.code))
      .map((m) => `${m.code}@${m.time.getTime() - t0}`));
    const report = result.targets[0]!;
    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, endpoint: url(), details: { rollout: { strategy: 'canary', steps: [{ percent: 50, passed: true }] } } });
    expect([await answer(), await answer(), await answer()]).toEqual([B.y3, B.y3, B.y3]);
    const built = (await toolkit.build(project)).local!.outputs as LocalArtifacts;
    images.B = { ref: built.image!.ref, id: built.image!.id };
    expect(images.B.ref).not.toBe(images.A!.ref);
    const running = await runningImages(project);
    expect(running).toHaveLength(1);
    expect(sameId(running[0]!, images.B.id)).toBe(true);
    // AND A's image is kept for the rollback
    expect(await imageExists(images.A!.ref)).toBe(true);
    const status = await toolkit.status(project);
    expect(status[0]).toMatchObject({ state: 'running', details: { previousVersion: expect.any(String) } });
  }, 600_000);

  it('rollback runs the first image again behind the same URL', async () => {
    // WHEN
    const project = await load(adder(B.bias));
    const t0 = Date.now();
    const [back] = await toolkit.rollback(project, ['local']);
    timings.rollback = Date.now() - t0;
    // THEN
    expect(back, JSON.stringify(back)).toMatchObject({ status: 'rolled-back' });
    expect([await answer(), await answer()]).toEqual([A.y3, A.y3]);
    const running = await runningImages(project);
    expect(running).toHaveLength(1);
    expect(sameId(running[0]!, images.A!.id)).toBe(true);
    // AND B's image went with its version: nothing kept to go forward again
    expect(await imageExists(images.B!.ref)).toBe(false);
  }, 300_000);

  it('destroy stops the containers and removes the images it built', async () => {
    const project = await load(adder(A.bias));
    const [ctx] = await toolkit.contexts(project);
    const report = await toolkit.destroy(project);
    expect(JSON.stringify(report)).toMatch(/local/);
    const left = (await exec(planListContainers(builder.command, ctx!.stateDir, ctx!.plan.resourceName), { timeoutMs: 30_000 })).stdout.trim();
    expect(left).toBe('');
    expect(await imageExists(images.A!.ref)).toBe(false);
    expect(await answer()).toMatch(/fetch failed|ECONNREFUSED/);
  }, 120_000);

  it('destroy after the daemon was killed (SIGKILL) removes the container it left, found by its label', async () => {
    // GIVEN A deployed again, its container paused (a runtime client that would otherwise exit
    // once the daemon's Runtime API is gone, as it does, cannot), and its daemon killed, so nothing
    // stops the container
    const project = await load(adder(A.bias));
    const report = (await toolkit.deploy(project)).targets[0]!;
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed' });
    const [ctx] = await toolkit.contexts(project);
    const [id] = (await exec(planListContainers(builder.command, ctx!.stateDir, ctx!.plan.resourceName), { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
    expect((await exec([builder.command, 'pause', id!], { timeoutMs: 30_000 })).code).toBe(0);
    const record = (await readRecord(ctx!.stateDir, ctx!.plan.resourceName))!;
    process.kill(record.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await runningImages(project)).toHaveLength(1);
    // WHEN
    const from = host.messages.length;
    const [destroyed] = await toolkit.destroy(project);
    // THEN
    expect(destroyed).toMatchObject({ removed: true });
    expect(host.messages.slice(from).map((m) => m.code)).toContain('DM_LOCAL_ORPHAN_CONTAINERS');
    expect(await runningImages(project)).toEqual([]);
    expect(await imageExists(images.A!.ref), JSON.stringify(destroyed)).toBe(false);
  }, 300_000);
});
