import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel, servabilityProblems, type ModelSignature, type TensorSpec } from '../../src/model/index.js';
import { makeModelDir, REAL_MODELS, removeModelDir, RUNNABLE_TINY_MODELS, writeTinyModel } from '../_helpers/onnx-models.js';

let dir: string;
beforeAll(async () => { dir = await makeModelDir(); });
afterAll(() => removeModelDir(dir));

function signature(inputs: TensorSpec[], outputs: TensorSpec[] = []): ModelSignature {
  return {
    file: '/models/m.onnx', bytes: 1, sha256: '', irVersion: 8, opsets: { 'ai.onnx': 17 }, producer: '', producerVersion: '',
    inputs, outputs, nodes: 1, initializers: 0, initializerBytes: 0, operators: {}, externalData: [],
  };
}

const spec = (name: string, over: Partial<TensorSpec>): TensorSpec =>
  ({ name, dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: [1], ...over });

describe('servabilityProblems', () => {
  it.each(Object.entries(REAL_MODELS))('finds none in the real model %s', async (_name, path) => {
    expect(servabilityProblems(await inspectModel(path))).toEqual([]);
  });

  it.each(RUNNABLE_TINY_MODELS.filter((k) => k !== 'unknown-rank'))('finds none in the tiny model %s', async (kind) => {
    expect(servabilityProblems(await inspectModel(await writeTinyModel(dir, kind)))).toEqual([]);
  });

  it('names a sequence input', async () => {
    const sig = await inspectModel(await writeTinyModel(dir, 'sequence-input'));
    expect(servabilityProblems(sig)).toEqual([
      'input `s` is a sequence, which onnxruntime-node cannot pass in or out (it passes tensors only); '
      + 'use a tensor in the graph instead (SplitToSequence / ConcatFromSequence convert between the two)',
    ]);
  });

  it('names unknown-rank inputs and outputs', async () => {
    const problems = servabilityProblems(await inspectModel(await writeTinyModel(dir, 'unknown-rank')));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^input `x` has no shape in the graph \(unknown rank\).*onnx\.shape_inference\.infer_shapes/);
    expect(problems[1]).toMatch(/^output `y` has no shape in the graph/);
  });

  it('a scalar is not an unknown rank', () => {
    expect(servabilityProblems(signature([spec('k', { dtype: 'int64', onnxType: 7, onnxTypeName: 'INT64', shape: [] })]))).toEqual([]);
  });

  it('asks for a cast for bfloat16 and float8, and for zipmap off for a map output', () => {
    const problems = servabilityProblems(signature(
      [
        spec('a', { dtype: 'bfloat16', onnxType: 16, onnxTypeName: 'BFLOAT16' }),
        spec('b', { dtype: 'unsupported', onnxType: 17, onnxTypeName: 'FLOAT8E4M3FN' }),
        spec('c', { dtype: 'unsupported', onnxType: 22, onnxTypeName: 'INT4' }),
      ],
      [spec('probabilities', { dtype: 'unsupported', onnxType: 0, onnxTypeName: 'map', shape: null })],
    ));
    expect(problems).toEqual([
      'input `a` is BFLOAT16, which onnxruntime-node cannot pass in or out; cast it in the graph to float32',
      'input `b` is FLOAT8E4M3FN, which onnxruntime-node cannot pass in or out; cast it in the graph to float32',
      'input `c` is INT4, which onnxruntime-node cannot pass in or out; cast it in the graph to int8',
      'output `probabilities` is a map, which onnxruntime-node cannot pass in or out (it passes tensors only); '
      + 'for a scikit-learn classifier, convert it with the zipmap option off (skl2onnx: options={"zipmap": False}) to get a probability tensor',
    ]);
  });
});
