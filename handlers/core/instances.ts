// The Vertex AI instances/predictions envelope, translated to and from v2 requests.
import type { ModelSignature, TensorSpec } from '../../src/model/types.js';
import { v2Datatype } from '../../src/model/dtypes.js';
import { InferenceError } from './inference-error.js';
import { describe, elementCount, flattenNested, formatShape, inferShape, unflatten } from './nested.js';
import type { V2InferenceRequest, V2InferenceResponse, V2RequestTensor, V2ResponseTensor } from './types.js';

/**
 * The Vertex AI envelope `{ "instances": [...], "parameters"? }` → `{ "predictions": [...] }`.
 *
 * - Tensor instances: when every instance is a v2 tensor (`name` and `data`, plus `shape` and
 *   `datatype`), the instances are the v2 `inputs` and the predictions are the v2 `outputs`.
 * - Per-instance objects: otherwise each instance is one example, `{ inputName: nestedArray }`
 *   without the batch dim (a bare value when the model has one input). The examples are stacked
 *   along a new first dim, so n instances make a batch of n; a scalar (rank 0) input is not
 *   stacked and must be equal in every instance. Every output is split along its first dim, which
 *   must equal n, and prediction i is `{ outputName: nestedArray }` for instance i.
 */
export interface InstancesPlan {
  request: V2InferenceRequest;
  /** 'tensors': predictions are the v2 outputs; 'split': one object per instance. */
  mode: 'tensors' | 'split';
  count: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isInstancesRequest(body: unknown): body is { instances: unknown; parameters?: unknown } {
  return isObject(body) && 'instances' in body && !('inputs' in body);
}

function isTensorInstance(v: unknown): boolean {
  return isObject(v) && typeof v.name === 'string' && 'data' in v && ('shape' in v || 'datatype' in v);
}

export function instancesToRequest(body: { instances: unknown; parameters?: unknown }, signature: ModelSignature): InstancesPlan {
  const { instances } = body;
  if (!Array.isArray(instances) || instances.length === 0) {
    throw new InferenceError(400, 'INVALID_REQUEST', `"instances" must be a non-empty array, got ${describe(instances)}`);
  }
  const parameters = isObject(body.parameters) ? body.parameters : undefined;
  if (instances.every(isTensorInstance)) {
    return { request: { inputs: instances as V2RequestTensor[], ...(parameters ? { parameters } : {}) }, mode: 'tensors', count: instances.length };
  }
  const examples = instances.map((inst, i) => perInstanceInputs(inst, i, signature));
  const inputs = signature.inputs.map((spec) => stack(spec, examples.map((e) => e[spec.name])));
  return { request: { inputs }, mode: 'split', count: instances.length };
}

function perInstanceInputs(inst: unknown, index: number, signature: ModelSignature): Record<string, unknown> {
  const inputNames = signature.inputs.map((s) => `"${s.name}"`).join(', ');
  if (signature.inputs.length === 1 && !isObject(inst)) return { [signature.inputs[0].name]: inst };
  if (!isObject(inst)) {
    throw new InferenceError(400, 'INVALID_REQUEST', `instances[${index}] is ${describe(inst)}; with several inputs each instance must be an object { inputName: value } naming ${inputNames}`);
  }
  for (const key of Object.keys(inst)) {
    if (!signature.inputs.some((s) => s.name === key)) {
      throw new InferenceError(400, 'UNKNOWN_INPUT', `instances[${index}]: input "${key}" is not an input of the model; its inputs are ${inputNames}`);
    }
  }
  for (const spec of signature.inputs) {
    if (!(spec.name in inst)) {
      throw new InferenceError(400, 'MISSING_INPUT', `instances[${index}]: input "${spec.name}" is missing; every instance needs ${inputNames}`);
    }
  }
  return inst;
}

function stack(spec: TensorSpec, values: unknown[]): V2RequestTensor {
  const { name } = spec;
  const datatype = spec.dtype === 'unsupported' ? spec.onnxTypeName : v2Datatype(spec.dtype);
  if (spec.shape !== null && spec.shape.length === 0) {
    const first = JSON.stringify(values[0]);
    const differs = values.findIndex((v) => JSON.stringify(v) !== first);
    if (differs >= 0) {
      throw new InferenceError(400, 'INSTANCE_SHAPE_MISMATCH', `input "${name}" is a scalar, which is not batched, so every instance must carry the same value; instances[${differs}] differs from instances[0]`);
    }
    return { name, shape: [], datatype, data: Array.isArray(values[0]) ? values[0] : [values[0]] };
  }
  const shape = inferShape(values[0]);
  const per = elementCount(shape);
  const data: unknown[] = new Array(per * values.length);
  values.forEach((v, i) => {
    const s = inferShape(v);
    if (formatShape(s) !== formatShape(shape)) {
      throw new InferenceError(400, 'INSTANCE_SHAPE_MISMATCH', `input "${name}": instances[${i}] has shape ${formatShape(s)} but instances[0] has ${formatShape(shape)}; instances are stacked into one batch, so they must have the same shape`);
    }
    const flat = Array.isArray(v) ? flattenNested(name, v, shape, true) : [v];
    for (let j = 0; j < per; j++) data[i * per + j] = flat[j];
  });
  return { name, shape: [values.length, ...shape], datatype, data };
}

/** The predictions for a plan, from the core's (JSON-encoded) response. */
export function toPredictions(plan: InstancesPlan, response: V2InferenceResponse): { predictions: unknown[] } {
  if (plan.mode === 'tensors') return { predictions: response.outputs };
  const predictions = Array.from({ length: plan.count }, () => ({} as Record<string, unknown>));
  for (const out of response.outputs) splitOutput(out, plan.count, predictions);
  return { predictions };
}

function splitOutput(out: V2ResponseTensor, n: number, predictions: Record<string, unknown>[]): void {
  if (out.shape.length === 0 || out.shape[0] !== n || typeof out.data === 'string') {
    throw new InferenceError(400, 'UNBATCHABLE_OUTPUT', `output "${out.name}" has shape ${formatShape(out.shape)}, whose first dim is not the number of instances (${n}), so it cannot be split per instance; send the instances as v2 tensors ({ "name", "shape", "datatype", "data" }) to get whole outputs`);
  }
  const rest = out.shape.slice(1);
  const per = elementCount(rest);
  for (let i = 0; i < n; i++) {
    predictions[i][out.name] = unflatten((out.data as unknown[]).slice(i * per, (i + 1) * per), rest);
  }
}
