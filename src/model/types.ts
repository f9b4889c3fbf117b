/**
 * The model's signature, read from the ONNX graph. One dtype vocabulary is used everywhere:
 * config, wire format, Triton config, smoke inputs.
 */
export type Dtype =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'bool' | 'string';

/**
 * One dimension: a number when fixed, the symbolic name (`"batch"`) when named-dynamic, or `"?"`
 * when dynamic without a name (onnxruntime reports such a dim as `""`).
 */
export type Dim = number | string;

export const UNNAMED_DIM = '?';

export interface TensorSpec {
  name: string;
  /** Our dtype, or `'unsupported'` when the element type cannot be served (see `onnxTypeName`). */
  dtype: Dtype | 'unsupported';
  /** The ONNX TensorProto.DataType number (0 when the value is not a tensor). */
  onnxType: number;
  /** The ONNX name of the element type, e.g. `FLOAT`, `INT64`, `COMPLEX64`, or `sequence`/`map`. */
  onnxTypeName: string;
  /** `null` when the graph does not state the rank. */
  shape: Dim[] | null;
}

export interface ModelSignature {
  /** Absolute path of the model file. */
  file: string;
  bytes: number;
  sha256: string;
  irVersion: number;
  /** Opset per domain; the default domain is `ai.onnx`. */
  opsets: Record<string, number>;
  producer: string;
  producerVersion: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  nodes: number;
  initializers: number;
  initializerBytes: number;
  /** Operator type (domain-qualified when not the default domain) to count. */
  operators: Record<string, number>;
  /** Files named by initializers stored as external data, relative to the model's folder. */
  externalData: string[];
}
