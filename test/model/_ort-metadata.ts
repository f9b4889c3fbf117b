/**
 * What onnxruntime-node itself reports about a model's inputs and outputs, in the shape our
 * signature is compared against.
 */
import { InferenceSession } from 'onnxruntime-node';
import { ortType } from '../../src/model/dtypes.js';
import { UNNAMED_DIM, type ModelSignature, type TensorSpec } from '../../src/model/types.js';

export interface OrtIo {
  name: string;
  type: string | undefined;
  shape: (number | string)[];
}

export async function ortMetadata(path: string): Promise<{ inputs: OrtIo[]; outputs: OrtIo[] }> {
  const runner = await InferenceSession.create(path);
  try {
    const map = (m: readonly InferenceSession.ValueMetadata[]): OrtIo[] =>
      m.map((v) => (v.isTensor ? { name: v.name, type: v.type, shape: [...v.shape] } : { name: v.name, type: undefined, shape: [] }));
    return { inputs: map(runner.inputMetadata), outputs: map(runner.outputMetadata) };
  } finally {
    await runner.release();
  }
}

/**
 * Our signature in onnxruntime's terms: an unnamed dim is `""`, and an unknown rank is `[]`
 * (onnxruntime cannot tell it from a scalar; our `null` can).
 */
export function asOrt(sig: ModelSignature): { inputs: OrtIo[]; outputs: OrtIo[] } {
  const map = (t: TensorSpec): OrtIo => ({
    name: t.name,
    type: t.dtype === 'unsupported' ? undefined : ortType(t.dtype),
    shape: (t.shape ?? []).map((d) => (d === UNNAMED_DIM ? '' : d)),
  });
  return { inputs: sig.inputs.map(map), outputs: sig.outputs.map(map) };
}
