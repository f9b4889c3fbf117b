/** Generates an ONNX model of a chosen size, its weights in an external data file (the repository keeps none of them). */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;

/** Width of one row of the weight table, in floats: the model's input and output length. */
export const SIZED_MODEL_WIDTH = 256;

/**
 * y = ReduceSum(table, axis 0) + x, with table float32 [rows, 256] in `model.onnx.data` and x
 * float32 [256]: answering touches every weight once (onnxruntime folds the constant sum into
 * session create), and costs next to nothing else, so a cold start of it is the cost of loading
 * that many bytes. The table holds deterministic pseudo-random floats (real weights do not
 * compress either). Returns the .onnx path.
 */
export async function writeSizedModel(dir: string, bytes: number): Promise<string> {
  const rows = Math.max(1, Math.round(bytes / (SIZED_MODEL_WIDTH * 4)));
  const dataBytes = rows * SIZED_MODEL_WIDTH * 4;
  const out = createWriteStream(join(dir, 'model.onnx.data'));
  const chunkFloats = 4 * 1024 * 1024;
  let s = 17;
  for (let written = 0; written < dataBytes; written += chunkFloats * 4) {
    const n = Math.min(chunkFloats, (dataBytes - written) / 4);
    const chunk = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      chunk[i] = s / 2 ** 32 - 0.5;
    }
    if (!out.write(Buffer.from(chunk.buffer))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const info = (name: string, elemType: number, dims: (number | string)[]) => ({
    name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const model = onnx.ModelProto.encode({
    irVersion: 8, producerName: 'deploy-model-bench', producerVersion: '1', opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'sized',
      node: [
        { opType: 'ReduceSum', input: ['table', 'axes'], output: ['sum'], name: 'sum', attribute: [{ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
        { opType: 'Add', input: ['sum', 'x'], output: ['y'], name: 'add' },
      ],
      input: [info('x', T.FLOAT, [SIZED_MODEL_WIDTH])],
      output: [info('y', T.FLOAT, [SIZED_MODEL_WIDTH])],
      initializer: [
        {
          name: 'table', dataType: T.FLOAT, dims: [rows, SIZED_MODEL_WIDTH], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: 'model.onnx.data' }, { key: 'offset', value: '0' }, { key: 'length', value: String(dataBytes) }],
        },
        { name: 'axes', dataType: T.INT64, dims: [1], int64Data: [0] },
      ],
    },
  }).finish();
  const file = join(dir, 'model.onnx');
  await writeFile(file, model);
  return file;
}
