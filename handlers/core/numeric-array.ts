// Tensor data parsed from JSON straight into a typed array.
import { unflatten } from './nested.js';

/**
 * Tensor data read from JSON straight into a typed array: a flat or regularly nested JSON array of
 * numbers, without the JavaScript array (and the boxed number per element) `JSON.parse` would build.
 * `parseRequestJson` makes one for each `data` of a v2 request; the codec takes it as it would
 * take the array itself.
 */
export class NumericArray {
  /**
   * @param values - the numbers, row-major. A Float64Array holds exactly the doubles `JSON.parse`
   *   gives; a Float32Array (made only for a tensor whose datatype is FP32) holds those doubles
   *   rounded to float32, as storing them in a Float32Array would.
   * @param dims - the nesting: `[n]` for a flat array, `[2, 3]` for `[[…3], […3]]`.
   */
  constructor(readonly values: Float32Array | Float64Array, readonly dims: readonly number[]) {}

  get length(): number {
    return this.values.length;
  }

  /** The nested arrays `JSON.parse` gives (for a Float64Array; a Float32Array's are rounded). */
  toArray(): unknown[] {
    const flat = Array.from(this.values);
    return this.dims.length === 1 ? flat : unflatten(flat, this.dims) as unknown[];
  }
}
