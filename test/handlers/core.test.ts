import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import { InferenceError } from '../../handlers/core/inference-error.js';
import type { InferenceCore, V2InferenceRequest, V2RequestTensor } from '../../handlers/core/types.js';
import { unflatten } from '../../handlers/core/nested.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import { constantOfShapeModelBytes, gatherModelBytes } from '../_helpers/onnx-models.js';
import { floats, MODEL_KEYS, MODELS, runDirect, signatureOf, validInput, wire, type ModelKey } from './_models.js';

const cores = new Map<ModelKey, InferenceCore>();
const core = (key: ModelKey) => cores.get(key)!;

beforeAll(async () => {
  for (const key of MODEL_KEYS) {
    cores.set(key, await createInferenceCore({ modelPath: MODELS[key].path, signature: await signatureOf(key), modelName: key, log: () => {} }));
  }
});

afterAll(async () => {
  for (const c of cores.values()) await c.close();
});

/** Asserts the call fails with this status and code, and that the message names `name`. */
async function expectError(call: Promise<unknown>, status: number, code: string, name?: string): Promise<InferenceError> {
  const err = await call.then(() => { throw new Error(`expected ${code}, but the call succeeded`); }, (e: unknown) => e);
  expect(err).toBeInstanceOf(InferenceError);
  const e = err as InferenceError;
  expect({ status: e.status, code: e.code }).toEqual({ status, code });
  if (name !== undefined) expect(e.message).toContain(`"${name}"`);
  // The Open Inference Protocol's error body, with our code beside it.
  expect(e.body).toEqual({ error: e.message, code });
  return e;
}

describe('inference on the real models', () => {
  it.each(MODEL_KEYS)('%s: outputs equal onnxruntime-node run directly on the same input', async (key) => {
    // GIVEN a valid input built from the signature
    const { tensors, feeds } = await validInput(key);
    // WHEN the core runs it as a JSON request
    const response = await core(key).infer(wire({ id: `req-${key}`, inputs: tensors }));
    // THEN every output equals the direct run, value for value
    const direct = await runDirect(key, feeds);
    const signature = await signatureOf(key);
    expect(response.model_name).toBe(key);
    expect(response.model_version).toBe('1');
    expect(response.id).toBe(`req-${key}`);
    expect(response.outputs.map((o) => o.name)).toEqual(signature.outputs.map((o) => o.name));
    for (const out of response.outputs) {
      expect(out.datatype).toBe('FP32');
      expect(out.shape).toEqual([...direct[out.name].dims]);
      expect(out.data).toEqual(direct[out.name].data);
    }
  });

  it('metadata lists inputs and outputs with v2 datatypes and -1 for dynamic dims', () => {
    expect(core('cls').metadata()).toEqual({
      name: 'cls', versions: ['1'], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }],
      outputs: [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [-1, 2] }],
    });
    expect(core('vad').metadata().inputs).toEqual([
      { name: 'input', datatype: 'FP32', shape: [-1, -1] },
      { name: 'state', datatype: 'FP32', shape: [2, -1, 128] },
      { name: 'sr', datatype: 'INT64', shape: [] },
    ]);
  });

  it('returns only the requested outputs', async () => {
    const { tensors, feeds } = await validInput('vad');
    const response = await core('vad').infer({ inputs: tensors, outputs: [{ name: 'stateN' }] });
    expect(response.outputs.map((o) => o.name)).toEqual(['stateN']);
    expect(response.outputs[0].data).toEqual((await runDirect('vad', feeds)).stateN.data);
  });

  it('accepts nested row-major data', async () => {
    const { tensors, feeds } = await validInput('wakeword');
    const nested = tensors.map((t) => ({ ...t, data: unflatten(t.data as number[], t.shape) }));
    const response = await core('wakeword').infer(wire({ inputs: nested }));
    expect(response.outputs[0].data).toEqual((await runDirect('wakeword', feeds))['39'].data);
  });
});

