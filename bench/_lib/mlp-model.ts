// Writes a dense two-layer MLP model, the benchmarks' stand-in for a feed-forward block.
import { writeFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { floats } from './models.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/**
 * A dense two-layer MLP, y = relu(x·W1 + b1)·W2 + b2 with x float32 [batch, width]: the shape
 * of a transformer's feed-forward block or an embedding head. One request is a matrix-vector
 * product that streams every weight from memory; a batch reuses each weight for every row, which
 * is where batching pays on a CPU. Written to `path`; returns the input shape of one request.
 */
export async function writeMlpModel(path: string, width = 1024, hidden = 2048): Promise<number[]> {
  const weight = (name: string, rows: number, cols: number, seed: number) => ({
    name, dims: [rows, cols], dataType: FLOAT, rawData: new Uint8Array(floats(rows * cols, seed).map((v) => (v - 0.5) / Math.sqrt(rows)).buffer),
  });
  const info = (name: string, dims: (number | string)[]) => ({
    name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const node = (opType: string, input: string[], output: string[]) => ({ opType, input, output, name: `${opType}_${output[0]}` });
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, producerName: 'deploy-model-bench', producerVersion: '1', opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'mlp',
      node: [node('MatMul', ['x', 'w1'], ['h0']), node('Add', ['h0', 'b1'], ['h1']), node('Relu', ['h1'], ['h2']), node('MatMul', ['h2', 'w2'], ['h3']), node('Add', ['h3', 'b2'], ['y'])],
      input: [info('x', ['batch', width])],
      output: [info('y', ['batch', width])],
      initializer: [weight('w1', width, hidden, 11), weight('b1', 1, hidden, 12), weight('w2', hidden, width, 13), weight('b2', 1, width, 14)],
    },
  }).finish();
  await writeFile(path, bytes);
  return [1, width];
}
