import { instancesToRequest, isInstancesRequest, toPredictions } from './instances.js';
import type { InferenceCore, V2InferenceRequest, V2InferenceResponse } from './types.js';

/**
 * The body of a scoring route (`/invocations`, `/score`, Vertex's predict route, Lambda's `POST /`):
 * `{ "instances": [...] }` answers `{ "predictions": [...] }`; anything else is a v2 request.
 */
export async function predict(core: Pick<InferenceCore, 'infer' | 'signature'>, body: unknown): Promise<V2InferenceResponse | { predictions: unknown[] }> {
  if (isInstancesRequest(body)) {
    const plan = instancesToRequest(body, core.signature);
    return toPredictions(plan, await core.infer(plan.request));
  }
  return core.infer(body as V2InferenceRequest);
}
