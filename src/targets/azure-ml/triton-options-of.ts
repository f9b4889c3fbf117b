/** The azure-ml target as the shared Triton planner takes it. */
import { DEFAULT_TRITON_VERSION, type TritonOptions } from '../../kits/triton/index.js';
import type { AzureMlTargetConfig } from './schema.js';

/**
 * The target as the shared Triton planner takes it. The planner's options carry a release
 * (`tritonVersion`), which an azure-ml target cannot choose: Azure ML picks the Triton image, and
 * the schema refuses the field. The planner reads the release for one thing, whether the
 * onnxruntime backend takes bfloat16 tensors; the default release stands in, so bfloat16 is
 * refused, which is right for the Triton images Azure ML serves today.
 */
export function tritonOptionsOf(target: AzureMlTargetConfig): AzureMlTargetConfig & TritonOptions {
  return { ...target, tritonVersion: DEFAULT_TRITON_VERSION };
}
