import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PAGE_SCRIPT } from '../../../src/targets/web/_page-script.js';
import { makeModelDir, REAL_MODELS, removeModelDir, writeTinyModel, type TinyModelKind } from '../../_helpers/onnx-models.js';
import { generated, planFor } from './_bundle.js';
import { PACKAGE_TYPES, typecheck } from './_typecheck.js';

let dir: string;
let tiny: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dm-web-client-'));
  tiny = await makeModelDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removeModelDir(tiny);
});

/** The plan's client.js, written where it can be imported; its module. */
async function importClient(source: string, name: string): Promise<Record<string, any>> {
  const file = path.join(dir, `${name}-client.mjs`);
  await writeFile(file, source);
  return import(pathToFileURL(file).href);
}

const compat = [
  "import * as ort from 'onnxruntime-web';",
  "import type { OrtModule } from './client.js';",
  '// The real onnxruntime-web satisfies the structural API the client is written against.',
  'export const m: OrtModule = ort;',
  '',
].join('\n');

describe('the generated client and page type-check (tsc, strict, DOM)', () => {
  const models: [string, () => Promise<string>][] = [
    ['PaddleOCR cls', async () => REAL_MODELS.cls],
    ['PaddleOCR det', async () => REAL_MODELS.det],
    ['silero VAD (int64 scalar input)', async () => REAL_MODELS.sileroVad],
    ['openWakeWord (fixed dims)', async () => REAL_MODELS.helloDeepa],
    ...(['identity-string', 'identity-bool', 'identity-float16', 'identity-uint64', 'unknown-rank', 'if-subgraph'] as TinyModelKind[])
      .map((k): [string, () => Promise<string>] => [k, () => writeTinyModel(tiny, k)]),
  ];
  for (const [label, model] of models) {
    it(label, async () => {
      // GIVEN
      const { plan } = await planFor(await model(), {}, { shapes: label === 'unknown-rank' ? { x: [2] } : {} });

      // WHEN
      const diagnostics = typecheck({ 'client.ts': plan.clientSource, 'app.ts': PAGE_SCRIPT, 'compat.ts': compat }, { paths: { 'onnxruntime-web': PACKAGE_TYPES['onnxruntime-web'] } });

      // THEN
      expect(diagnostics).toEqual([]);
    });
  }

  it("rejects, at compile time, an input of the wrong rank, a missing input and a fixed dim's wrong size", async () => {
    const { plan } = await planFor(REAL_MODELS.sileroVad);
    const wrong = [
      "import { createClient } from './client.js';",
      'const client = await createClient();',
      "await client.run({ input: { data: [1], shape: [1, 1, 1] }, state: { data: new Float32Array(256), shape: [2, 1, 128] }, sr: { data: [16000n], shape: [] } });",
      "await client.run({ input: { data: [1], shape: [1, 1] }, sr: { data: [16000], shape: [] } });",
      "await client.run({ input: { data: [1], shape: [1, 1] }, state: { data: new Float32Array(256), shape: [3, 1, 128] }, sr: { data: [16000], shape: [] } });",
      '',
    ].join('\n');
    const diagnostics = typecheck({ 'client.ts': plan.clientSource, 'wrong.ts': wrong });
    expect(diagnostics).toEqual([
      expect.stringMatching(/^wrong\.ts\(3,\d+\): Type '\[number, number, number\]' is not assignable to type 'readonly \[number, number\]'/),
      expect.stringMatching(/^wrong\.ts\(4,\d+\): Argument of type .*\n\s*Property '"state"' is missing/),
      expect.stringMatching(/^wrong\.ts\(5,\d+\): Type '3' is not assignable to type '2'/),
    ]);
  });
});

