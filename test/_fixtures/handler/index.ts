/**
 * A tiny Lambda-style handler for the bundling tests. It reads the layout the function artifact
 * ships (model/model.onnx, model/signature.json), imports onnxruntime-node (left to the layer),
 * a local ES module and a CommonJS module that needs `require` and `__dirname` (the banner).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import helper from './cjs-helper.cjs';
import { product } from './product.js';

interface Event {
  dims: number[];
  fill?: number;
}

const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const signature = JSON.parse(readFileSync(join(root, 'model', 'signature.json'), 'utf8')) as {
  file: string;
  inputs: { name: string; dtype: string }[];
};
const model = await ort.InferenceSession.create(join(root, signature.file));

export const handler = async (event: Event) => {
  const input = signature.inputs[0];
  const data = new Float32Array(product(event.dims)).fill(event.fill ?? 0);
  const outputs = await model.run({ [input.name]: new ort.Tensor('float32', data, event.dims) });
  const first = outputs[model.outputNames[0]];
  return {
    input: input.name,
    outputDims: first.dims,
    outputValues: Array.from(first.data as Float32Array),
    ortResolvedFrom: helper.resolve('onnxruntime-node'),
    bundleDir: helper.dirname(),
    pathSep: helper.sep(),
  };
};
