// onnxruntime-node's answer to the smoke request, the reference for the browser's.
import { createInferenceCore } from '../../../handlers/core/create-inference-core.js';
import type { V2InferenceResponse } from '../../../handlers/core/types.js';
import { DeployModelError } from '../../errors.js';
import type { ModelSignature } from '../../model/types.js';
import type { V2Request } from '../../smoke/smoke-input.js';

/**
 * onnxruntime-node's answer to the smoke request, through the project's own inference core: the
 * reference every web smoke test compares the browser's outputs with.
 */
export async function referenceOutputs(signature: ModelSignature, modelName: string, request: V2Request): Promise<V2InferenceResponse> {
  const core = await createInferenceCore({ modelPath: signature.file, signature, modelName, log: () => undefined });
  try {
    return await core.infer(request as Parameters<typeof core.infer>[0]);
  } catch (e) {
    throw new DeployModelError('WEB_REFERENCE_FAILED', `onnxruntime-node could not run the smoke input on ${signature.file}: ${(e as Error).message}. Fix smoke.input (or model.inputs shapes) so that the model accepts it.`, { cause: e });
  } finally {
    await core.close();
  }
}