describe("the generated client on onnxruntime-web's WASM backend in Node, against onnxruntime-node", () => {
  async function bothRuntimes(modelPath: string, feeds: Record<string, { data: any; shape: number[]; type: ortNode.Tensor.Type }>) {
    const { plan } = await planFor(modelPath);
    const mod = await importClient(generated(plan, 'client.js'), path.basename(modelPath));
    ortWeb.env.wasm.numThreads = 1;
    const client = await mod.createClient({ ort: ortWeb, model: new Uint8Array(await readFile(modelPath)) });
    const outputs = await client.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: v.data, shape: v.shape }])));
    await client.release();
    const session = await ortNode.InferenceSession.create(modelPath);
    const reference = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ortNode.Tensor(v.type as 'float32', v.data as Float32Array, v.shape)])));
    await session.release();
    return { mod, client, outputs, reference };
  }
  const image = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000);

  for (const [label, model, shape, tolerance] of [
    ['PaddleOCR cls at 48x192: bit-identical', REAL_MODELS.cls, [1, 3, 48, 192], 1e-6],
    ['PaddleOCR det at 320x320: within 1e-4', REAL_MODELS.det, [1, 3, 320, 320], 1e-4],
  ] as const) {
    it(label, async () => {
      const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
      const { mod, client, outputs, reference } = await bothRuntimes(model, { x: { data: image(n), shape: [...shape], type: 'float32' } });
      const name = Object.keys(reference)[0]!;
      expect(client.backend).toBe('wasm');
      expect(outputs[name].shape).toEqual(reference[name]!.dims);
      expect(mod.maxAbsDiff(outputs[name].data, reference[name]!.data)).toBeLessThanOrEqual(tolerance);
    }, 120_000);
  }

  it('silero VAD: float32, state and an int64 scalar given as a number', async () => {
    const chunk = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i / 10) / 2);
    const { mod, outputs, reference } = await bothRuntimes(REAL_MODELS.sileroVad, {
      input: { data: chunk, shape: [1, 512], type: 'float32' },
      state: { data: new Float32Array(256), shape: [2, 1, 128], type: 'float32' },
      sr: { data: BigInt64Array.from([16000n]), shape: [], type: 'int64' },
    });
    for (const name of ['output', 'stateN']) expect(mod.maxAbsDiff(outputs[name].data, reference[name]!.data)).toBeLessThanOrEqual(1e-6);
    // The same numbers through v2 JSON, as the page and the smoke test see them.
    const v2 = mod.outputsToV2(outputs);
    expect(v2.outputs.map((o: { name: string; datatype: string; shape: number[] }) => [o.name, o.datatype, o.shape])).toEqual([['output', 'FP32', [1, 1]], ['stateN', 'FP32', [2, 1, 128]]]);
  }, 60_000);

  it('says which input is wrong, the rule and the fix', async () => {
    const { plan } = await planFor(REAL_MODELS.sileroVad);
    const mod = await importClient(generated(plan, 'client.js'), 'errors');
    const client = await mod.createClient({ ort: ortWeb, model: new Uint8Array(await readFile(REAL_MODELS.sileroVad)) });
    const state = { data: new Float32Array(256), shape: [2, 1, 128] };
    const sr = { data: [16000], shape: [] };
    await expect(client.run({ input: { data: [1, 2], shape: [1, 3] }, state, sr })).rejects.toThrow('input "input" has 2 values but its shape [1, 3] needs 3');
    await expect(client.run({ input: { data: [1, 2], shape: [1, 2] }, state: { data: new Float32Array(128), shape: [2, 1, 64] }, sr }))
      .rejects.toThrow('input "state": dim 2 is 64 but the model fixes it to 128 [2, batch, 128]; use 128');
    await expect(client.run({ input: { data: [1, 2], shape: [2, 1] }, state, sr }))
      .rejects.toThrow('input "state": dim 1 ("batch") is 1 but input "input" gave "batch" = 2; a named dim has one size across inputs');
    await expect(client.run({ input: { data: [1, 2], shape: [1, 2] }, state, sr: { data: [1.5], shape: [] } }))
      .rejects.toThrow(/input "sr" \(int64\): .*give integers for integer types/);
    await expect(client.run({ input: { data: [1, 2], shape: [1, 2] }, state, sr, extra: { data: [1], shape: [1] } }))
      .rejects.toThrow('input "extra" is not an input of the model; its inputs are input, state, sr');
    await expect(client.run({ input: { data: [1, 2], shape: [1, 2] }, state })).rejects.toMatchObject({ name: 'ModelInputError', input: 'sr' });
    await client.release();
  });

  it('copies a typed array that is a view into a larger buffer instead of passing its buffer', async () => {
    const { plan } = await planFor(await writeTinyModel(tiny, 'add'));
    const mod = await importClient(generated(plan, 'client.js'), 'view');
    const client = await mod.createClient({ ort: ortWeb, model: new Uint8Array(await readFile(path.join(tiny, 'add.onnx'))) });
    const big = Float32Array.from([9, 9, 10, 20, 30, 40, 9]);
    const out = await client.run({ x: { data: big.subarray(2, 6), shape: [1, 4] } });
    expect(Array.from(out.y.data)).toEqual([11, 22, 33, 44]);
    await client.release();
  });
});

