// Converts JSON tensor values to typed arrays and back, one dtype at a time.
import type { Dtype } from '../../src/model/types.js';
import { v2Datatype } from '../../src/model/dtypes.js';
import { toFloat16Bits } from './float16.js';
import { InferenceError } from './inference-error.js';
import { describe } from './nested.js';
import type { TensorData } from './types.js';

/** JSON values to typed arrays, one dtype at a time, checking every element. */

const INT_RANGES: Partial<Record<Dtype, [number, number, Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Uint32ArrayConstructor]>> = {
  int8: [-128, 127, Int8Array],
  int16: [-32768, 32767, Int16Array],
  int32: [-2147483648, 2147483647, Int32Array],
  uint8: [0, 255, Uint8Array],
  uint16: [0, 65535, Uint16Array],
  uint32: [0, 4294967295, Uint32Array],
};

const BIGINT_RANGES = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
} as const;

/** JSON has no NaN or Infinity; float tensors carry them as these strings, both ways. */
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

const DECIMAL = /^-?\d+$/;

function invalid(name: string, dtype: Dtype, index: number, value: unknown, rule: string): InferenceError {
  return new InferenceError(400, 'INVALID_VALUE', `input "${name}": element ${index} is ${describe(value)}; ${v2Datatype(dtype)} data must be ${rule}`);
}

function outOfRange(name: string, dtype: Dtype, index: number, value: unknown, lo: number | bigint, hi: number | bigint, hint = ''): InferenceError {
  return new InferenceError(400, 'VALUE_OUT_OF_RANGE', `input "${name}": element ${index} is ${describe(value)}, outside the ${v2Datatype(dtype)} range [${lo}, ${hi}]${hint}`);
}

function floatValue(name: string, dtype: Dtype, i: number, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v in NON_FINITE) return NON_FINITE[v];
  throw invalid(name, dtype, i, v, 'numbers (or the strings "NaN", "Infinity", "-Infinity")');
}

/** Converts flat JSON values (length already checked) to the typed array onnxruntime takes. */
export function parseValues(name: string, dtype: Dtype, flat: ArrayLike<unknown>): TensorData {
  const n = flat.length;
  switch (dtype) {
    case 'float32':
    case 'float64': {
      const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        out[i] = typeof v === 'number' ? v : floatValue(name, dtype, i, v);
      }
      return out;
    }
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = toFloat16Bits(floatValue(name, dtype, i, flat[i]));
      return out;
    }
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32': {
      const [lo, hi, Ctor] = INT_RANGES[dtype]!;
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(name, dtype, i, v, 'integers');
        if (v < lo || v > hi) throw outOfRange(name, dtype, i, v, lo, hi);
        out[i] = v;
      }
      return out;
    }
    case 'int64': case 'uint64': {
      const [lo, hi] = BIGINT_RANGES[dtype];
      const out = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        let big: bigint;
        if (typeof v === 'number') {
          if (!Number.isInteger(v)) throw invalid(name, dtype, i, v, 'integers (JSON numbers up to 2^53-1, or decimal strings)');
          if (!Number.isSafeInteger(v)) {
            throw outOfRange(name, dtype, i, v, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER,
              ' of exact JSON numbers; send larger 64-bit integers as decimal strings ("9007199254740993")');
          }
          big = BigInt(v);
        } else if (typeof v === 'string' && DECIMAL.test(v)) {
          big = BigInt(v);
        } else {
          throw invalid(name, dtype, i, v, 'integers (JSON numbers up to 2^53-1, or decimal strings)');
        }
        if (big < lo || big > hi) throw outOfRange(name, dtype, i, v, lo, hi);
        out[i] = big;
      }
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'boolean') throw invalid(name, dtype, i, v, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'string': {
      for (let i = 0; i < n; i++) {
        if (typeof flat[i] !== 'string') throw invalid(name, dtype, i, flat[i], 'strings');
      }
      return Array.isArray(flat) ? flat as string[] : Array.from(flat as ArrayLike<string>);
    }
    case 'bfloat16':
      throw new InferenceError(400, 'UNSUPPORTED_DATATYPE', `input "${name}": BF16 tensors cannot be served by onnxruntime-node`);
  }
}

/** Output values to JSON: non-finite floats as strings, 64-bit integers as numbers when all are exact. */
export function jsonValues(dtype: Dtype, data: unknown): (number | string | boolean)[] {
  if (dtype === 'string') return Array.from(data as string[]);
  if (dtype === 'bool') return Array.from(data as ArrayLike<unknown>, (v) => Boolean(v));
  if (dtype === 'int64' || dtype === 'uint64') {
    const big = data as BigInt64Array | BigUint64Array;
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    let safe = true;
    for (let i = 0; i < big.length; i++) {
      if (big[i] > max || big[i] < -max) { safe = false; break; }
    }
    return safe ? Array.from(big, (v) => Number(v)) : Array.from(big, (v) => v.toString());
  }
  const nums: number[] = Array.from(data as ArrayLike<number>);
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'float16') {
    const out: (number | string)[] = nums;
    for (let i = 0; i < nums.length; i++) {
      if (!Number.isFinite(nums[i])) out[i] = String(nums[i]);
    }
    return out;
  }
  return nums;
}
