import * as ort from 'onnxruntime-node';

/**
 * A model's inputs and outputs as ONNX Runtime reports them, which is what Triton's onnxruntime
 * backend checks a config against (`InputInfos` / `OutputInfos` in onnxruntime_backend
 * src/onnxruntime_utils.cc, r25.09: element type and `GetDimensions`, where a symbolic or unknown
 * dim is -1). Read through onnxruntime-node rather than deploy-model's own ONNX reader, so that
 * the reference does not share the code it checks.
 */
export interface OrtTensorInfo {
  name: string;
  /** ONNX element type name: FLOAT, INT64, FLOAT16, BOOL, STRING ... */
  type: string;
  /** -1 for a dynamic dim; [] for a scalar. */
  dims: number[];
}

export interface OrtModelIo {
  inputs: OrtTensorInfo[];
  outputs: OrtTensorInfo[];
}

/** onnxruntime-node's tensor type names to ONNX element type names. */
const ONNX_NAMES: Record<string, string> = {
  float32: 'FLOAT', float16: 'FLOAT16', float64: 'DOUBLE', bfloat16: 'BFLOAT16',
  int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64',
  bool: 'BOOL', string: 'STRING',
};

export async function ortModelIo(modelPath: string): Promise<OrtModelIo> {
  const session = await ort.InferenceSession.create(modelPath);
  try {
    const info = (m: ort.InferenceSession.ValueMetadata): OrtTensorInfo => {
      if (!m.isTensor) return { name: m.name, type: 'NOT_A_TENSOR', dims: [] };
      return { name: m.name, type: ONNX_NAMES[m.type] ?? 'UNDEFINED', dims: m.shape.map((d) => (typeof d === 'number' ? d : -1)) };
    };
    return { inputs: session.inputMetadata.map(info), outputs: session.outputMetadata.map(info) };
  } finally {
    await session.release();
  }
}
