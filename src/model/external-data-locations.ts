/** The external data files an ONNX model names, read from its bytes without loading its weights. */
import { decodeModel } from './_decode-model.js';

/** Each distinct `location` of the model's external tensors, as written in the model; throws when the bytes are not ONNX. */
export function externalDataLocations(model: Uint8Array): string[] {
  return [...new Set(decodeModel(model).externalRefs.map((r) => r.location))];
}
