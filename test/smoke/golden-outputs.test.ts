// Golden outputs catch what they claim: a perturbed model, another version and an fp16 conversion fail with the right message; the honest candidate passes.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import type { ModelSignature } from '../../src/model/types.js';
import { compareOutputs } from '../../src/smoke/compare-outputs.js';
import { readGoldenOutputs, recordGoldenOutputs, writeGoldenOutputs, type GoldenOutputs } from '../../src/smoke/golden-outputs.js';
import { DEFAULT_TOLERANCES, numericsOf, toleranceFor, type Numerics } from '../../src/smoke/golden-tolerance.js';
import { runSmoke, type InferenceClient, type SmokeReference } from '../../src/smoke/run-smoke.js';
import { generateSmokeRequest, type V2Request } from '../../src/smoke/smoke-input.js';
import { encodeModel, floatBytes, makeModelDir, nodeProto, onnx, REAL_MODELS, removeModelDir, tensorInfo } from '../_helpers/onnx-models.js';

const T = onnx.TensorProto.DataType;
const SMOKE = { input: 'auto' as const, maxLatencyMs: 60_000, requests: 1 };

/** y = x · W + b (x float32 [batch, 4], W [4, 3]) and cls = argmax(y): a float output and an integer one. */
function linear(weights: number[], options: { fp16?: boolean } = {}): Uint8Array {
  const bias = [0.5, -0.25, 0.125];
  if (!options.fp16) {
    return encodeModel({
      nodes: [nodeProto('MatMul', ['x', 'W'], ['xw']), nodeProto('Add', ['xw', 'b'], ['y']), nodeProto('ArgMax', ['y'], ['cls'], [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }])],
      inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
      outputs: [tensorInfo('y', T.FLOAT, ['batch', 3]), tensorInfo('cls', T.INT64, ['batch', 1])],
      initializers: [{ name: 'W', dataType: T.FLOAT, dims: [4, 3], rawData: floatBytes(weights) }, { name: 'b', dataType: T.FLOAT, dims: [3], rawData: floatBytes(bias) }],
    });
  }
  // The same graph converted to fp16 inside, as a TensorRT fp16 engine runs it: fp32 in and out.
  return encodeModel({
    nodes: [
      nodeProto('Cast', ['x'], ['x16'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT16 }]),
      nodeProto('Cast', ['W'], ['W16'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT16 }]),
      nodeProto('Cast', ['b'], ['b16'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT16 }]),
      nodeProto('MatMul', ['x16', 'W16'], ['xw16']), nodeProto('Add', ['xw16', 'b16'], ['y16']),
      nodeProto('Cast', ['y16'], ['y'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }]),
      nodeProto('ArgMax', ['y'], ['cls'], [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }]),
    ],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 3]), tensorInfo('cls', T.INT64, ['batch', 1])],
    initializers: [{ name: 'W', dataType: T.FLOAT, dims: [4, 3], rawData: floatBytes(weights) }, { name: 'b', dataType: T.FLOAT, dims: [3], rawData: floatBytes(bias) }],
  });
}
const W1 = [0.31, -0.72, 0.45, 0.18, 0.93, -0.27, -0.56, 0.11, 0.84, 0.67, -0.39, 0.22];
/** Another version of the model: retrained weights, the same signature. */
const W2 = [0.29, -0.70, 0.47, 0.20, 0.90, -0.25, -0.58, 0.13, 0.81, 0.69, -0.41, 0.20];

/** The real PaddleOCR classifier with every float weight nudged by ±`fraction` of itself, signs alternating (a bad calibration, a corrupted upload). */
async function nudged(file: string, fraction: number): Promise<Uint8Array> {
  const model = onnx.ModelProto.decode(await readFile(file));
  // This model holds its weights in Constant nodes, not initializers.
  const tensors = [...model.graph!.initializer!, ...model.graph!.node!.flatMap((n) => (n.opType === 'Constant' ? n.attribute!.filter((a) => a.name === 'value' && a.t).map((a) => a.t!) : []))];
  for (const init of tensors) {
    if (init.dataType !== T.FLOAT || !init.rawData?.length) continue;
    const raw = init.rawData;
    const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    for (let i = 0; i < floats.length; i++) floats[i]! *= 1 + (i % 2 ? fraction : -fraction);
    init.rawData = new Uint8Array(floats.buffer);
  }
  return onnx.ModelProto.encode(model).finish();
}

let dir: string;
const cores: Array<{ close(): Promise<void> }> = [];

/** A candidate serving `file` with onnxruntime-node through the project's inference core: what the local, Lambda and container targets run. */
async function candidate(file: string): Promise<{ client: InferenceClient; signature: ModelSignature }> {
  const signature = await inspectModel(file);
  const core = await createInferenceCore({ modelPath: file, signature, modelName: 'candidate', log: () => undefined });
  cores.push(core);
  return { signature, client: async (request) => ({ status: 200, body: await core.infer(request as never), latencyMs: 1 }) };
}

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

