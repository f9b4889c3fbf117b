// The signature part of the generated web and React Native clients: each tensor's dtype and shape as TypeScript types.
import type { Dim, Dtype, TensorSpec } from '../../model/types.js';

/** One tensor of the generated client, as its TypeScript types spell it. */
export interface ClientTensorType {
  name: string;
  dtype: Dtype;
  /** The model's dims: numbers are fixed, names and `?` are dynamic; null when the rank is unknown. */
  shape: Dim[] | null;
  /** The `data` type, e.g. `Float32Array | readonly number[]`. */
  dataType: string;
  /** The `shape` type, e.g. `readonly [number, 3, number, number]`. */
  shapeType: string;
}

export interface ClientTypes {
  inputs: ClientTensorType[];
  outputs: ClientTensorType[];
}

const INPUT_DATA: Record<Exclude<Dtype, 'bfloat16'>, string> = {
  float32: 'Float32Array | readonly number[]',
  float64: 'Float64Array | readonly number[]',
  float16: 'Uint16Array | readonly number[]',
  int8: 'Int8Array | readonly number[]',
  int16: 'Int16Array | readonly number[]',
  int32: 'Int32Array | readonly number[]',
  int64: 'BigInt64Array | readonly (number | bigint)[]',
  uint8: 'Uint8Array | readonly number[]',
  uint16: 'Uint16Array | readonly number[]',
  uint32: 'Uint32Array | readonly number[]',
  uint64: 'BigUint64Array | readonly (number | bigint)[]',
  bool: 'Uint8Array | readonly boolean[]',
  string: 'readonly string[]',
};

/** What onnxruntime-web returns; float16 is a Uint16Array of bits, or a Float16Array where the browser has one. */
const OUTPUT_DATA: Record<Exclude<Dtype, 'bfloat16'>, string> = {
  float32: 'Float32Array', float64: 'Float64Array', float16: 'ArrayLike<number>', int8: 'Int8Array', int16: 'Int16Array',
  int32: 'Int32Array', int64: 'BigInt64Array', uint8: 'Uint8Array', uint16: 'Uint16Array', uint32: 'Uint32Array',
  uint64: 'BigUint64Array', bool: 'Uint8Array', string: 'readonly string[]',
};

function shapeType(shape: Dim[] | null): string {
  if (shape === null) return 'readonly number[]';
  return `readonly [${shape.map((d) => (typeof d === 'number' ? String(d) : 'number')).join(', ')}]`;
}

function tensorType(t: TensorSpec, data: Record<string, string>): ClientTensorType {
  // A type onnxruntime cannot pass (validate reports it) is typed `never`: no value can be given or read.
  const dtype = t.dtype === 'unsupported' ? 'bfloat16' : t.dtype;
  return { name: t.name, dtype, shape: t.shape, dataType: data[dtype] ?? 'never', shapeType: shapeType(t.shape) };
}

/** The types the client gives each input and output; part of the plan. */
export function clientTypes(input: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }): ClientTypes {
  return { inputs: input.inputs.map((t) => tensorType(t, INPUT_DATA)), outputs: input.outputs.map((t) => tensorType(t, OUTPUT_DATA)) };
}

/** A doc comment naming the dtype and the dims, safe whatever the tensor's name holds. */
function doc(t: ClientTensorType, indent: string): string {
  const dims = t.shape === null ? 'of unknown rank' : `[${t.shape.join(', ')}]`;
  return `${indent}/** ${t.dtype} ${dims} */`.replace(/\*\/(?=.)/g, '*\\/');
}

const key = (name: string): string => JSON.stringify(name);

/**
 * The signature part of a generated client, shared by the web and React Native clients: the
 * dtypes, SIGNATURE, and ModelInputs / ModelOutputs with each tensor's dtype and shape in its type.
 */
export function renderSignatureTypes(input: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] }): string {
  const types = clientTypes(input);
  const spec = (t: TensorSpec) => ({ name: t.name, dtype: t.dtype, shape: t.shape });
  const fixed = (t: ClientTensorType) => t.shape !== null && t.shape.every((d) => typeof d === 'number');
  return [
    "export type Dtype = 'float32' | 'float16' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool' | 'string';",
    '',
    '/** One tensor of the signature: fixed dims are numbers, dynamic ones their name or "?"; null shape is unknown rank. */',
    'export interface TensorSpec { readonly name: string; readonly dtype: Dtype; readonly shape: readonly (number | string)[] | null }',
    '',
    `export const SIGNATURE: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] } = ${JSON.stringify({ inputs: input.inputs.map(spec), outputs: input.outputs.map(spec) }, null, 2)};`,
    '',
    '/** The model\'s inputs: `data` in row-major order, `shape` with the model\'s fixed dims as literals. */',
    'export interface ModelInputs {',
    ...types.inputs.flatMap((t) => [doc(t, '  '), `  readonly ${key(t.name)}: { readonly data: ${t.dataType}; readonly shape${fixed(t) ? '?' : ''}: ${t.shapeType} };`]),
    '}',
    '',
    '/** The model\'s outputs, as onnxruntime returns them. */',
    'export interface ModelOutputs {',
    ...types.outputs.flatMap((t) => [doc(t, '  '), `  readonly ${key(t.name)}: { readonly dtype: '${t.dtype}'; readonly data: ${t.dataType}; readonly shape: ${t.shapeType} };`]),
    '}',
  ].join('\n');
}
