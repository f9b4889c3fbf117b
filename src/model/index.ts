// The model API: inspect an ONNX model and check what can be served.
export { inspectModel } from './inspect-model.js';
export { servabilityProblems } from './servability-problems.js';
export { UNNAMED_DIM } from './types.js';
export type { Dim, Dtype, ModelSignature, TensorSpec } from './types.js';
export {
  bytesPerElement, dtypeFromOnnx, dtypeFromV2, DTYPES, ONNX_TYPE_NAMES, onnxFromDtype, ortType, tritonDataType, v2Datatype,
} from './dtypes.js';
