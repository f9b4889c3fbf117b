import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOrtLayer } from '../../layers/build-layer.js';
import { buildFunctionArtifact, signatureJson } from '../../src/bundling/build-function-artifact.js';
import { readZipDirectory, unzip } from '../../src/bundling/zip.js';
import { IoHelper, RecordingIoHost } from '../../src/io/io-host.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import type { ModelSignature } from '../../src/model/types.js';
import { writeTinyModel } from '../_helpers/onnx-models.js';
import { nodeModulesAbove, runNode } from '../layers/_child-node.js';

const FIXTURE_HANDLER = fileURLToPath(new URL('../_fixtures/handler/index.ts', import.meta.url));
/** Layers are cached across runs the way a developer's machine caches them. */
const LAYER_CACHE = join(tmpdir(), 'deploy-model-test-cache', 'layers');

const work = await mkdtemp(join(tmpdir(), 'deploy-model-function-'));
afterAll(() => rm(work, { recursive: true, force: true }));

let modelDir: string;
let modelPath: string;
let signature: ModelSignature;

beforeAll(async () => {
  // y = x + bias, x float32 [batch, 4], bias = [1, 2, 3, 4] stored in external-data.bin
  modelDir = join(work, 'models');
  await mkdir(modelDir);
  modelPath = await writeTinyModel(modelDir, 'external-data');
  signature = await inspectModel(modelPath);
});

describe('buildFunctionArtifact', () => {
  it('zips index.mjs, the model, its external data and the signature, and reports sizes', async () => {
    const host = new RecordingIoHost();
    const fn = await buildFunctionArtifact({ modelPath, signature, outDir: join(work, 'f1'), handlerEntry: FIXTURE_HANDLER, io: new IoHelper(host) });

    const entries = await readZipDirectory(fn.zip.file);
    expect(entries.map((e) => e.name)).toEqual(['index.mjs', 'model/external-data.bin', 'model/model.onnx', 'model/signature.json']);
    expect(fn.files).toEqual(entries.map((e) => e.name));
    expect(fn.zip.file).toBe(join(work, 'f1', 'function.zip'));
    expect(fn.modelBytes).toBe(signature.bytes + 16);
    expect(fn.handlerBytes).toBe((await readFile(join(work, 'f1', 'handler', 'index.mjs'))).length);
    expect(fn.unzippedBytes).toBe(entries.reduce((s, e) => s + e.uncompressedSize, 0));

    expect(host.codes()).toEqual(['DM_BUNDLE_HANDLER', 'DM_ZIP_FUNCTION']);
    expect(host.messages[1].data).toEqual({
      file: fn.zip.file, bytes: fn.zip.bytes, sha256: fn.zip.sha256, unzippedBytes: fn.unzippedBytes, handlerBytes: fn.handlerBytes, modelBytes: fn.modelBytes,
    });
  });

  it('ships the signature with the in-zip model path and no build-machine path', async () => {
    const fn = await buildFunctionArtifact({ modelPath, signature, outDir: join(work, 'f2'), handlerEntry: FIXTURE_HANDLER });
    const dest = join(work, 'f2-unzipped');
    await unzip(fn.zip.file, dest);
    const text = await readFile(join(dest, 'model', 'signature.json'), 'utf8');
    expect(JSON.parse(text)).toEqual({ ...signature, file: 'model/model.onnx' });
    expect(text).not.toContain(work);
    expect(text).not.toContain(tmpdir());
    expect(text).toBe(signatureJson(signature));
    expect((await readFile(join(dest, 'model', 'model.onnx'))).equals(await readFile(modelPath))).toBe(true);
  });

  it('is deterministic: the same model from another folder gives the same zip', async () => {
    // GIVEN the same model and external data copied elsewhere (so signature.file differs)
    const elsewhere = join(work, 'elsewhere', 'deeper');
    await mkdir(elsewhere, { recursive: true });
    await copyFile(modelPath, join(elsewhere, 'm.onnx'));
    await copyFile(join(modelDir, 'external-data.bin'), join(elsewhere, 'external-data.bin'));
    const moved = { ...signature, file: join(elsewhere, 'm.onnx') };

    const a = await buildFunctionArtifact({ modelPath, signature, outDir: join(work, 'd1'), handlerEntry: FIXTURE_HANDLER });
    const b = await buildFunctionArtifact({ modelPath: moved.file, signature: moved, outDir: join(work, 'd2'), handlerEntry: FIXTURE_HANDLER });
    expect(b.zip.sha256).toBe(a.zip.sha256);

    // AND one changed byte of external data changes it
    await writeFile(join(elsewhere, 'external-data.bin'), Buffer.from(new Float32Array([1, 2, 3, 5]).buffer));
    const c = await buildFunctionArtifact({ modelPath: moved.file, signature: moved, outDir: join(work, 'd3'), handlerEntry: FIXTURE_HANDLER });
    expect(c.zip.sha256).not.toBe(a.zip.sha256);
  });

  it('keeps external data at its relative path and refuses paths outside the model folder', async () => {
    await mkdir(join(modelDir, 'weights'), { recursive: true });
    await writeFile(join(modelDir, 'weights', 'w.bin'), 'w');
    const nested = { ...signature, externalData: ['external-data.bin', 'weights/w.bin'] };
    const fn = await buildFunctionArtifact({ modelPath, signature: nested, outDir: join(work, 'n'), handlerEntry: FIXTURE_HANDLER });
    expect(fn.files).toContain('model/weights/w.bin');

    await expect(buildFunctionArtifact({ modelPath, signature: { ...signature, externalData: ['../secret.bin'] }, outDir: join(work, 'x1'), handlerEntry: FIXTURE_HANDLER }))
      .rejects.toMatchObject({ code: 'FUNCTION_EXTERNAL_DATA_OUTSIDE' });
    await expect(buildFunctionArtifact({ modelPath, signature: { ...signature, externalData: ['missing.bin'] }, outDir: join(work, 'x2'), handlerEntry: FIXTURE_HANDLER }))
      .rejects.toMatchObject({ code: 'FUNCTION_EXTERNAL_DATA_NOT_FOUND' });
    await expect(buildFunctionArtifact({ modelPath: join(work, 'nope.onnx'), signature, outDir: join(work, 'x3'), handlerEntry: FIXTURE_HANDLER }))
      .rejects.toMatchObject({ code: 'FUNCTION_MODEL_NOT_FOUND' });
  });
});

