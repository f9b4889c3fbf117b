// ONNX element types and the dtype names deploy-model uses for them.
import type { Dtype } from './types.js';

/** ONNX TensorProto.DataType numbers to our dtype vocabulary. */
export const ONNX_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64',
  8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64',
  15: 'COMPLEX128', 16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1',
};

const ONNX_TO_DTYPE: Record<number, Dtype> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

export const DTYPES: readonly Dtype[] = [
  'float32', 'float16', 'bfloat16', 'float64', 'int8', 'int16', 'int32', 'int64',
  'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string',
];

/** Our dtype for an ONNX element type, or undefined when it cannot be served. */
export function dtypeFromOnnx(onnxType: number): Dtype | undefined {
  return ONNX_TO_DTYPE[onnxType];
}

export function onnxFromDtype(dtype: Dtype): number {
  const found = Object.entries(ONNX_TO_DTYPE).find(([, d]) => d === dtype);
  if (!found) throw new Error(`no ONNX type for ${dtype}`);
  return Number(found[0]);
}

/** KServe v2 / Triton wire datatype names. */
const V2_NAMES: Record<Dtype, string> = {
  float32: 'FP32', float16: 'FP16', bfloat16: 'BF16', float64: 'FP64',
  int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64',
  bool: 'BOOL', string: 'BYTES',
};

export function v2Datatype(dtype: Dtype): string {
  return V2_NAMES[dtype];
}

export function dtypeFromV2(datatype: string): Dtype | undefined {
  const found = (Object.entries(V2_NAMES) as [Dtype, string][]).find(([, n]) => n === datatype.toUpperCase());
  return found?.[0];
}

/** Triton config.pbtxt data types (TYPE_FP32 ...). */
export function tritonDataType(dtype: Dtype): string {
  return dtype === 'string' ? 'TYPE_STRING' : `TYPE_${V2_NAMES[dtype]}`;
}

/** onnxruntime-node Tensor type names. */
const ORT_NAMES: Partial<Record<Dtype, string>> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int8: 'int8', int16: 'int16', int32: 'int32',
  int64: 'int64', uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64', bool: 'bool', string: 'string',
};

export function ortType(dtype: Dtype): string | undefined {
  return ORT_NAMES[dtype];
}

/** Bytes per element; strings have no fixed size. */
export function bytesPerElement(dtype: Dtype): number | undefined {
  switch (dtype) {
    case 'float64': case 'int64': case 'uint64': return 8;
    case 'float32': case 'int32': case 'uint32': return 4;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16': return 2;
    case 'int8': case 'uint8': case 'bool': return 1;
    case 'string': return undefined;
  }
}
