import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost, type IoHost, type IoMessage } from '../../../src/io/io-host.js';
import { targetModule } from '../../../src/targets/registry.js';
import { Toolkit, type Project } from '../../../src/toolkit/toolkit.js';
import { alive } from '../../_helpers/processes.js';
import { writeTinyModel } from '../../_helpers/onnx-models.js';

/**
 * The local target under the ways a careless (or unlucky) user meets it: a failed version on a
 * fixed port, an interrupted deploy, two deploys at once, a broken state file, a recycled pid, a
 * crashed daemon, a daemon without a record. Through the Toolkit, as the CLI drives it.
 */
let dir: string;
let cacheDir: string;
let port: number;
const toolkits: Toolkit[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as net.AddressInfo;
      server.close(() => resolve(p));
    });
  });
}

/** Writes the config: a fixed port; `threads` changes the settings (a new version); `failSmoke` expects a shape the model never gives. */
async function project(options: { threads?: number; failSmoke?: boolean; host?: IoHost } = {}): Promise<{ toolkit: Toolkit; project: Project }> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './add.onnx' },
    ${options.threads ? `runtime: { intraOpThreads: ${options.threads} },` : ''}
    targets: { local: { type: 'local', port: ${port} } },
    smoke: { requests: 2${options.failSmoke ? ", expectShapes: { y: [1, 5] }" : ''} },
  };\n`);
  const toolkit = new Toolkit({ cacheDir, ...(options.host ? { ioHost: options.host } : {}) });
  toolkits.push(toolkit);
  return { toolkit, project: await toolkit.load({ cwd: dir }) };
}

const url = () => `http://127.0.0.1:${port}/`;
const ready = async () => (await fetch(`${url()}v2/health/ready`).catch(() => undefined))?.status;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-local-rel-'));
  cacheDir = path.join(dir, 'cache');
  await writeTinyModel(dir, 'add').then((file) => import('node:fs/promises').then((fs) => fs.rename(file, path.join(dir, 'add.onnx'))));
  port = await freePort();
});
afterEach(async () => {
  const { toolkit, project: p } = await project();
  await toolkit.destroy(p).catch(() => undefined);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function statusOf(toolkit: Toolkit, p: Project) {
  return (await toolkit.status(p))[0]!;
}

describe('the local target keeps serving and leaves nothing behind', () => {
  it('a failed new version on a fixed port: the previous one keeps serving on that port, and status says so', async () => {
    // GIVEN version 1 serving on a fixed port
    const v1 = await project();
    const first = (await v1.toolkit.deploy(v1.project)).targets[0]!;
    expect(first).toMatchObject({ status: 'passed', endpoint: url(), promoted: true });
    // WHEN version 2 (other settings) fails its smoke test
    const v2 = await project({ threads: 1, failSmoke: true });
    const second = (await v2.toolkit.deploy(v2.project)).targets[0]!;
    // THEN it was not promoted, version 1 answers on the same port throughout, and status names it
    expect(second).toMatchObject({ status: 'failed', promoted: false, endpoint: url(), previousVersion: first.version });
    expect(second.version).not.toBe(first.version);
    expect(await ready()).toBe(200);
    expect(await statusOf(v1.toolkit, v1.project)).toMatchObject({ state: 'running', endpoint: url(), version: first.version });
  });

  it('a first deploy that fails leaves no endpoint and no daemon', async () => {
    const p = await project({ failSmoke: true });
    const report = (await p.toolkit.deploy(p.project)).targets[0]!;
    expect(report).toMatchObject({ status: 'failed', promoted: false });
    expect(report).not.toHaveProperty('endpoint');
    expect(report).not.toHaveProperty('previousVersion');
    expect(await ready()).toBeUndefined();
    expect(await statusOf(p.toolkit, p.project)).toEqual({ name: 'local', type: 'local', state: 'not-deployed' });
  });

  it('a deploy stopped after its new version was staged (the CLI killed) leaves the old one serving; the next deploy finishes', async () => {
    // GIVEN version 1 serving
    const v1 = await project();
    const first = (await v1.toolkit.deploy(v1.project)).targets[0]!;
    // WHEN a deploy of version 2 stages it and is killed before promoting it
    const v2 = await project({ threads: 1 });
    const [ctx] = await v2.toolkit.contexts(v2.project);
    const driver = await targetModule('local').driver();
    const staged = await driver.rollout.stage(ctx!, await driver.build(ctx!));
    // THEN version 1 still serves, and status shows the version left staged
    expect(await ready()).toBe(200);
    expect(await statusOf(v1.toolkit, v1.project)).toMatchObject({ state: 'running', version: first.version, details: { candidate: staged.version } });
    // AND the next deploy discards it and promotes its own build
    const again = (await v2.toolkit.deploy(v2.project)).targets[0]!;
    expect(again).toMatchObject({ status: 'passed', promoted: true, endpoint: url(), version: staged.version, previousVersion: first.version });
    expect((await statusOf(v2.toolkit, v2.project)).details).not.toHaveProperty('candidate');
  });

  it('Ctrl-C during the smoke test takes the new version back: DEPLOY_INTERRUPTED, the old one serving', async () => {
    const v1 = await project();
    const first = (await v1.toolkit.deploy(v1.project)).targets[0]!;
    const interrupt = new AbortController();
    const host: IoHost = { notify: (m: IoMessage) => { if (m.code === 'DM_SMOKE_START') interrupt.abort(); } };
    const v2 = await project({ threads: 1, host });
    const report = (await v2.toolkit.deploy(v2.project, undefined, { signal: interrupt.signal })).targets[0]!;
    expect(report).toMatchObject({ status: 'failed', error: { code: 'DEPLOY_INTERRUPTED', message: expect.stringContaining(`version ${first.version} keeps serving`) } });
    expect(await statusOf(v1.toolkit, v1.project)).toMatchObject({ state: 'running', version: first.version });
    expect((await statusOf(v1.toolkit, v1.project)).details).not.toHaveProperty('candidate');
  });

  it('two deploys of the same target at once: one deploys, the other is DEPLOY_LOCKED naming the holder', async () => {
    const a = await project();
    const b = await project();
    const [ra, rb] = await Promise.all([a.toolkit.deploy(a.project), b.toolkit.deploy(b.project)]);
    const reports = [ra.targets[0]!, rb.targets[0]!];
    expect(reports.filter((r) => r.status === 'passed')).toHaveLength(1);
    const locked = reports.find((r) => r.status === 'failed')!;
    expect(locked.error).toMatchObject({ code: 'DEPLOY_LOCKED', message: expect.stringMatching(new RegExp(`process ${process.pid} has been running \`deploy\``)) });
    // The lock is released: a third deploy goes through.
    expect((await a.toolkit.deploy(a.project)).targets[0]).toMatchObject({ status: 'passed' });
  });

  it.each([
    ['truncated', '{"key": "adder-dev-local", "pid": 1'],
    ['empty', ''],
    ['garbled', 'not json at all'],
  ])('a %s state file is LOCAL_STATE_CORRUPT naming the file and the fix, never "not deployed"', async (_kind, text) => {
    const p = await project();
    await mkdir(path.join(dir, '.deploy-model', 'state'), { recursive: true });
    const file = path.join(dir, '.deploy-model', 'state', 'adder-dev-local.json');
    await writeFile(file, text);
    try {
      expect(await statusOf(p.toolkit, p.project)).toMatchObject({ state: 'unknown', error: { code: 'LOCAL_STATE_CORRUPT', message: expect.stringContaining(`Remove it (rm -r '${file}')`) } });
      expect((await p.toolkit.deploy(p.project)).targets[0]!.error).toMatchObject({ code: 'LOCAL_STATE_CORRUPT' });
    } finally {
      await rm(file, { force: true });
    }
  });

  it('a state path that is a folder is LOCAL_STATE_CORRUPT too, before anything runs', async () => {
    const p = await project();
    const file = path.join(dir, '.deploy-model', 'state', 'adder-dev-local.json');
    await mkdir(file, { recursive: true });
    try {
      const report = (await p.toolkit.deploy(p.project)).targets[0]!;
      expect(report.error).toMatchObject({ code: 'LOCAL_STATE_CORRUPT', message: expect.stringContaining('it is a folder') });
      expect(await ready()).toBeUndefined();
    } finally {
      await rm(file, { recursive: true, force: true });
    }
  });

  it('never signals a process it has not proved to be its daemon (a recycled pid)', async () => {
    // GIVEN a record naming the pid of an unrelated process
    const p = await project();
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
    const stateDir = path.join(dir, '.deploy-model', 'state');
    await mkdir(stateDir, { recursive: true });
    await writeFile(path.join(stateDir, 'adder-dev-local.json'), JSON.stringify({
      key: 'adder-dev-local', pid: stranger.pid, url: url(), port, socket: path.join(dir, 'nope.sock'), startedAt: new Date().toISOString(), logFile: path.join(stateDir, 'adder-dev-local.log'),
    }));
    try {
      // WHEN status and destroy run
      expect(await statusOf(p.toolkit, p.project)).toMatchObject({ state: 'failed', details: { crashed: true, pid: stranger.pid } });
      await p.toolkit.destroy(p.project);
      // THEN the stranger is untouched
      expect(alive(stranger.pid!)).toBe(true);
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it('a crashed daemon is reported with its log, and the next deploy says so and starts afresh on the same port', async () => {
    const p = await project();
    const first = (await p.toolkit.deploy(p.project)).targets[0]!;
    const pid = Number(first.details!.pid);
    process.kill(-pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(await statusOf(p.toolkit, p.project)).toMatchObject({ state: 'failed', details: { crashed: true, pid, logTail: expect.stringContaining('deploy-model local daemon') } });
    const host = new RecordingIoHost();
    const again = await project({ host });
    expect((await again.toolkit.deploy(again.project)).targets[0]).toMatchObject({ status: 'passed', endpoint: url() });
    expect(host.codes()).toContain('DM_LOCAL_CRASHED');
  });

  it('a daemon running without a record is found by status and stopped by destroy', async () => {
    const p = await project();
    const first = (await p.toolkit.deploy(p.project)).targets[0]!;
    const pid = Number(first.details!.pid);
    await rm(path.join(dir, '.deploy-model', 'state', 'adder-dev-local.json'));
    expect(await statusOf(p.toolkit, p.project)).toMatchObject({ state: 'stale', details: { orphans: [pid] } });
    expect(await p.toolkit.destroy(p.project)).toEqual([{ name: 'local', removed: true }]);
    expect(alive(pid)).toBe(false);
    expect(await statusOf(p.toolkit, p.project)).toMatchObject({ state: 'not-deployed' });
  });
});