// No GPU here, and onnxruntime-web's WebGPU backend does not run in Node: the browser test runs
// WebGPU for real on Chromium's software adapter (browser.test.ts). These tests drive the client's
// decision itself: the adapter is `navigator.gpu` as the page sees it, and a "WebGPU" session is a
// real onnxruntime-web WASM session whose outputs can be made wrong, as a WebGPU session's were
// when it loaded an fp16 model and silently returned all zeros.
describe('WebGPU (experimental) is trusted only after the adapter and the outputs are checked', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  /** navigator.gpu with one adapter having `features`. */
  function stubAdapter(features: string[]) {
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({ features: new Set(features) }) } });
  }

  /** onnxruntime-web, whose 'webgpu' sessions are WASM sessions that answer zeros when `zeros`. */
  function webgpuStandIn(zeros: boolean): { ort: typeof ortWeb; created: string[][] } {
    const created: string[][] = [];
    const ort = {
      ...ortWeb,
      InferenceSession: {
        async create(model: Uint8Array, options: ortWeb.InferenceSession.SessionOptions = {}) {
          const eps = (options.executionProviders ?? []).map(String);
          created.push(eps);
          const session = await ortWeb.InferenceSession.create(model, { ...options, executionProviders: ['wasm'] });
          if (!eps.includes('webgpu') || !zeros) return session;
          return {
            inputNames: session.inputNames, outputNames: session.outputNames, release: () => session.release(),
            async run(feeds: ortWeb.InferenceSession.FeedsType) {
              const results = await session.run(feeds);
              return Object.fromEntries(Object.entries(results).map(([k, t]) => [k, new ortWeb.Tensor('float32', new Float32Array(t.size), t.dims)]));
            },
          };
        },
      },
    } as unknown as typeof ortWeb;
    return { ort, created };
  }

  async function webgpuClient(kind: TinyModelKind) {
    const file = await writeTinyModel(tiny, kind);
    const { plan } = await planFor(file, { webgpu: true });
    return { mod: await importClient(generated(plan, 'client.js'), `webgpu-${kind}`), model: new Uint8Array(await readFile(file)) };
  }
  const verify = { inputs: { x: { data: [1, 2, 3, 4], shape: [1, 4] } } };

  it("falls back to WASM, saying why, when the model has float16 tensors and the adapter lacks 'shader-f16'", async () => {
    const { mod, model } = await webgpuClient('identity-float16');
    stubAdapter([]);
    const { ort, created } = webgpuStandIn(false);
    const client = await mod.createClient({ ort, model });
    expect(client.backend).toBe('wasm');
    expect(client.fallbackReason).toBe("the model has float16 tensors and the WebGPU adapter lacks the 'shader-f16' feature");
    // No WebGPU session was even tried.
    expect(created).toEqual([['wasm']]);
    await client.release();
    await expect(mod.createClient({ ort, model, backend: 'webgpu' })).rejects.toThrow(/^WebGPU was required \(backend: "webgpu"\) but the model has float16 tensors/);
  });

  it('falls back to WASM when there is no WebGPU or no adapter', async () => {
    const { mod, model } = await webgpuClient('add');
    const { ort } = webgpuStandIn(false);
    for (const [navigator, reason] of [
      [{}, 'this browser has no WebGPU (navigator.gpu is undefined)'],
      [{ gpu: { requestAdapter: async () => null } }, 'the browser found no WebGPU adapter'],
    ] as const) {
      vi.stubGlobal('navigator', navigator);
      const client = await mod.createClient({ ort, model, verify });
      expect([client.backend, client.fallbackReason]).toEqual(['wasm', reason]);
      await client.release();
    }
  });

  it("refuses a WebGPU session whose outputs differ from WASM's on the check inputs, and runs on WASM", async () => {
    const { mod, model } = await webgpuClient('add');
    stubAdapter(['shader-f16']);
    const { ort, created } = webgpuStandIn(true);
    const client = await mod.createClient({ ort, model, verify });
    expect(client.backend).toBe('wasm');
    expect(client.fallbackReason).toMatch(/^WebGPU output "y" differs from WASM by \d+(\.\d+)? \(tolerance 0\.0001\)$/);
    expect(created).toEqual([['webgpu'], ['wasm'], ['wasm']]);
    // The answers come from WASM: y = x + bias, not zeros.
    const out = await client.run(verify.inputs);
    expect(Array.from(out.y.data as Float32Array).some((v) => v !== 0)).toBe(true);
    await client.release();
  });

  it('uses WebGPU once its outputs match WASM on the check inputs, and not without check inputs', async () => {
    const { mod, model } = await webgpuClient('add');
    stubAdapter(['shader-f16']);
    const { ort } = webgpuStandIn(false);
    const trusted = await mod.createClient({ ort, model, verify });
    expect(trusted.backend).toBe('webgpu');
    expect(trusted.fallbackReason).toBeUndefined();
    await trusted.release();
    const unchecked = await mod.createClient({ ort, model });
    expect(unchecked.backend).toBe('wasm');
    expect(unchecked.fallbackReason).toBe('no inputs to check WebGPU against WASM were given (ClientOptions.verify)');
    await unchecked.release();
  });
});
