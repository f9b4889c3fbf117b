// ensureOnnxRuntimeNode: the installed copy first, else the cache linked beside deploy-model, and coded errors when neither can be had.
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../_helpers/run-cli.js';
import { ensureOnnxRuntimeNode, ONNXRUNTIME_NODE_VERSION } from '../../src/ensure-onnxruntime-node.js';

const INSTALLED = realpathSync(path.join(REPO, 'node_modules/onnxruntime-node'));
let work: string;
/** An npm that must not be called: any call fails the test through the coded error it causes. */
let failingNpm: string;

async function packageRoot(name: string): Promise<string> {
  const root = path.join(work, name);
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'deploy-model', version: '0.0.0', type: 'module' }));
  return root;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'dm-ort-'));
  failingNpm = path.join(work, 'npm');
  await writeFile(failingNpm, '#!/bin/sh\necho "npm error 404 Not Found - GET https://registry.npmjs.org/onnxruntime-node" >&2\nexit 1\n');
  await chmod(failingNpm, 0o755);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('ensureOnnxRuntimeNode', () => {
  it('uses the copy Node resolves (the repository devDependency) and fetches nothing', () => {
    const found = ensureOnnxRuntimeNode({ packageRoot: REPO, cacheDir: path.join(work, 'unused-cache'), npm: failingNpm });
    expect(found).toEqual({ dir: INSTALLED, version: ONNXRUNTIME_NODE_VERSION, source: 'installed' });
    expect(existsSync(path.join(work, 'unused-cache'))).toBe(false);
  });

  it('links a cached copy beside deploy-model, so that an import from the package loads it', async () => {
    // GIVEN a package without onnxruntime-node and a cache that holds it (here the real package, linked)
    const root = await packageRoot('from-cache');
    const cacheDir = path.join(work, 'cache');
    const modules = path.join(cacheDir, 'onnxruntime-node', ONNXRUNTIME_NODE_VERSION, 'node_modules');
    await mkdir(modules, { recursive: true });
    await symlink(INSTALLED, path.join(modules, 'onnxruntime-node'));
    // WHEN
    const found = ensureOnnxRuntimeNode({ packageRoot: root, cacheDir, npm: failingNpm });
    // THEN it is linked, and an ES module of the package imports it and makes a tensor with it
    expect(found).toEqual({ dir: INSTALLED, version: ONNXRUNTIME_NODE_VERSION, source: 'cache' });
    expect(realpathSync(path.join(root, 'node_modules/onnxruntime-node'))).toBe(INSTALLED);
    await writeFile(path.join(root, 'probe.js'), "import * as ort from 'onnxruntime-node';\nconst t = new ort.Tensor('float32', Float32Array.of(1, 2), [2]);\nconsole.log(JSON.stringify({ type: t.type, dims: t.dims }));\n");
    expect(JSON.parse(execFileSync(process.execPath, [path.join(root, 'probe.js')], { encoding: 'utf8' }))).toEqual({ type: 'float32', dims: [2] });
    // AND a second call finds it by resolution alone
    expect(ensureOnnxRuntimeNode({ packageRoot: root, cacheDir, npm: failingNpm }).source).toBe('installed');
  });

  it('a registry that cannot be reached is ONNXRUNTIME_FETCH_FAILED, naming the package, the cache and the fix, and leaves nothing behind', async () => {
    const root = await packageRoot('no-registry');
    const cacheDir = path.join(work, 'empty-cache');
    const told: string[] = [];
    let error: unknown;
    try {
      ensureOnnxRuntimeNode({ packageRoot: root, cacheDir, npm: failingNpm, onFetch: (m) => told.push(m) });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      name: 'DeployModelError',
      code: 'ONNXRUNTIME_FETCH_FAILED',
      message: expect.stringContaining(`onnxruntime-node@${ONNXRUNTIME_NODE_VERSION}`),
      details: { package: `onnxruntime-node@${ONNXRUNTIME_NODE_VERSION}`, cacheDir: path.join(cacheDir, 'onnxruntime-node', ONNXRUNTIME_NODE_VERSION) },
    });
    expect((error as Error).message).toMatch(/npm view onnxruntime-node@[\d.]+ version.*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@/);
    // npm's own reason, not only `Command failed`
    expect((error as Error).message).toContain('npm error 404 Not Found - GET https://registry.npmjs.org/onnxruntime-node');
    expect(told).toEqual([expect.stringContaining(`fetching onnxruntime-node ${ONNXRUNTIME_NODE_VERSION} from the npm registry`)]);
    expect(await readdir(path.join(cacheDir, 'onnxruntime-node', ONNXRUNTIME_NODE_VERSION))).toEqual([]);
    expect(existsSync(path.join(root, 'node_modules'))).toBe(false);
  });

  it('a package folder it cannot link into is ONNXRUNTIME_LINK_FAILED, with the fix', async () => {
    const root = await packageRoot('read-only');
    await writeFile(path.join(root, 'node_modules'), 'not a folder');
    const cacheDir = path.join(work, 'cache');
    expect(() => ensureOnnxRuntimeNode({ packageRoot: root, cacheDir, npm: failingNpm })).toThrow(expect.objectContaining({
      code: 'ONNXRUNTIME_LINK_FAILED',
      message: expect.stringMatching(/could not be linked into .*node_modules.*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@/),
    }));
  });
});