function goldenReferences(golden: GoldenOutputs, numerics: Numerics, overrides = {}): SmokeReference[] {
  return golden.cases.map((c) => ({ source: 'onnxruntime-node', label: 'golden outputs', request: c.request, outputs: c.outputs, tolerance: toleranceFor(numerics, overrides), sendRequest: true }));
}

async function smokeAgainst(golden: GoldenOutputs, file: string, request: V2Request, numerics: Numerics = 'cpu-same-arch', overrides = {}) {
  const { client, signature } = await candidate(file);
  return runSmoke({ signature, smoke: SMOKE, request, client, golden: goldenReferences(golden, numerics, overrides) });
}

beforeAll(async () => {
  dir = await makeModelDir();
});
afterAll(async () => {
  for (const core of cores) await core.close();
  await removeModelDir(dir);
});

describe('golden outputs on a real model (PaddleOCR text direction classifier)', () => {
  const request = async () => generateSmokeRequest(await inspectModel(REAL_MODELS.cls), { x: { shape: [1, 3, 48, 192] } });

  it('the honest candidate passes, with its errors measured; a model with weights nudged by ±1 % fails naming the element and both values', async () => {
    // GIVEN golden outputs recorded from the real model
    const req = await request();
    const golden = await recordGoldenOutputs(await inspectModel(REAL_MODELS.cls), [req]);
    expect(golden.producer).toMatchObject({ runtime: 'onnxruntime-node', arch: expect.any(String) });
    // WHEN the same model serves
    const honest = await smokeAgainst(golden, REAL_MODELS.cls, req);
    // THEN
    expect(honest.status).toBe('passed');
    const check = honest.checks.find((c) => c.name.endsWith('matches golden outputs'))!;
    expect(check).toMatchObject({ passed: true, maxAbsError: expect.any(Number), maxRelError: expect.any(Number), tolerance: { abs: 1e-5, rel: 1e-4 } });
    expect(check.maxAbsError).toBeLessThanOrEqual(1e-5);
    // WHEN the nudged model serves
    const bad = await smokeAgainst(golden, await write('cls-nudged.onnx', await nudged(REAL_MODELS.cls, 0.01)), req);
    // THEN
    expect(bad.status).toBe('failed');
    const failed = bad.checks.filter((c) => !c.passed);
    expect(failed.map((c) => c.name)).toEqual([expect.stringMatching(/ matches golden outputs$/)]);
    expect(failed[0]!.message).toMatch(/^element \[0, \d\] is [-\d.e]+, the reference has [-\d.e]+: outside the tolerance \(abs 0\.00001 \+ rel 0\.0001\)/);
    expect(failed[0]!.element).toMatchObject({ position: [0, expect.any(Number)], expected: expect.any(Number), actual: expect.any(Number) });
  });
});

describe('golden outputs on a linear classifier: another version, an fp16 conversion, exact integer outputs, top-k', () => {
  let golden: GoldenOutputs;
  let request: V2Request;
  let v1: string;

  beforeAll(async () => {
    v1 = await write('v1.onnx', linear(W1));
    const signature = await inspectModel(v1);
    request = generateSmokeRequest(signature, { x: { shape: [8, 4] } });
    golden = await recordGoldenOutputs(signature, [request, { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 0, 0, 0] }] }]);
  });

  it('the golden file round-trips with a sha256 per case; an edited file is refused', async () => {
    const file = path.join(dir, 'golden.json');
    await writeGoldenOutputs(file, golden);
    expect(await readGoldenOutputs(file)).toEqual(golden);
    expect(golden.cases.map((c) => c.sha256)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/), expect.stringMatching(/^[0-9a-f]{64}$/)]);
    const edited = JSON.parse(await readFile(file, 'utf8'));
    edited.cases[1].outputs[0].data[0] += 1;
    await writeFile(file, JSON.stringify(edited));
    await expect(readGoldenOutputs(file)).rejects.toMatchObject({ code: 'GOLDEN_INVALID', message: expect.stringContaining('Case 2') });
  });

  it('the honest candidate passes both cases (the second sent on its own)', async () => {
    const result = await smokeAgainst(golden, v1, request);
    expect(result.checks.filter((c) => c.name.includes('golden')).map((c) => [c.name, c.passed])).toEqual([
      ['y matches golden outputs', true], ['cls matches golden outputs', true], ['y matches golden outputs', true], ['cls matches golden outputs', true],
    ]);
    expect(result.status).toBe('passed');
  });

  it('another version of the model fails on y; its argmax may agree, but a top-1 check and exact integers still read it', async () => {
    const result = await smokeAgainst(golden, await write('v2.onnx', linear(W2)), request, 'cpu-same-arch', { y: { topK: 1 } });
    expect(result.status).toBe('failed');
    const y = result.checks.find((c) => c.name === 'y matches golden outputs' && !c.passed)!;
    expect(y.message).toMatch(/^element \[\d, \d\] is [-\d.e]+, the reference has [-\d.e]+: outside the tolerance/);
    expect(y.maxAbsError).toBeGreaterThan(1e-3);
    // the top-1 check is there, passed or failed, with what it compared
    expect(result.checks.some((c) => c.name === 'y top-1 matches golden outputs')).toBe(true);
  });

  it('an fp16-converted model fails the CPU tolerance and passes the TensorRT fp16 one; its integer output is compared exactly', async () => {
    const fp16 = await write('v1-fp16.onnx', linear(W1, { fp16: true }));
    const strict = await smokeAgainst(golden, fp16, request, 'cpu-same-arch');
    expect(strict.status).toBe('failed');
    const y = strict.checks.find((c) => c.name === 'y matches golden outputs' && !c.passed)!;
    expect(y.message).toMatch(/outside the tolerance \(abs 0\.00001 \+ rel 0\.0001\)/);
    expect(y.maxAbsError).toBeGreaterThan(1e-5);
    expect(y.maxAbsError).toBeLessThan(DEFAULT_TOLERANCES['tensorrt-fp16'].abs);
    console.info(`fp16 conversion of the linear classifier against onnxruntime CPU fp32: max abs ${y.maxAbsError}, max rel ${y.maxRelError}`);
    const loose = await smokeAgainst(golden, fp16, request, 'tensorrt-fp16');
    expect(loose.checks.filter((c) => !c.passed)).toEqual([]);
    expect(loose.checks.find((c) => c.name === 'cls matches golden outputs')).toMatchObject({ passed: true, tolerance: { abs: 0, rel: 0 } });
  });
});

