import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build as esbuild } from 'esbuild';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { build } from '../../../src/targets/react-native/build.js';
import { plan, type RnPlan } from '../../../src/targets/react-native/plan.js';
import { reactNativeTargetSchema } from '../../../src/targets/react-native/schema.js';
import { rnInput } from './_input.js';
import { makeModelDir, REAL_MODELS, removeModelDir, writeTinyModel } from '../../_helpers/onnx-models.js';
import { PACKAGE_TYPES, typecheck } from '../web/_typecheck.js';
import { mockOrtApi, writeReactNativeStub, type MockCalls } from './_mock-native-module.js';

// The generated package is checked as far as it can be without a device: tsc against
// onnxruntime-react-native's own types, and a run of onnxruntime-react-native's own JavaScript with
// its native module mocked by onnxruntime-node. The native build and on-device runs are not tested.

const modulesDir = fileURLToPath(new URL('../../../node_modules/', import.meta.url));

let dir: string;
let tiny: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dm-rn-'));
  tiny = await makeModelDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removeModelDir(tiny);
});

async function planFor(modelPath: string, target: Record<string, unknown> = {}): Promise<RnPlan> {
  return plan(rnInput(reactNativeTargetSchema.parse({ type: 'react-native', ...target }), await inspectModel(modelPath), 'demo'));
}

const content = (p: RnPlan, file: string) => (p.files.find((f) => f.path === file)!.source as { content: string }).content;

describe("the generated index.ts type-checks against onnxruntime-react-native's types", () => {
  for (const [label, model] of [
    ['silero VAD', async () => REAL_MODELS.sileroVad],
    ['PaddleOCR rec', async () => REAL_MODELS.rec],
    ['identity-string', () => writeTinyModel(tiny, 'identity-string')],
    ['identity-uint64', () => writeTinyModel(tiny, 'identity-uint64')],
  ] as const) {
    it(label, async () => {
      const p = await planFor(await model());
      const usage = [
        "import { createClient, modelAsset, MODEL } from './index.js';",
        'const id: number = modelAsset;',
        'const client = await createClient({ model: String(id), executionProviders: MODEL.executionProviders });',
        'await client.release();',
        '',
      ].join('\n');
      expect(typecheck({ 'index.ts': content(p, 'index.ts'), 'assets.d.ts': content(p, 'assets.d.ts'), 'usage.ts': usage }, {
        // React Native apps compile without the DOM library.
        lib: ['ES2022'], paths: { 'onnxruntime-react-native': PACKAGE_TYPES['onnxruntime-react-native'] },
      })).toEqual([]);
    });
  }
});

describe('the package run with the native module mocked by onnxruntime-node', () => {
  let mod: Record<string, any>;
  let outdir: string;
  const record: MockCalls = { calls: [] };

  beforeAll(async () => {
    // GIVEN the package, bundled the way Metro resolves it: onnxruntime-react-native from its
    // `react-native` field (its TypeScript sources), the model as an asset file.
    const p = await planFor(REAL_MODELS.sileroVad, { executionProviders: ['xnnpack', 'cpu'] });
    const built = await build(p, { outDir: path.join(dir, 'package') });
    outdir = path.join(dir, 'bundle');
    await esbuild({
      entryPoints: [path.join(built.dir, 'index.ts')], bundle: true, format: 'esm', platform: 'neutral', outdir,
      mainFields: ['react-native', 'module', 'main'], conditions: ['react-native'],
      alias: { 'react-native': writeReactNativeStub() }, loader: { '.onnx': 'file', '.ort': 'file' },
      nodePaths: [modulesDir], logLevel: 'silent',
    });
    (globalThis as { __deployModelMockOrtApi?: unknown }).__deployModelMockOrtApi = mockOrtApi(record);
    mod = await import(pathToFileURL(path.join(outdir, 'index.js')).href);
  });
  afterAll(() => {
    delete (globalThis as { __deployModelMockOrtApi?: unknown }).__deployModelMockOrtApi;
  });

  it("installs onnxruntime-react-native's native API, loads the asset, runs, and matches onnxruntime-node", async () => {
    // WHEN
    const client = await mod.createClient({ model: path.resolve(outdir, mod.modelAsset) });
    const chunk = new Float32Array(600).map((_, i) => Math.sin(i / 9) / 2);
    const view = chunk.subarray(40, 552); // a view into a larger buffer, as audio code makes them
    const outputs = await client.run({ input: { data: view, shape: [1, 512] }, state: { data: new Float32Array(256), shape: [2, 1, 128] }, sr: { data: [16000], shape: [] } });

    // THEN
    const session = await ort.InferenceSession.create(REAL_MODELS.sileroVad);
    const ref = await session.run({
      input: new ort.Tensor('float32', Float32Array.from(view), [1, 512]),
      state: new ort.Tensor('float32', new Float32Array(256), [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    await session.release();
    expect(mod.maxAbsDiff(outputs.output.data, ref.output!.data)).toBe(0);
    expect(mod.maxAbsDiff(outputs.stateN.data, ref.stateN!.data)).toBe(0);
    expect(outputs.stateN.shape).toEqual([2, 1, 128]);
    expect(record.calls).toEqual(['initOrtOnce(2)', 'loadModel(path, ["xnnpack","cpu"])', 'run(input, state, sr)']);
    expect(mod.MODEL).toMatchObject({ ortReactNativeVersion: '1.24.3', executionProviders: ['xnnpack', 'cpu'], file: 'assets/model.onnx' });
    await client.release();
  });

  it('drops, as onnxruntime-common does, an execution provider this platform lacks (coreml on Android)', async () => {
    record.calls.length = 0;
    const client = await mod.createClient({ model: path.resolve(outdir, mod.modelAsset), executionProviders: ['coreml', 'cpu'] });
    expect(record.calls).toEqual(['loadModel(path, ["cpu"])']);
    await client.release();
  });

  it('checks inputs before they reach the native side', async () => {
    const client = await mod.createClient({ model: path.resolve(outdir, mod.modelAsset) });
    await expect(client.run({ input: { data: [1, 2], shape: [1, 2] }, state: { data: new Float32Array(256), shape: [2, 1, 128] } }))
      .rejects.toThrow('input "sr" is missing; give { data, shape } for it');
    await client.release();
  });
});