describe('the function zip and the x86_64 layer, laid out as Lambda lays them out', () => {
  it('answers a v2 inference request through the real Lambda handler', async () => {
    // GIVEN the function built with the package's handler, and the layer, each unzipped as Lambda does
    const fn = await buildFunctionArtifact({ modelPath, signature, outDir: join(work, 'e2e-build') });
    const layer = await buildOrtLayer({ architecture: 'x86_64', outDir: join(work, 'e2e-layer'), cacheDir: LAYER_CACHE });
    const sandbox = await mkdtemp(join(tmpdir(), 'deploy-model-lambda-'));
    expect(nodeModulesAbove(sandbox)).toBeUndefined();
    const task = join(sandbox, 'task');
    const opt = join(sandbox, 'opt');
    await unzip(fn.zip.file, task);
    await unzip(layer.zip.file, opt);

    // WHEN a fresh node imports index.mjs with Lambda's NODE_PATH and invokes the handler directly
    const request = { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 1, 1, 1, 0, 0, 0, 0] }] };
    const script = `import(${JSON.stringify(pathToFileURL(join(task, 'index.mjs')).href)})`
      + `.then(async (m) => console.log(JSON.stringify(await m.handler(${JSON.stringify(request)}, {}))))`
      + '.catch((e) => { console.error(e); process.exit(1); });';
    const run = await runNode(['-e', script], {
      cwd: task,
      env: { NODE_PATH: join(opt, 'nodejs', 'node_modules'), LAMBDA_TASK_ROOT: task },
    });

    // THEN the model ran with its external data found beside it: y = x + [1, 2, 3, 4]
    expect(run.stderr).toBe('');
    const response = JSON.parse(run.stdout) as { outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(response.outputs).toEqual([expect.objectContaining({ name: 'y', shape: [2, 4], data: [2, 3, 4, 5, 1, 2, 3, 4] })]);
    await rm(sandbox, { recursive: true, force: true });
  }, 240_000);
});
