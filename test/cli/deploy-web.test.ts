import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../../src/targets/web/find-chromium.js';
import { encodeModel, floatBytes, nodeProto, onnx, tensorInfo } from '../_helpers/onnx-models.js';
import { alive, runCli } from '../_helpers/run-cli.js';

// GIVEN a project whose model is y = x + bias (x float32 [batch, 4]) and a web target on host
// 'local' with two threads (so the page must be cross-origin isolated). The CLI runs as a child
// process, as a user would run it; every deploy smoke-tests the page in headless Chromium
// (Debian's `chromium`; CI installs it). Without Chromium the suite is skipped, saying so.

const chromium = findChromium();
const missing = chromium ? undefined : 'Chromium is not installed (apt-get install chromium; CI installs it)';

function adder(bias: number[]): Uint8Array {
  const T = onnx.TensorProto.DataType;
  return encodeModel({
    nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
    initializers: [{ name: 'bias', dataType: T.FLOAT, dims: [4], rawData: floatBytes(bias) }],
  });
}

let dir: string;
const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 180_000 });

async function writeProject(bias: number[], expectShape = [1, 4]): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), adder(bias));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { site: { type: 'web', threads: 2 } },
    smoke: { requests: 3, input: { x: [[-1, 2, -3, 4]] }, expectShapes: { y: ${JSON.stringify(expectShape)} } },
  };\n`);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-web-cli-'));
  await writeProject([1, 2, 3, 4]);
});

afterAll(async () => {
  await runCli(['destroy', '--yes'], { cwd: dir });
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(missing)(`deploy of a web target on host local, through the CLI${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let endpoint: string;
  let v1: string;
  let pid: number;

  it('deploy builds the bundle, serves it on 127.0.0.1, runs the smoke test in headless Chromium and prints the report', async () => {
    const run = await cli(['deploy', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ name: 'site', type: 'web', status: 'passed', promoted: true, version: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(t.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    // The outputs were compared with onnxruntime-node's, in a page that was isolated and ran two threads.
    expect(t.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['status', 'y shape', 'y expected shape', 'y finite', 'y matches onnxruntime-node', 'latency']));
    expect(t.checks.filter((c: { passed: boolean }) => !c.passed)).toEqual([]);
    expect(t.details.page).toMatchObject({ backend: 'wasm', threads: 2, crossOriginIsolated: true, sessionCreateMs: expect.any(Number) });
    endpoint = t.endpoint;
    v1 = t.version;
    pid = t.details.pid;
    expect(alive(pid)).toBe(true);
    // The deployment serves the page with the isolation headers and WebAssembly with its type.
    const page = await fetch(endpoint);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('<title>');
    const wasm = await fetch(new URL('ort/1.30.0/ort-wasm-simd-threaded.wasm', endpoint));
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    await wasm.arrayBuffer();
  });

  it('status, smoke and invoke find it; invoke runs the request in the page', async () => {
    const status = await cli(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().targets[0]).toMatchObject({ name: 'site', type: 'web', state: 'running', endpoint, version: v1, details: { pid } });

    const smoke = await cli(['smoke', '--json']);
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(smoke.json().targets[0]).toMatchObject({ status: 'passed', endpoint, version: v1 });

    const input = path.join(dir, 'input.json');
    await writeFile(input, JSON.stringify({ x: [[10, 20, 30, 40]] }));
    const invoke = await cli(['invoke', '--target', 'site', '--input', input, '--json']);
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(invoke.json()).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', shape: [1, 4], data: [11, 22, 33, 44] }] } });
  });

  it('deploying the same build again changes nothing and smoke-tests what serves', async () => {
    const run = await cli(['deploy', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets[0]).toMatchObject({ status: 'passed', endpoint, version: v1, promoted: true, details: { unchanged: true } });
  });

  let v2: string;
  it('a new version is swapped in behind the same URL, by the same server', async () => {
    await writeProject([10, 20, 30, 40]);
    const run = await cli(['deploy', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', endpoint, promoted: true, previousVersion: v1 });
    expect(t.version).not.toBe(v1);
    v2 = t.version;
    expect(t.details.pid).toBe(pid);
    expect(alive(pid)).toBe(true);
    // The URL serves the new bundle: the manifest names the model this build holds.
    const served = (await (await fetch(new URL('deploy-model.json', endpoint))).json()) as { modelSha256: string };
    const built = JSON.parse(await readFile(path.join(dir, '.deploy-model/dev/site/site/deploy-model.json'), 'utf8')) as { modelSha256: string };
    expect(served.modelSha256).toBe(built.modelSha256);
  });

  it('a new version whose smoke test fails is not promoted: the version before keeps serving', async () => {
    // GIVEN a third model, and a smoke check it fails (the output shape the config expects is wrong)
    await writeProject([100, 200, 300, 400], [1, 5]);
    const run = await cli(['deploy']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`site: smoke test failed \\(version ${v2} keeps serving\\)`));
    expect(run.stdout).toMatch(/y expected shape: expected \[1, 5\], got \[1, 4\]/);
    // THEN the second version still answers, at the same URL, from the same server
    await writeProject([10, 20, 30, 40]);
    const status = await cli(['status', '--json']);
    expect(status.json().targets[0]).toMatchObject({ state: 'running', endpoint, version: v2, details: { pid } });
    const input = path.join(dir, 'input.json');
    await writeFile(input, JSON.stringify({ x: [[0, 0, 0, 0]] }));
    const invoke = await cli(['invoke', '--target', 'site', '--input', input, '--json']);
    expect(invoke.json().body.outputs[0].data).toEqual([10, 20, 30, 40]);
  });

  it('destroy stops it; a second destroy finds nothing', async () => {
    const run = await cli(['destroy', '--target', 'site', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets).toEqual([{ name: 'site', removed: true }]);
    expect(alive(pid)).toBe(false);
    const again = await cli(['destroy', '--target', 'site', '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().targets).toEqual([{ name: 'site', removed: false }]);
    const status = await cli(['status', '--json']);
    expect(status.json().targets[0].state).toBe('not-deployed');
    const smoke = await cli(['smoke', '--json']);
    expect(smoke.code).toBe(1);
    expect(smoke.json().targets[0].error.code).toBe('NOT_DEPLOYED');
  });
});
