// The v2 JSON codec: requests validated against the signature into tensors, outputs back to JSON.
import type { Dtype, ModelSignature, TensorSpec } from '../../src/model/types.js';
import { DTYPES, dtypeFromV2, v2Datatype } from '../../src/model/dtypes.js';
import { parseValues, jsonValues } from './_values.js';
import { decodeBase64Tensor, decodeRawTensor, encodeBase64Tensor } from './base64.js';
import { fromFloat16Bits } from './float16.js';
import { InferenceError } from './inference-error.js';
import { describe, elementCount, flattenNested, formatShape, inferShape } from './nested.js';
import { NumericArray } from './numeric-array.js';
import type { DecodedRequest, DecodedTensor, OutputEncoding, V2RequestTensor, V2ResponseTensor } from './types.js';

/**
 * The v2 JSON codec: a request body, validated against the model's signature, becomes typed
 * tensors; output tensors become v2 JSON. Pure: no onnxruntime here, so it is cheap to test.
 */

const V2_NAMES = DTYPES.map(v2Datatype).join(', ');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function names(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `"${s.name}"`).join(', ');
}

/** Validates a v2 request body (full or simple form) against `signature` and decodes its tensors. */
export function decodeInferenceRequest(body: unknown, signature: ModelSignature): DecodedRequest {
  if (!isObject(body)) {
    throw new InferenceError(400, 'INVALID_REQUEST', `the request must be a JSON object with "inputs", got ${describe(body)}`);
  }
  if (body.id !== undefined && typeof body.id !== 'string') {
    throw new InferenceError(400, 'INVALID_REQUEST', `"id" must be a string, got ${describe(body.id)}`);
  }
  const tensors = requestTensors(body.inputs, signature);
  const byName = new Map(signature.inputs.map((s) => [s.name, s]));
  const seen = new Set<string>();
  tensors.forEach((t, i) => {
    if (!isObject(t) || typeof t.name !== 'string') {
      throw new InferenceError(400, 'INVALID_REQUEST', `inputs[${i}] must be an object with a string "name", "shape", "datatype" and "data"`);
    }
    if (!byName.has(t.name)) {
      throw new InferenceError(400, 'UNKNOWN_INPUT', `input "${t.name}" is not an input of the model; its inputs are ${names(signature.inputs)}`);
    }
    if (seen.has(t.name)) {
      throw new InferenceError(400, 'DUPLICATE_INPUT', `input "${t.name}" is given more than once; send each input once`);
    }
    seen.add(t.name);
  });
  const missing = signature.inputs.filter((s) => !seen.has(s.name));
  if (missing.length) {
    throw new InferenceError(400, 'MISSING_INPUT', `input ${names(missing)} ${missing.length > 1 ? 'are' : 'is'} missing; the model needs ${names(signature.inputs)}`);
  }
  return {
    ...(body.id === undefined ? {} : { id: body.id as string }),
    inputs: tensors.map((t) => decodeTensor(t, byName.get(t.name)!)),
    outputs: requestedOutputs(body.outputs, signature),
    outputEncoding: outputEncoding(body.parameters),
  };
}

function requestTensors(inputs: unknown, signature: ModelSignature): V2RequestTensor[] {
  if (Array.isArray(inputs)) return inputs as V2RequestTensor[];
  if (isObject(inputs)) return simpleFormTensors(inputs, signature);
  throw new InferenceError(400, 'INVALID_REQUEST', `"inputs" must be an array of v2 tensors or an object { inputName: nestedArray }, got ${describe(inputs)}`);
}

/** The simple form `{ inputName: nestedArray }`: shape from the nesting, datatype from the signature. */
function simpleFormTensors(inputs: Record<string, unknown>, signature: ModelSignature): V2RequestTensor[] {
  const byName = new Map(signature.inputs.map((s) => [s.name, s]));
  return Object.entries(inputs).map(([name, value]) => {
    const spec = byName.get(name);
    if (!spec) {
      throw new InferenceError(400, 'UNKNOWN_INPUT', `input "${name}" is not an input of the model; its inputs are ${names(signature.inputs)}`);
    }
    // Read straight into a typed array by parseRequestJson: its nesting is the shape.
    if (value instanceof NumericArray) return { name, shape: checkShape(name, [...value.dims], spec), datatype: v2Datatype(servableDtype(spec)), data: value };
    // Shape first: it bounds the nesting flattenNested walks.
    const shape = checkShape(name, inferShape(value), spec);
    const data = Array.isArray(value) ? flattenNested(name, value, shape, true) : [value];
    return { name, shape, datatype: v2Datatype(servableDtype(spec)), data };
  });
}

function servableDtype(spec: TensorSpec): Dtype {
  if (spec.dtype === 'unsupported' || spec.dtype === 'bfloat16') {
    throw new InferenceError(500, 'UNSUPPORTED_DATATYPE', `input "${spec.name}" has element type ${spec.onnxTypeName}, which onnxruntime-node cannot serve`);
  }
  return spec.dtype;
}

