// The KServe v2 model metadata answered on GET /v2/models/{name}.
import type { ModelSignature, TensorSpec } from '../../src/model/types.js';
import { v2Datatype } from '../../src/model/dtypes.js';
import type { V2ModelMetadata, V2TensorMetadata } from './types.js';

function tensorMetadata(spec: TensorSpec): V2TensorMetadata {
  const datatype = spec.dtype === 'unsupported' ? spec.onnxTypeName : v2Datatype(spec.dtype);
  // An unknown rank has no v2 spelling; one -1 dim is what Triton reports for it.
  const shape = spec.shape === null ? [-1] : spec.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: spec.name, datatype, shape };
}

/** KServe v2 model metadata (`GET /v2/models/{name}`); dynamic dims are -1. */
export function modelMetadata(signature: ModelSignature, modelName: string): V2ModelMetadata {
  return {
    name: modelName,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: signature.inputs.map(tensorMetadata),
    outputs: signature.outputs.map(tensorMetadata),
  };
}
