import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/model/_decode-model.js';
import { inspectModel } from '../../src/model/index.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { asOrt, ortMetadata } from './_ort-metadata.js';

const { onnx } = onnxProto;

/** The same facts decoded independently with the generated onnx-proto decoder. */
function referenceFacts(bytes: Uint8Array) {
  const m = onnx.ModelProto.decode(bytes);
  const operators: Record<string, number> = {};
  let constantBytes = 0;
  const visit = (g: Onnx.IGraphProto) => {
    for (const n of g.node ?? []) {
      const key = !n.domain || n.domain === 'ai.onnx' ? n.opType! : `${n.domain}:${n.opType}`;
      operators[key] = (operators[key] ?? 0) + 1;
      for (const a of n.attribute ?? []) {
        if (a.t) constantBytes += tensorBytes(a.t);
        if (a.g) visit(a.g);
        for (const sub of a.graphs ?? []) visit(sub);
      }
    }
  };
  const graph = m.graph as Onnx.GraphProto;
  visit(graph);
  const opsets = Object.fromEntries(m.opsetImport.map((o) => [o.domain || 'ai.onnx', Number(o.version)]));
  return {
    irVersion: Number(m.irVersion),
    opsets,
    nodes: graph.node.length,
    initializers: graph.initializer.length,
    initializerBytes: graph.initializer.reduce((s, t) => s + tensorBytes(t), 0),
    operators,
    constantBytes,
  };
}

function tensorBytes(t: Onnx.ITensorProto): number {
  if (t.rawData && t.rawData.length > 0) return t.rawData.length;
  const narrow: Record<number, number> = { 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 9: 1, 10: 2, 16: 2 };
  return (t.floatData?.length ?? 0) * 4 + (t.doubleData?.length ?? 0) * 8 + (t.int64Data?.length ?? 0) * 8
    + (t.int32Data?.length ?? 0) * (narrow[t.dataType ?? 0] ?? 1)
    + (t.uint64Data?.length ?? 0) * (t.dataType === 12 ? 4 : 8);
}

describe.each(Object.entries(REAL_MODELS))('inspectModel on the real model %s', (_name, path) => {
  it('reports the inputs and outputs onnxruntime-node reports', async () => {
    const sig = await inspectModel(path);
    expect(asOrt(sig)).toEqual(await ortMetadata(path));
  });

  it('reports the file size, sha256 and absolute path', async () => {
    const sig = await inspectModel(path);
    const bytes = await readFile(path);
    expect(sig.file).toBe(path);
    expect(sig.bytes).toBe((await stat(path)).size);
    expect(sig.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('agrees with a generated protobuf decoder on opsets, nodes, operators and initializer bytes', async () => {
    const sig = await inspectModel(path);
    const { constantBytes: _, ...ref } = referenceFacts(await readFile(path));
    expect({
      irVersion: sig.irVersion, opsets: sig.opsets, nodes: sig.nodes, initializers: sig.initializers,
      initializerBytes: sig.initializerBytes, operators: sig.operators,
    }).toEqual(ref);
    expect(sig.externalData).toEqual([]);
  });
});

describe('golden facts', () => {
  it('the PaddleOCR cls model: IR 8, opset 9, 471 nodes with weights in Constant nodes', async () => {
    // Checked by hand against onnxruntime and the onnx-proto decoder.
    const sig = await inspectModel(REAL_MODELS.cls);
    expect(sig).toMatchObject({
      bytes: 578_966,
      sha256: '491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640',
      irVersion: 8,
      opsets: { 'ai.onnx': 9 },
      producer: '',
      nodes: 471,
      initializers: 0,
      initializerBytes: 0,
      inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] }],
      outputs: [{ name: 'softmax_0.tmp_0', dtype: 'float32', shape: ['p2o.DynamicDimension.3', 2] }],
    });
    expect(Object.keys(sig.operators)).toHaveLength(18);
    expect(sig.operators).toMatchObject({ Constant: 250, Conv: 53, BatchNormalization: 35, Mul: 27, Add: 26, Softmax: 1 });
  });

  it('silero VAD: an int64 scalar input, and If subgraphs counted in operators', async () => {
    const sig = await inspectModel(REAL_MODELS.sileroVad);
    expect(sig.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([
      ['input', 'float32', ['batch', 'sequence']],
      ['state', 'float32', [2, 'batch', 128]],
      ['sr', 'int64', []],
    ]);
    expect(sig).toMatchObject({ producer: 'pytorch', producerVersion: '2.3.1', opsets: { 'ai.onnx': 15 }, nodes: 121, initializers: 15 });
    expect(sig.operators.If).toBe(12);
    expect(sig.operators.LSTM).toBe(2);
  });
});

describe('weights are skipped, not copied', () => {
  it('decoding the 10.8 MB rec model allocates no buffer memory for its weights', async () => {
    const bytes = await readFile(REAL_MODELS.rec);
    // The rec model keeps its weights in Constant nodes: about 10.7 MB of tensor data.
    const weights = referenceFacts(bytes).constantBytes;
    expect(weights).toBeGreaterThan(10_000_000);

    const before = process.memoryUsage().arrayBuffers;
    const decoded = decodeModel(bytes);
    const grown = process.memoryUsage().arrayBuffers - before;

    expect(decoded.graph?.nodes).toBe(765);
    // A decoder that copied raw_data would grow by the weights' size; views and skips grow by nothing.
    expect(grown).toBeLessThan(weights / 100);
    // What is kept holds no byte arrays at all: only names, numbers and dims.
    const kept = JSON.stringify(decoded, (_k, v: unknown) => {
      if (ArrayBuffer.isView(v)) throw new Error('decoded model holds a byte array');
      return v;
    });
    expect(kept.length).toBeLessThan(20_000);
  });
});