describe('compareOutputs and the tolerance of each target', () => {
  it('integers are exact whatever the float tolerance; a flipped class is named with both values', () => {
    const want = { outputs: [{ name: 'cls', datatype: 'INT64', shape: [2, 1], data: [2, 0] }] };
    const got = { outputs: [{ name: 'cls', datatype: 'INT64', shape: [2, 1], data: [2, 1] }] };
    const [c] = compareOutputs(want, got, () => ({ abs: 10, rel: 10 }));
    expect(c).toMatchObject({ passed: false, worst: { index: 1, position: [1, 0], expected: 0, actual: 1 }, tolerance: { abs: 0, rel: 0 } });
    expect(c!.message).toBe('element [1, 0] is 1, the reference has 0: outside the tolerance (exact); 1 of 2 values outside; max abs error 1.00e+0, max rel error 0');
  });

  it('top-k compares the classes along the last axis, row by row', () => {
    const want = { outputs: [{ name: 'p', datatype: 'FP32', shape: [2, 3], data: [0.1, 0.7, 0.2, 0.5, 0.3, 0.2] }] };
    const got = { outputs: [{ name: 'p', datatype: 'FP32', shape: [2, 3], data: [0.1, 0.7, 0.2, 0.3, 0.5, 0.2] }] };
    const out = compareOutputs(want, got, () => ({ abs: 1, rel: 0, topK: 1 }));
    expect(out.map((c) => [c.name, c.passed, c.message])).toEqual([
      ['p', true, 'max abs error 2.00e-1, max rel error 6.67e-1 within abs 1'],
      ['p top-1', false, 'row 1: top-1 classes [1], the reference has [0]'],
    ]);
  });

  it('each target kind gets its documented default', () => {
    expect(numericsOf({ type: 'local' })).toBe('cpu-same-arch');
    expect(numericsOf({ type: 'aws-lambda', architecture: 'arm64' }, ['cpu'], 'x86_64')).toBe('cpu-other-arch');
    expect(numericsOf({ type: 'aws-lambda', architecture: 'x86_64' }, ['cpu'], 'x86_64')).toBe('cpu-same-arch');
    expect(numericsOf({ type: 'aws-sagemaker' })).toBe('tensorrt-fp16');
    expect(numericsOf({ type: 'gcp-vertex', engine: 'tensorrt', precision: 'int8' })).toBe('int8');
    expect(numericsOf({ type: 'azure-ml', engine: 'onnxruntime' })).toBe('cuda');
    expect(numericsOf({ type: 'azure-ml', engine: 'tensorrt', precision: 'fp32' })).toBe('cuda');
    expect(numericsOf({ type: 'container', engine: 'triton', triton: { precision: 'fp16' } })).toBe('tensorrt-fp16');
    expect(numericsOf({ type: 'container', engine: 'openvino' })).toBe('cpu-other-arch');
    expect(numericsOf({ type: 'container', platforms: ['linux/amd64', 'linux/arm64'] }, ['cpu'], 'x86_64')).toBe('cpu-other-arch');
    expect(numericsOf({ type: 'web' })).toBe('cpu-other-arch');
    expect(numericsOf({ type: 'container' }, ['cuda', 'cpu'])).toBe('cuda');
    expect(toleranceFor('cuda', { y: { rel: 0.5, topK: 5 } })({ name: 'y' })).toEqual({ abs: 1e-3, rel: 0.5, topK: 5 });
  });

  it('the README documents every default tolerance', async () => {
    const readme = await readFile(path.resolve(__dirname, '../../README.md'), 'utf8');
    for (const [numerics, { abs, rel }] of Object.entries(DEFAULT_TOLERANCES)) {
      expect(readme).toMatch(new RegExp(`\\| \`${numerics}\` \\|[^\\n]*\\| ${abs} \\| ${rel} \\|`));
    }
  });
});
