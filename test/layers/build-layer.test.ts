import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrtLayer, LAYER_BUILDER_VERSION, ortLayerUnzippedBytes, planOrtLayer, defaultOrtPackageDir, type OrtLayerResult } from '../../layers/build-layer.js';
import { readZipDirectory, unzip } from '../../src/bundling/zip.js';
import { IoHelper, RecordingIoHost } from '../../src/io/io-host.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { nodeModulesAbove, runNode } from './_child-node.js';

const work = await mkdtemp(join(tmpdir(), 'deploy-model-layer-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const MB = 1e6;

/** Loads onnxruntime-node by name, as a Lambda handler would, and runs the PaddleOCR classifier. */
const RUN_MODEL = `
const ort = require('onnxruntime-node');
(async () => {
  const model = await ort.InferenceSession.create(process.env.MODEL);
  const dims = [1, 3, 48, 192];
  const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b)).fill(0.5), dims);
  const out = await model.run({ [model.inputNames[0]]: x });
  const y = out[model.outputNames[0]];
  console.log(JSON.stringify({ resolved: require.resolve('onnxruntime-node'), dims: y.dims, sum: Array.from(y.data).reduce((a, b) => a + b) }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('buildOrtLayer x86_64', () => {
  let layer: OrtLayerResult;
  let layerDir: string;
  const host = new RecordingIoHost();

  beforeAll(async () => {
    const started = Date.now();
    layer = await buildOrtLayer({ architecture: 'x86_64', outDir: join(work, 'x64'), io: new IoHelper(host) });
    console.log(`x86_64 layer: ${(layer.zip.bytes / MB).toFixed(2)} MB zipped, ${(layer.unzippedBytes / MB).toFixed(2)} MB unzipped, built in ${Date.now() - started} ms`);
    layerDir = join(work, 'x64-unzipped');
    await unzip(layer.zip.file, layerDir);
  }, 240_000);

  it('is the planned files in a zip under 20 MB, for linux/x64 only', async () => {
    expect(layer.zip.bytes).toBeLessThan(20 * MB);
    expect(layer.zip.file).toBe(join(work, 'x64', `onnxruntime-node-${layer.ortVersion}-x86_64.zip`));
    const names = (await readZipDirectory(layer.zip.file)).map((e) => e.name);
    expect(names).toEqual(planOrtLayer(defaultOrtPackageDir(), 'x86_64').map((f) => f.to));
    expect(layer.files).toEqual(names);
    expect(names.filter((n) => /arm64|darwin|win32/.test(n))).toEqual([]);
    expect(names.every((n) => n.startsWith('nodejs/node_modules/'))).toBe(true);
    expect(layer.unzippedBytes).toBe(await ortLayerUnzippedBytes('x86_64'));
    expect(layer).toMatchObject({ cached: false, architecture: 'x86_64', ortVersion: '1.30.0' });
    expect(host.codes()).toEqual(['DM_BUILD_LAYER']);
    expect(host.messages[0].data).toMatchObject({ bytes: layer.zip.bytes, unzippedBytes: layer.unzippedBytes, sha256: layer.zip.sha256 });
  });

  it('runs a real model in a fresh node with only the layer on NODE_PATH, as Lambda does', async () => {
    // GIVEN a working folder with no node_modules above it, so only NODE_PATH can supply onnxruntime-node
    const cwd = await mkdtemp(join(tmpdir(), 'deploy-model-layer-cwd-'));
    expect(nodeModulesAbove(cwd)).toBeUndefined();
    const nodePath = join(layerDir, 'nodejs', 'node_modules');

    // WHEN the model runs with the layer on NODE_PATH
    const run = await runNode(['-e', RUN_MODEL], { cwd, env: { NODE_PATH: nodePath, MODEL: REAL_MODELS.cls } });

    // THEN onnxruntime-node came from the layer and the classifier answered two probabilities
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout) as { resolved: string; dims: number[]; sum: number };
    expect(result.resolved).toBe(join(nodePath, 'onnxruntime-node', 'dist', 'index.js'));
    expect(result.dims).toEqual([1, 2]);
    expect(result.sum).toBeCloseTo(1, 4);

    // AND without the layer the same script cannot find onnxruntime-node (the control)
    const control = await runNode(['-e', RUN_MODEL], { cwd, env: { MODEL: REAL_MODELS.cls } });
    expect(control.code).not.toBe(0);
    expect(control.stderr).toMatch(/Cannot find module 'onnxruntime-node'/);
    await rm(cwd, { recursive: true, force: true });
  });

  it('serves ES module imports too: both onnxruntime-common entry points are complete', async () => {
    // An .mjs inside nodejs/ resolves through nodejs/node_modules the way ESM does (no NODE_PATH).
    const probe = join(layerDir, 'nodejs', 'probe.mjs');
    await writeFile(probe, [
      "import * as ort from 'onnxruntime-node';",
      "import * as common from 'onnxruntime-common';",
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      "const cjs = require('onnxruntime-common');",
      'const model = await ort.InferenceSession.create(process.env.MODEL);',
      'console.log(JSON.stringify({ esmTensor: typeof common.Tensor, cjsTensor: typeof cjs.Tensor, inputs: model.inputNames }));',
    ].join('\n'));
    const run = await runNode([probe], { cwd: join(layerDir, 'nodejs'), env: { MODEL: REAL_MODELS.cls } });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ esmTensor: 'function', cjsTensor: 'function', inputs: ['x'] });
  });
});

describe('buildOrtLayer arm64', () => {
  let first: OrtLayerResult;
  const cacheDir = join(work, 'cache');

  beforeAll(async () => {
    const started = Date.now();
    first = await buildOrtLayer({ architecture: 'arm64', outDir: join(work, 'arm-1') });
    console.log(`arm64 layer: ${(first.zip.bytes / MB).toFixed(2)} MB zipped, ${(first.unzippedBytes / MB).toFixed(2)} MB unzipped, built in ${Date.now() - started} ms`);
  }, 240_000);

  it('holds the arm64 binaries, no x64 file, and the same JavaScript as x86_64', async () => {
    const names = (await readZipDirectory(first.zip.file)).map((e) => e.name);
    expect(names).toContain('nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node');
    expect(names).toContain('nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1');
    expect(names.filter((n) => /x64|darwin|win32/.test(n))).toEqual([]);
    const js = (files: string[]) => files.filter((n) => !n.includes('/bin/'));
    expect(js(names)).toEqual(js(planOrtLayer(defaultOrtPackageDir(), 'x86_64').map((f) => f.to)));
    expect(first.zip.bytes).toBeLessThan(12 * MB);
  });

  it('is deterministic and cached by versions, architecture and builder version', async () => {
    // WHEN it is built again into the cache, then asked for again
    const host = new RecordingIoHost();
    const io = new IoHelper(host);
    const second = await buildOrtLayer({ architecture: 'arm64', outDir: join(work, 'arm-2'), cacheDir, io });
    const started = Date.now();
    const third = await buildOrtLayer({ architecture: 'arm64', outDir: join(work, 'arm-3'), cacheDir, io });
    const hitMs = Date.now() - started;

    // THEN the second build is byte-identical to the first and the third comes from the cache
    expect(second.zip.sha256).toBe(first.zip.sha256);
    expect(second.cached).toBe(false);
    expect(third).toMatchObject({ cached: true, zip: { sha256: first.zip.sha256, bytes: first.zip.bytes, file: join(work, 'arm-3', `onnxruntime-node-1.30.0-arm64.zip`) } });
    expect(third.files).toEqual(first.files);
    expect(hitMs).toBeLessThan(5_000);
    expect(host.codes()).toEqual(['DM_BUILD_LAYER', 'DM_LAYER_CACHE_HIT']);
    expect(third.cacheKey).toBe(`onnxruntime-common@1.30.0;onnxruntime-node@1.30.0;linux-arm64;builder@${LAYER_BUILDER_VERSION};${third.cacheKey.split(';').at(-1)}`);
    const record = JSON.parse(await readFile(join(cacheDir, `onnxruntime-node-1.30.0-arm64-b${LAYER_BUILDER_VERSION}.zip.json`), 'utf8')) as { key: string };
    expect(record.key).toBe(third.cacheKey);
  }, 240_000);

  it('rebuilds when the cached zip no longer matches its record', async () => {
    const cached = join(cacheDir, `onnxruntime-node-1.30.0-arm64-b${LAYER_BUILDER_VERSION}.zip`);
    const bytes = await readFile(cached);
    bytes[100] ^= 0xff;
    await writeFile(cached, bytes);
    const rebuilt = await buildOrtLayer({ architecture: 'arm64', outDir: join(work, 'arm-4'), cacheDir });
    expect(rebuilt).toMatchObject({ cached: false, zip: { sha256: first.zip.sha256 } });
  }, 240_000);
});
