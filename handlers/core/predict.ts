// The scoring routes' body: instances answered as predictions, anything else as a v2 request.
import { instancesToRequest, isInstancesRequest, toPredictions } from './instances.js';
import { inferenceResponseJson, type JsonText } from './response-json.js';
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

/**
 * `predict` for an HTTP body: a v2 request is answered as JSON text written from the raw outputs
 * (`inferenceResponseJson`) when the core gives them, which costs less than building the response
 * object for `JSON.stringify`.
 */
export async function predictJson(core: Pick<InferenceCore, 'infer' | 'inferRaw' | 'signature' | 'modelName'>, body: unknown): Promise<JsonText | V2InferenceResponse | { predictions: unknown[] }> {
  if (isInstancesRequest(body) || !core.inferRaw) return predict(core, body);
  return inferenceResponseJson(core.modelName, await core.inferRaw(body as V2InferenceRequest));
}
