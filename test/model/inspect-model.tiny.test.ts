import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from '../../src/model/index.js';
import {
  encodeModel, makeModelDir, nodeProto, onnx, removeModelDir, RUNNABLE_TINY_MODELS, tensorInfo, writeTinyModel,
  writeTinyModels,
} from '../_helpers/onnx-models.js';
import { asOrt, ortMetadata } from './_ort-metadata.js';

const T = onnx.TensorProto.DataType;
let dir: string;
let paths: Record<string, string>;

beforeAll(async () => {
  dir = await makeModelDir();
  paths = await writeTinyModels(dir);
});
afterAll(() => removeModelDir(dir));

describe.each(RUNNABLE_TINY_MODELS)('inspectModel on the tiny model %s', (kind) => {
  it('reports the inputs and outputs onnxruntime-node reports, with the file facts', async () => {
    const path = paths[kind];
    const sig = await inspectModel(path);
    expect(asOrt(sig)).toEqual(await ortMetadata(path));
    expect(sig.bytes).toBe((await stat(path)).size);
    expect(sig.sha256).toBe(createHash('sha256').update(await readFile(path)).digest('hex'));
  });
});

describe('tiny model specifics', () => {
  it('addModel: a named batch dim, one 16-byte initializer, and it really adds', async () => {
    const sig = await inspectModel(paths.add);
    expect(sig).toMatchObject({
      file: join(dir, 'add.onnx'),
      irVersion: 8,
      opsets: { 'ai.onnx': 13 },
      producer: 'deploy-model-tests',
      producerVersion: '1',
      nodes: 1,
      initializers: 1,
      initializerBytes: 16,
      operators: { Add: 1 },
      externalData: [],
      inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 4] }],
    });
    const runner = await InferenceSession.create(paths.add);
    const { y } = await runner.run({ x: new Tensor('float32', new Float32Array([0, 0, 0, 0, 10, 10, 10, 10]), [2, 4]) });
    expect([...(y.data as Float32Array)]).toEqual([1, 2, 3, 4, 11, 12, 13, 14]);
    await runner.release();
  });

  it('an unnamed dynamic dim is "?"', async () => {
    const sig = await inspectModel(paths['unnamed-dim']);
    expect(sig.inputs[0].shape).toEqual(['?', 4]);
  });

  it('an int64 scalar input has shape [], and the two outputs keep their dtypes', async () => {
    const sig = await inspectModel(paths['int64-scalar']);
    expect(sig.inputs.map((t) => [t.name, t.dtype, t.shape])).toEqual([['x', 'float32', ['batch', 3]], ['k', 'int64', []]]);
    expect(sig.outputs.map((t) => [t.name, t.dtype, t.shape])).toEqual([['y', 'float32', ['batch', 3]], ['n', 'int64', []]]);
    expect(sig.initializerBytes).toBe(8); // one int64 in int64_data
    const runner = await InferenceSession.create(paths['int64-scalar']);
    const out = await runner.run({ x: new Tensor('float32', new Float32Array([1, 2, 3]), [1, 3]), k: new Tensor('int64', [3n], []) });
    expect([...(out.y.data as Float32Array)]).toEqual([3, 6, 9]);
    expect(out.n.data).toEqual(new BigInt64Array([4n]));
    await runner.release();
  });

  it('an initializer listed in graph.input (IR 3) is not a model input', async () => {
    const sig = await inspectModel(paths['initializer-input']);
    expect(sig).toMatchObject({ irVersion: 3, opsets: { 'ai.onnx': 9 }, initializers: 1, initializerBytes: 8 });
    expect(sig.inputs.map((t) => t.name)).toEqual(['x']);
  });

  it('external data: lists the data file and counts its bytes from the length entry', async () => {
    const sig = await inspectModel(paths['external-data']);
    expect(sig).toMatchObject({ externalData: ['external-data.bin'], initializers: 1, initializerBytes: 16 });
    const runner = await InferenceSession.create(paths['external-data']);
    const { y } = await runner.run({ x: new Tensor('float32', new Float32Array(4), [1, 4]) });
    expect([...(y.data as Float32Array)]).toEqual([1, 2, 3, 4]);
    await runner.release();
  });

  it('external data without a length entry counts the rest of the data file', async () => {
    const sub = join(dir, 'no-length');
    await writeFile(join(dir, 'no-length.bin'), new Uint8Array(24));
    const bytes = encodeModel({
      nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
      inputs: [tensorInfo('x', T.FLOAT, [4])],
      outputs: [tensorInfo('y', T.FLOAT, [4])],
      initializers: [{
        name: 'bias', dataType: T.FLOAT, dims: [4], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [{ key: 'location', value: 'no-length.bin' }, { key: 'offset', value: '8' }],
      }],
    });
    await writeFile(`${sub}.onnx`, bytes);
    expect((await inspectModel(`${sub}.onnx`)).initializerBytes).toBe(16);
  });

  it('operators count subgraph nodes; nodes counts the top-level graph only', async () => {
    const sig = await inspectModel(paths['if-subgraph']);
    expect(sig.nodes).toBe(1);
    expect(sig.operators).toEqual({ If: 1, Identity: 1, Neg: 1 });
  });

  it('operators outside the default domain are domain-qualified', async () => {
    const path = join(dir, 'domains.onnx');
    await writeFile(path, encodeModel({
      opsets: [{ domain: '', version: 13 }, { domain: 'ai.onnx', version: 13 }, { domain: 'com.microsoft', version: 1 }],
      nodes: [
        nodeProto('Relu', ['x'], ['a']),
        { ...nodeProto('Relu', ['a'], ['b']), domain: 'ai.onnx' },
        { ...nodeProto('Gelu', ['b'], ['y']), domain: 'com.microsoft' },
      ],
      inputs: [tensorInfo('x', T.FLOAT, [2])],
      outputs: [tensorInfo('y', T.FLOAT, [2])],
    }));
    const sig = await inspectModel(path);
    expect(sig.opsets).toEqual({ 'ai.onnx': 13, 'com.microsoft': 1 });
    expect(sig.operators).toEqual({ Relu: 2, 'com.microsoft:Gelu': 1 });
  });

  it('non-tensor and unsupported element types are reported, not rejected', async () => {
    const complex = await inspectModel(paths['complex64-input']);
    expect(complex.inputs).toEqual([{ name: 'z', dtype: 'unsupported', onnxType: 14, onnxTypeName: 'COMPLEX64', shape: [2] }]);
    const sequence = await inspectModel(paths['sequence-input']);
    expect(sequence.inputs).toEqual([{ name: 's', dtype: 'unsupported', onnxType: 0, onnxTypeName: 'sequence', shape: null }]);
  });

  it('a tensor without a shape has shape null (unknown rank), unlike a scalar', async () => {
    const sig = await inspectModel(paths['unknown-rank']);
    expect(sig.inputs[0]).toMatchObject({ dtype: 'float32', shape: null });
  });

  it('typed-field initializers are sized by element: float16 in int32_data is 2 bytes each', async () => {
    const path = join(dir, 'typed.onnx');
    await writeFile(path, encodeModel({
      nodes: [nodeProto('Identity', ['x'], ['y'])],
      inputs: [tensorInfo('x', T.FLOAT, [1])],
      outputs: [tensorInfo('y', T.FLOAT, [1])],
      initializers: [
        { name: 'h', dataType: T.FLOAT16, dims: [3], int32Data: [1, 2, 3] },
        { name: 'd', dataType: T.DOUBLE, dims: [2], doubleData: [1, 2] },
        { name: 'b', dataType: T.BOOL, dims: [5], int32Data: [1, 0, 1, 0, 1] },
      ],
    }));
    expect((await inspectModel(path)).initializerBytes).toBe(3 * 2 + 2 * 8 + 5);
  });

  it('the helper writes one file per kind and returns its path', async () => {
    const other = await makeModelDir();
    try {
      expect(await writeTinyModel(other, 'add')).toBe(join(other, 'add.onnx'));
    } finally {
      await removeModelDir(other);
    }
  });
});