function decodeTensor(t: V2RequestTensor, spec: TensorSpec): DecodedTensor {
  const { name } = t;
  const expected = servableDtype(spec);
  if (typeof t.datatype !== 'string') {
    throw new InferenceError(400, 'INVALID_REQUEST', `input "${name}": "datatype" must be a string such as "${v2Datatype(expected)}"`);
  }
  const dtype = dtypeFromV2(t.datatype);
  if (!dtype) {
    throw new InferenceError(400, 'UNSUPPORTED_DATATYPE', `input "${name}": datatype "${t.datatype}" is not a v2 datatype (${V2_NAMES}); the model expects ${v2Datatype(expected)}`);
  }
  if (dtype !== expected) {
    throw new InferenceError(400, 'DATATYPE_MISMATCH', `input "${name}" has datatype ${v2Datatype(dtype)} but the model expects ${v2Datatype(expected)}`);
  }
  const shape = checkShape(name, t.shape, spec);
  const count = elementCount(shape);
  // Raw bytes: the server's binary tensor data extension puts them here (JSON cannot).
  if (t.data instanceof Uint8Array) return { name, dtype, shape, data: decodeRawTensor(name, dtype, shape, count, t.data) };
  const encoding = t.parameters === undefined ? undefined : isObject(t.parameters) ? t.parameters.content_encoding : null;
  if (encoding === 'base64') {
    return { name, dtype, shape, data: decodeBase64Tensor(name, dtype, shape, count, t.data) };
  }
  if (encoding !== undefined) {
    throw new InferenceError(400, 'UNSUPPORTED_ENCODING', `input "${name}": content_encoding ${describe(encoding)} is not supported; use "base64" or leave it out`);
  }
  if (t.data instanceof NumericArray) {
    const numeric = numericData(name, dtype, shape, count, t.data);
    if (numeric) return { name, dtype, shape, data: numeric };
  }
  const data = t.data instanceof NumericArray ? t.data.toArray() : t.data;
  if (!Array.isArray(data)) {
    throw new InferenceError(400, 'INVALID_DATA', `input "${name}": data must be an array (flat or nested row-major), got ${describe(data)}`);
  }
  const flat = flattenNested(name, data, shape);
  if (flat.length !== count) {
    throw new InferenceError(400, 'DATA_SIZE_MISMATCH', `input "${name}" has ${flat.length} elements but shape ${formatShape(shape)} needs ${count}`);
  }
  return { name, dtype, shape, data: parseValues(name, dtype, flat) };
}

/**
 * Numbers already in a typed array: flat, or nested exactly as `shape` says. Undefined for other
 * nesting, which the caller takes the general way, for its error.
 */
function numericData(name: string, dtype: Dtype, shape: readonly number[], count: number, data: NumericArray) {
  const { dims, values } = data;
  if (dims.length !== 1 && (dims.length !== shape.length || dims.some((d, i) => d !== shape[i]))) return undefined;
  if (values.length !== count) {
    throw new InferenceError(400, 'DATA_SIZE_MISMATCH', `input "${name}" has ${values.length} elements but shape ${formatShape(shape)} needs ${count}`);
  }
  // A Float32Array is made only for FP32 data, whose values it already holds as onnxruntime takes them.
  if (values instanceof Float32Array) return dtype === 'float32' ? values : undefined;
  return dtype === 'float64' ? values : parseValues(name, dtype, values);
}

function checkShape(name: string, shape: unknown, spec: TensorSpec): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InferenceError(400, 'INVALID_SHAPE', `input "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing'}`);
  }
  const dims = shape as number[];
  if (spec.shape === null) return dims;
  if (dims.length !== spec.shape.length) {
    throw new InferenceError(400, 'INPUT_RANK_MISMATCH', `input "${name}" has rank ${dims.length} (shape ${formatShape(dims)}) but the model expects rank ${spec.shape.length} ${formatShape(spec.shape)}`);
  }
  spec.shape.forEach((want, i) => {
    if (typeof want === 'number' && want >= 0 && dims[i] !== want) {
      throw new InferenceError(400, 'INPUT_SHAPE_MISMATCH', `input "${name}" dim ${i} must be ${want}, got ${dims[i]} (shape ${formatShape(dims)}; the model expects ${formatShape(spec.shape)})`);
    }
  });
  return dims;
}

function requestedOutputs(outputs: unknown, signature: ModelSignature): string[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) {
    throw new InferenceError(400, 'INVALID_REQUEST', `"outputs" must be an array of { "name": ... }, got ${describe(outputs)}`);
  }
  const known = new Set(signature.outputs.map((s) => s.name));
  const wanted: string[] = [];
  outputs.forEach((o, i) => {
    if (!isObject(o) || typeof o.name !== 'string') {
      throw new InferenceError(400, 'INVALID_REQUEST', `outputs[${i}] must be an object with a string "name"`);
    }
    if (!known.has(o.name)) {
      throw new InferenceError(400, 'UNKNOWN_OUTPUT', `output "${o.name}" is not an output of the model; its outputs are ${names(signature.outputs)}`);
    }
    if (!wanted.includes(o.name)) wanted.push(o.name);
  });
  return wanted;
}

function outputEncoding(parameters: unknown): OutputEncoding {
  const value = isObject(parameters) ? parameters.output_encoding : undefined;
  if (value === undefined || value === 'json') return 'json';
  if (value === 'base64') return 'base64';
  throw new InferenceError(400, 'UNSUPPORTED_ENCODING', `parameters.output_encoding ${describe(value)} is not supported; use "base64" or "json"`);
}

/**
 * One output tensor as v2 JSON. `data` is what onnxruntime returns for `dtype` (a typed array, or
 * string[]). Base64 carries the raw bytes; string tensors stay JSON arrays.
 */
export function encodeOutputTensor(name: string, dtype: Dtype, shape: readonly number[], data: unknown, encoding: OutputEncoding = 'json'): V2ResponseTensor {
  const head = { name, datatype: v2Datatype(dtype), shape: [...shape] };
  if (encoding === 'base64') {
    const b64 = encodeBase64Tensor(data);
    if (b64 !== undefined) return { ...head, data: b64, parameters: { content_encoding: 'base64' } };
  }
  const values = dtype === 'float16' && data instanceof Uint16Array ? Array.from(data, fromFloat16Bits) : data;
  return { ...head, data: jsonValues(dtype, values) as V2ResponseTensor['data'] };
}
