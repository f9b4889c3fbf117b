/**
 * IEEE 754 half precision, converted straight from doubles (not through float32, which would round
 * twice). onnxruntime-node carries 'float16' tensors as Uint16Array bit patterns.
 */

const MIN_NORMAL = 2 ** -14;
const SUBNORMAL_STEP = 2 ** -24;

/** Rounds half to even, as IEEE conversion does. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The half-precision bit pattern nearest to `value` (ties to even; overflow to Infinity). */
export function toFloat16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  // 65520 is halfway between the largest half (65504) and 2^16; ties to even round it up.
  if (abs >= 65520) return sign | 0x7c00;
  if (abs < MIN_NORMAL) return sign | roundHalfEven(abs / SUBNORMAL_STEP);
  let exponent = Math.floor(Math.log2(abs));
  // log2 can be off by one next to powers of two.
  if (2 ** exponent > abs) exponent -= 1;
  else if (2 ** (exponent + 1) <= abs) exponent += 1;
  let mantissa = roundHalfEven((abs / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}

export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * SUBNORMAL_STEP;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