describe('int64 carried exactly', () => {
  it.each([
    ['a JSON number', 16000],
    ['a decimal string', '16000'],
  ])("silero's int64 scalar sr as %s gives the direct run's outputs", async (_label, sr) => {
    const { tensors, feeds } = await validInput('vad');
    const inputs = tensors.map((t) => (t.name === 'sr' ? { ...t, data: [sr] } : t));
    const response = await core('vad').infer(wire({ inputs }));
    const direct = await runDirect('vad', feeds);
    expect(response.outputs.find((o) => o.name === 'output')!.data).toEqual(direct.output.data);
    expect(response.outputs.find((o) => o.name === 'stateN')!.data).toEqual(direct.stateN.data);
  });
});

describe('base64 tensors', () => {
  it('det: a base64 input and base64 outputs equal the direct run', async () => {
    // GIVEN the det input as little-endian float32 bytes
    const { feeds } = await validInput('det');
    const x = feeds.x.data as Float32Array;
    const request: V2InferenceRequest = {
      inputs: [{ name: 'x', shape: MODELS.det.shapes.x, datatype: 'FP32', data: Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64'), parameters: { content_encoding: 'base64' } }],
      parameters: { output_encoding: 'base64' },
    };
    // WHEN it runs with output_encoding base64
    const response = await core('det').infer(wire(request));
    // THEN the output is base64 of the same float32 bytes the direct run returns
    const direct = await runDirect('det', feeds);
    const out = response.outputs[0];
    expect(out.parameters).toEqual({ content_encoding: 'base64' });
    expect(out.shape).toEqual([...direct['sigmoid_0.tmp_0'].dims]);
    const bytes = Buffer.from(out.data as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(direct['sigmoid_0.tmp_0'].data);
  });

  it('det: a base64 input with JSON outputs equals the direct run', async () => {
    const { tensors, feeds } = await validInput('det');
    const x = feeds.x.data as Float32Array;
    const b64 = Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
    const response = await core('det').infer({ inputs: [{ ...tensors[0], data: b64, parameters: { content_encoding: 'base64' } }] });
    expect(response.outputs[0].data).toEqual((await runDirect('det', feeds))['sigmoid_0.tmp_0'].data);
  });

  it('rejects base64 of the wrong length, naming the byte counts', async () => {
    const data = Buffer.alloc(12).toString('base64');
    const e = await expectError(core('det').infer({ inputs: [{ name: 'x', shape: [1, 3, 32, 32], datatype: 'FP32', data, parameters: { content_encoding: 'base64' } }] }), 400, 'DATA_SIZE_MISMATCH', 'x');
    expect(e.message).toContain('12 bytes');
    expect(e.message).toContain(String(3 * 32 * 32 * 4));
  });

  it('rejects data that is not base64', async () => {
    await expectError(core('cls').infer({ inputs: [{ name: 'x', shape: [1, 3, 1, 1], datatype: 'FP32', data: 'not*base64!!', parameters: { content_encoding: 'base64' } }] }), 400, 'INVALID_DATA', 'x');
    await expectError(core('cls').infer({ inputs: [{ name: 'x', shape: [1, 3, 1, 1], datatype: 'FP32', data: [1, 2, 3], parameters: { content_encoding: 'base64' } }] }), 400, 'INVALID_DATA', 'x');
  });

  it('rejects an unknown content_encoding and output_encoding', async () => {
    await expectError(core('cls').infer({ inputs: [{ name: 'x', shape: [1, 3, 1, 1], datatype: 'FP32', data: [1, 2, 3], parameters: { content_encoding: 'hex' } }] }), 400, 'UNSUPPORTED_ENCODING', 'x');
    const e = await expectError(core('cls').infer({ inputs: [{ name: 'x', shape: [1, 3, 1, 1], datatype: 'FP32', data: [1, 2, 3] }], parameters: { output_encoding: 'hex' } }), 400, 'UNSUPPORTED_ENCODING');
    expect(e.message).toContain('output_encoding');
  });
});

describe('the simple form { inputName: nestedArray }', () => {
  it('cls: shape from the nesting, datatype from the signature', async () => {
    const { feeds } = await validInput('cls');
    const nested = unflatten(feeds.x.data as Float32Array, MODELS.cls.shapes.x);
    const response = await core('cls').infer(wire({ inputs: { x: nested } }));
    expect(response.outputs[0].shape).toEqual([1, 2]);
    expect(response.outputs[0].data).toEqual((await runDirect('cls', feeds))['softmax_0.tmp_0'].data);
  });

  it('vad: three inputs, the int64 scalar as a bare number', async () => {
    const { feeds } = await validInput('vad');
    const inputs = {
      input: unflatten(feeds.input.data as Float32Array, [1, 512]),
      state: unflatten(new Float32Array(256), [2, 1, 128]),
      sr: 16000,
    };
    const response = await core('vad').infer(wire({ inputs }));
    expect(response.outputs[0].data).toEqual((await runDirect('vad', feeds)).output.data);
  });

  it('rejects a ragged array, naming the input', async () => {
    const e = await expectError(core('cls').infer({ inputs: { x: [[[[1, 2]], [[3]], [[4, 5]]]] } }), 400, 'RAGGED_ARRAY', 'x');
    expect(e.message).toContain('[0][1]');
  });

  it('rejects an unknown input name', async () => {
    await expectError(core('cls').infer({ inputs: { y: [1] } }), 400, 'UNKNOWN_INPUT', 'y');
  });

  it('rejects nesting deeper than the model\'s rank before walking it', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 50_000; i++) deep = [deep];
    await expectError(core('cls').infer({ inputs: { x: deep } }), 400, 'INPUT_RANK_MISMATCH', 'x');
  });
});

describe('request validation, before onnxruntime runs', () => {
  const x = (over: Partial<V2RequestTensor> = {}): V2RequestTensor => ({ name: 'x', shape: [1, 3, 2, 2], datatype: 'FP32', data: Array.from(floats(12)), ...over });

  it('an unknown input name: 400 UNKNOWN_INPUT', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x(), x({ name: 'bogus' })] }), 400, 'UNKNOWN_INPUT', 'bogus');
    expect(e.message).toContain('"x"');
  });

  it('a missing input: 400 MISSING_INPUT', async () => {
    const { tensors } = await validInput('vad');
    await expectError(core('vad').infer({ inputs: tensors.filter((t) => t.name !== 'state') }), 400, 'MISSING_INPUT', 'state');
  });

  it('a duplicate input: 400 DUPLICATE_INPUT', async () => {
    await expectError(core('cls').infer({ inputs: [x(), x()] }), 400, 'DUPLICATE_INPUT', 'x');
  });

  it('a datatype mismatch names both datatypes: 400 DATATYPE_MISMATCH', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x({ datatype: 'FP64' })] }), 400, 'DATATYPE_MISMATCH', 'x');
    expect(e.message).toContain('FP64');
    expect(e.message).toContain('FP32');
  });

  it('a datatype that is not a v2 name: 400 UNSUPPORTED_DATATYPE', async () => {
    await expectError(core('cls').infer({ inputs: [x({ datatype: 'FLOAT' })] }), 400, 'UNSUPPORTED_DATATYPE', 'x');
  });

  it('a rank mismatch: 400 INPUT_RANK_MISMATCH', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x({ shape: [3, 2, 2] })] }), 400, 'INPUT_RANK_MISMATCH', 'x');
    expect(e.message).toContain('rank 3');
    expect(e.message).toContain('rank 4');
  });

  it('a fixed dim that differs names the dim, expected and got: 400 INPUT_SHAPE_MISMATCH', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x({ shape: [1, 4, 3, 1], data: Array.from(floats(12)) })] }), 400, 'INPUT_SHAPE_MISMATCH', 'x');
    expect(e.message).toContain('dim 1 must be 3, got 4');
  });

  it('a shape that is not non-negative integers: 400 INVALID_SHAPE', async () => {
    await expectError(core('cls').infer({ inputs: [x({ shape: [1, 3, -2, 2] })] }), 400, 'INVALID_SHAPE', 'x');
    await expectError(core('cls').infer({ inputs: [x({ shape: '1,3,2,2' as never })] }), 400, 'INVALID_SHAPE', 'x');
  });

  it('an element count that is not the product of the shape: 400 DATA_SIZE_MISMATCH', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x({ data: Array.from(floats(11)) })] }), 400, 'DATA_SIZE_MISMATCH', 'x');
    expect(e.message).toContain('11 elements');
    expect(e.message).toContain('needs 12');
  });

  it('nested data that does not follow the shape: 400 DATA_SHAPE_MISMATCH', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x({ data: [[[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10, 11, 12]]]] })] }), 400, 'DATA_SHAPE_MISMATCH', 'x');
    expect(e.message).toContain('at [0][2]: dim 2 has 1 entries, expected 2');
  });

  it('data that is not an array: 400 INVALID_DATA', async () => {
    await expectError(core('cls').infer({ inputs: [x({ data: 'abc' })] }), 400, 'INVALID_DATA', 'x');
    await expectError(core('cls').infer({ inputs: [x({ data: { 0: 1 } })] }), 400, 'INVALID_DATA', 'x');
  });

  it.each([
    ['a string', 'abc'],
    ['null', null],
    ['a boolean', true],
    ['an object', { v: 1 }],
    ['a lower-case nan', 'nan'],
  ])('float data containing %s: 400 INVALID_VALUE naming the element', async (_label, bad) => {
    const data: unknown[] = Array.from(floats(12));
    data[5] = bad;
    const e = await expectError(core('cls').infer({ inputs: [x({ data })] }), 400, 'INVALID_VALUE', 'x');
    expect(e.message).toContain('element 5');
  });

  it('an unknown requested output: 400 UNKNOWN_OUTPUT', async () => {
    const e = await expectError(core('cls').infer({ inputs: [x()], outputs: [{ name: 'logits' }] }), 400, 'UNKNOWN_OUTPUT', 'logits');
    expect(e.message).toContain('"softmax_0.tmp_0"');
  });

  it('a request that is not an object with inputs: 400 INVALID_REQUEST', async () => {
    for (const body of [null, 'x', [], {}, { inputs: 5 }, { inputs: [5] }, { inputs: [x()], id: 7 }, { inputs: [x()], outputs: 'all' }]) {
      await expectError(core('cls').infer(body as never), 400, 'INVALID_REQUEST');
    }
  });

  it("values a kernel refuses are the client's: 400 INPUT_VALUES_REJECTED with onnxruntime's message", async () => {
    // det's graph cannot broadcast a width of 7 (it needs multiples of 32)
    const e = await expectError(core('det').infer({ inputs: [{ name: 'x', shape: [1, 3, 48, 7], datatype: 'FP32', data: Array.from(floats(3 * 48 * 7)) }] }), 400, 'INPUT_VALUES_REJECTED');
    expect(e.message).toMatch(/^the model refused the input values: its \S+ node '[^']+' says: .*broadcast/i);
    // an id outside the table
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-kernel-'));
    try {
      const gather = path.join(dir, 'gather.onnx');
      await writeFile(gather, gatherModelBytes());
      const g = await createInferenceCore({ modelPath: gather, signature: await inspectModel(gather), modelName: 'g' });
      try {
        const refused = await expectError(g.infer({ inputs: [{ name: 'ids', shape: [2], datatype: 'INT64', data: [1, 7] }] }), 400, 'INPUT_VALUES_REJECTED');
        expect(refused.message).toBe("the model refused the input values: its Gather node 'Gather_y' says: indices element out of data bounds, idx=7 must be within the inclusive range [-3,2]");
        expect((await g.infer({ inputs: [{ name: 'ids', shape: [2], datatype: 'INT64', data: [1, -3] }] })).outputs[0]!.data).toEqual([3, 4, 1, 2]);
      } finally {
        await g.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a kernel that fails for want of memory is the server\'s: 500 INFERENCE_FAILED', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-kernel-'));
    try {
      const file = path.join(dir, 'zeros.onnx');
      await writeFile(file, constantOfShapeModelBytes());
      const z = await createInferenceCore({ modelPath: file, signature: await inspectModel(file), modelName: 'z' });
      try {
        const e = await expectError(z.infer({ inputs: [{ name: 'n', shape: [1], datatype: 'INT64', data: [2 ** 40] }] }), 500, 'INFERENCE_FAILED');
        expect(e.message).toContain('Failed to allocate memory');
      } finally {
        await z.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('creating the core', () => {
  it('falls back when an execution provider cannot load, logging once what failed and what is used', async () => {
    const lines: string[] = [];
    const c = await createInferenceCore({ modelPath: MODELS.wakeword.path, signature: await signatureOf('wakeword'), modelName: 'w', executionProviders: ['tensorrt', 'cuda', 'cpu'], log: (l) => lines.push(l) });
    try {
      if (c.executionProviders.includes('cuda')) return; // a machine with CUDA: nothing fell back
      expect(c.executionProviders).toEqual(['cpu']);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('"tensorrt"');
      expect(lines[0]).toContain('"cuda"');
      expect(lines[0]).toContain('running on [cpu]');
      const { tensors } = await validInput('wakeword');
      expect((await c.infer({ inputs: tensors })).outputs).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it('falls back to cpu when only an unavailable provider is listed', async () => {
    const lines: string[] = [];
    const c = await createInferenceCore({ modelPath: MODELS.wakeword.path, signature: await signatureOf('wakeword'), modelName: 'w', executionProviders: ['cuda'], intraOpThreads: 1, log: (l) => lines.push(l) });
    await c.close();
    if (!lines.length) return;
    expect(c.executionProviders).toEqual(['cpu']);
  });

  it('a model that cannot be loaded: 500 MODEL_LOAD_FAILED naming the file', async () => {
    const e = await expectError(createInferenceCore({ modelPath: 'no/such/model.onnx', signature: await signatureOf('cls'), modelName: 'm', log: () => {} }), 500, 'MODEL_LOAD_FAILED');
    expect(e.message).toContain('no/such/model.onnx');
  });

  it('a signature of another model: 500 SIGNATURE_MISMATCH', async () => {
    const e = await expectError(createInferenceCore({ modelPath: MODELS.cls.path, signature: await signatureOf('vad'), modelName: 'm', log: () => {} }), 500, 'SIGNATURE_MISMATCH');
    expect(e.message).toContain('rebuild the signature');
  });

  it('after close, infer answers 503 NOT_READY', async () => {
    const c = await createInferenceCore({ modelPath: MODELS.wakeword.path, signature: await signatureOf('wakeword'), modelName: 'w' });
    await c.close();
    const { tensors } = await validInput('wakeword');
    await expectError(c.infer({ inputs: tensors }), 503, 'NOT_READY', 'w');
  });

  it('close waits for a run in flight', async () => {
    const c = await createInferenceCore({ modelPath: MODELS.det.path, signature: await signatureOf('det'), modelName: 'det' });
    const { tensors, feeds } = await validInput('det');
    const running = c.infer({ inputs: tensors });
    await c.close();
    expect((await running).outputs[0].data).toEqual((await runDirect('det', feeds))['sigmoid_0.tmp_0'].data);
  });
});
