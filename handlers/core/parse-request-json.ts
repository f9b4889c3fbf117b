// A JSON parser for inference requests that reads tensor data straight into typed arrays.
import { NumericArray } from './numeric-array.js';

/**
 * A JSON parser for inference requests that gives what `JSON.parse` gives, except that the tensor
 * data of a v2 request (`inputs[i].data`, and each member of the simple form's `inputs` object) is
 * read straight into a `NumericArray` when it is a flat or regularly nested array of numbers.
 * `JSON.parse` would build a JavaScript array with a boxed number per element, which the codec
 * then copies into a typed array: for the 27,648 floats of a 48×192 image, 3 ms against 1 ms here.
 *
 * It reads UTF-8 bytes (a string is written into a reused buffer first: indexing bytes is several
 * times faster than `charCodeAt`). Everything it does not take the fast way (strings with
 * escapes, data arrays that hold strings or are ragged, syntax errors) is handed to `JSON.parse`,
 * so values, and error messages, are `JSON.parse`'s own.
 *
 * Numbers are converted exactly: a decimal significand below 2^53 with a power of ten up to 22 is
 * one correctly rounded multiplication or division (Clinger's fast path); anything else goes to
 * `Number()`, which rounds as `JSON.parse` does. For FP32 data, 17-digit significands (a third of
 * the float32 values printed as doubles) take a shortcut: the double is approximated to within
 * 2^-48, and when both ends of that interval round to the same float32, so does the exact value.
 */

/** Which simple-form inputs are float32, so their data can go straight into a Float32Array. */
export type Float32Inputs = (inputName: string) => boolean;

const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
const TWO_53 = 2 ** 53;
const BELOW = 1 - 2 ** -46;
const ABOVE = 1 + 2 ** -46;

/** Thrown inside the parser for any input it does not take; the caller then asks JSON.parse. */
const NOT_TAKEN = Symbol('not taken');

// Where a value sits in a v2 request: only tensor data is read into typed arrays.
const NONE = 0;
const TOP = 1;
const INPUTS = 2;
const TENSOR = 3;

let scratch = Buffer.allocUnsafeSlow(64 * 1024);
const SCRATCH_KEPT = 8 * 1024 * 1024;

/**
 * Parses a request body. Throws `SyntaxError` exactly where `JSON.parse` would (with its message).
 * `float32Inputs` names the simple-form inputs whose data is FP32.
 */
export function parseRequestJson(body: string | Uint8Array, float32Inputs?: Float32Inputs): unknown {
  let bytes: Buffer;
  let ascii: string | undefined;
  if (typeof body === 'string') {
    // A lone surrogate would come back from UTF-8 as U+FFFD; JSON.parse keeps it.
    if ((body as { isWellFormed?(): boolean }).isWellFormed?.() === false) return JSON.parse(body);
    if (scratch.length < body.length * 3) scratch = Buffer.allocUnsafeSlow(body.length * 3);
    bytes = scratch.subarray(0, scratch.write(body, 0, 'utf8'));
    // As many bytes as characters: all ASCII, so a byte offset is a character index.
    if (bytes.length === body.length) ascii = body;
  } else {
    bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }
  try {
    return new Parser(bytes, ascii, float32Inputs).document();
  } catch (e) {
    if (e !== NOT_TAKEN && !(e instanceof RangeError)) throw e;
    // RangeError: nesting deep enough to exhaust the stack; JSON.parse does not recurse.
    return JSON.parse(typeof body === 'string' ? body : bytes.toString('utf8'));
  } finally {
    if (scratch.length > SCRATCH_KEPT) scratch = Buffer.allocUnsafeSlow(64 * 1024);
  }
}

class Parser {
  private pos = 0;
  /** The first backslash at or after the last string start; `length` when there is none. */
  private backslash = -1;

  /**
   * @param ascii - the body as the string it came as, when it is all ASCII: strings are sliced
   *   from it (V8 shares the characters) instead of made from the bytes (a copy: 130 µs for a
   *   147 kB base64 tensor).
   */
  constructor(private readonly b: Buffer, private readonly ascii: string | undefined, private readonly float32Inputs?: Float32Inputs) {}

  /** The text between two byte offsets, which hold ASCII only. */
  private text(start: number, end: number): string {
    return this.ascii !== undefined ? this.ascii.slice(start, end) : this.b.toString('latin1', start, end);
  }

  document(): unknown {
    const value = this.value(TOP);
    if (this.ws() !== undefined) throw NOT_TAKEN;
    return value;
  }

  /** Skips JSON whitespace; the byte there (undefined at the end). */
  private ws(): number | undefined {
    const b = this.b;
    let i = this.pos;
    let c = b[i];
    while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i];
    this.pos = i;
    return c;
  }

  private value(where: number): unknown {
    const c = this.ws();
    if (c === 123) return this.object(where);
    if (c === 91) return this.array(where);
    if (c === 34) return this.string();
    if (c === 45 || (c !== undefined && c >= 48 && c <= 57)) return this.number(false);
    if (c === 116) return this.literal('true', true);
    if (c === 102) return this.literal('false', false);
    if (c === 110) return this.literal('null', null);
    throw NOT_TAKEN;
  }

  private literal<T>(word: string, value: T): T {
    const b = this.b;
    for (let k = 0; k < word.length; k++) if (b[this.pos + k] !== word.charCodeAt(k)) throw NOT_TAKEN;
    this.pos += word.length;
    return value;
  }

  private object(where: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    let c = this.ws();
    if (c === 125) {
      this.pos++;
      return out;
    }
    let datatype: unknown;
    let shape: unknown;
    let fp32Data: { start: number; count: number } | undefined;
    for (;;) {
      if (c !== 34) throw NOT_TAKEN;
      const key = this.string();
      if (this.ws() !== 58) throw NOT_TAKEN;
      this.pos++;
      let value: unknown;
      if (where === TOP && key === 'inputs') value = this.value(INPUTS);
      else if (where === TENSOR && key === 'data') {
        const start = this.pos;
        const fp32 = datatype === 'FP32';
        value = this.data(fp32, expectedCount(shape));
        fp32Data = fp32 && value instanceof NumericArray ? { start, count: value.length } : undefined;
      } else if (where === INPUTS) value = this.data(this.float32Inputs?.(key) === true, 0);
      else value = this.value(NONE);
      if (where === TENSOR && key === 'datatype') datatype = value;
      if (where === TENSOR && key === 'shape') shape = value;
      if (key === '__proto__') Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      else out[key] = value;
      c = this.ws();
      if (c === 44) {
        this.pos++;
        c = this.ws();
        continue;
      }
      if (c === 125) break;
      throw NOT_TAKEN;
    }
    this.pos++;
    // A later "datatype" key (JSON keeps the last) made the FP32 guess wrong: read the data again, exactly.
    if (fp32Data && datatype !== 'FP32') {
      const end = this.pos;
      this.pos = fp32Data.start;
      out.data = this.data(false, fp32Data.count);
      this.pos = end;
    }
    return out;
  }

  private array(where: number): unknown[] {
    const out: unknown[] = [];
    const element = where === INPUTS ? TENSOR : NONE;
    this.pos++;
    let c = this.ws();
    if (c === 93) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(element));
      c = this.ws();
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 93) break;
      throw NOT_TAKEN;
    }
    this.pos++;
    return out;
  }

  /** Tensor data: a NumericArray when it is an array of numbers, nested regularly; else the plain value. */
  private data(fp32: boolean, capacity: number): unknown {
    if (this.ws() === 91) {
      const start = this.pos;
      const numeric = this.numericArray(fp32, capacity);
      if (numeric) return numeric;
      this.pos = start;
    }
    return this.value(NONE);
  }

  /**
   * Reads `[…]` of numbers, or arrays of them nested to one depth with equal lengths at each
   * depth, into a typed array. Undefined (position unchanged for the caller to reset) on anything
   * else, which the general parser then reads or rejects.
   */
  private numericArray(fp32: boolean, capacity: number): NumericArray | undefined {
    const b = this.b;
    const room = ((b.length - this.pos) >> 1) + 1;
    let values: Float32Array | Float64Array = fp32 ? new Float32Array(Math.min(Math.max(capacity, 16), room)) : new Float64Array(Math.min(Math.max(capacity, 16), room));
    let n = 0;
    const dims: number[] = [];
    const counts: number[] = [];
    let depth = 0;
    let leafDepth = -1;
    let maxDepth = 0;
    let c: number | undefined = 91;
    for (;;) {
      // At a value: an opening bracket or a number.
      if (c === 91) {
        depth++;
        if (leafDepth >= 0 && depth > leafDepth) return undefined;
        if (depth > maxDepth) maxDepth = depth;
        counts[depth] = 0;
        this.pos++;
        c = this.ws();
        if (c !== 93) continue;
      } else {
        if (!(c === 45 || (c !== undefined && c >= 48 && c <= 57))) return undefined;
        if (leafDepth < 0) {
          if (depth < maxDepth) return undefined;
          leafDepth = depth;
        } else if (depth !== leafDepth) return undefined;
        // The numbers of one innermost array: the hot loop, on locals.
        let i = this.pos;
        let count = 0;
        for (;;) {
          if (n === values.length) {
            const grown: Float32Array | Float64Array = fp32 ? new Float32Array(n * 2) : new Float64Array(n * 2);
            grown.set(values);
            values = grown;
          }
          const start = i;
          const negative = c === 45;
          if (negative) c = b[++i];
          let m = 0;
          let digits = 0;
          let e = 0;
          if (c === 48) {
            c = b[++i];
          } else if (c !== undefined && c >= 49 && c <= 57) {
            do {
              m = m * 10 + (c - 48);
              digits++;
              c = b[++i];
            } while (c !== undefined && c >= 48 && c <= 57);
          } else {
            return undefined;
          }
          if (c === 46) {
            c = b[++i];
            const fraction = i;
            while (c !== undefined && c >= 48 && c <= 57) {
              m = m * 10 + (c - 48);
              digits++;
              c = b[++i];
            }
            if (i === fraction) return undefined;
            e = fraction - i;
          }
          if (c === 101 || c === 69 || !(e >= -22 && (m < TWO_53 || (fp32 && digits <= 30)))) {
            // An exponent, or a significand past the fast path: the general reader.
            this.pos = start;
            values[n++] = this.number(fp32);
            i = this.pos;
            c = b[i];
          } else {
            let v = e < 0 ? m / POW10[-e] : m;
            if (m >= TWO_53) {
              const low = Math.fround(v * BELOW);
              v = low === Math.fround(v * ABOVE) ? low : Math.fround(Number(this.text(negative ? start + 1 : start, i)));
            }
            values[n++] = negative ? -v : v;
          }
          count++;
          while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i];
          if (c !== 44) break;
          c = b[++i];
          while (c === 32 || c === 10 || c === 13 || c === 9) c = b[++i];
          if (!(c === 45 || (c !== undefined && c >= 48 && c <= 57))) return undefined;
        }
        this.pos = i;
        counts[depth] += count;
      }
      // After a value: a comma, or closing brackets.
      for (;;) {
        if (c === 44) {
          this.pos++;
          c = this.ws();
          if (c === 93) return undefined;
          break;
        }
        if (c !== 93) return undefined;
        const count = counts[depth];
        if (dims[depth] === undefined) dims[depth] = count;
        else if (dims[depth] !== count) return undefined;
        this.pos++;
        depth--;
        if (depth === 0) return new NumericArray(n === values.length ? values : values.slice(0, n), dims.slice(1));
        counts[depth]++;
        c = this.ws();
      }
    }
  }

  /** A JSON number at `pos`, as JSON.parse reads it (as a float32-rounded value when `fp32`). */
  private number(fp32: boolean): number {
    const b = this.b;
    let i = this.pos;
    let c = b[i];
    const negative = c === 45;
    if (negative) c = b[++i];
    const start = i;
    let m = 0;
    let digits = 0;
    let e = 0;
    if (c === 48) {
      c = b[++i];
    } else if (c !== undefined && c >= 49 && c <= 57) {
      do {
        m = m * 10 + (c - 48);
        digits++;
        c = b[++i];
      } while (c !== undefined && c >= 48 && c <= 57);
    } else {
      throw NOT_TAKEN;
    }
    if (c === 46) {
      c = b[++i];
      const fraction = i;
      while (c !== undefined && c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        digits++;
        c = b[++i];
      }
      if (i === fraction) throw NOT_TAKEN;
      e = fraction - i;
    }
    if (c === 101 || c === 69) {
      c = b[++i];
      let sign = 1;
      if (c === 45) {
        sign = -1;
        c = b[++i];
      } else if (c === 43) {
        c = b[++i];
      }
      if (c === undefined || c < 48 || c > 57) throw NOT_TAKEN;
      let x = 0;
      do {
        if (x < 1e6) x = x * 10 + (c - 48);
        c = b[++i];
      } while (c !== undefined && c >= 48 && c <= 57);
      e += sign * x;
    }
    this.pos = i;
    let v: number;
    if (e >= -22 && e <= 22 && (m < TWO_53 || (fp32 && digits <= 30))) {
      // Exact below 2^53 (both operands exact, one rounding); within 2^-49 otherwise.
      v = e < 0 ? m / POW10[-e] : m * POW10[e];
      if (m >= TWO_53) {
        const low = Math.fround(v * BELOW);
        v = low === Math.fround(v * ABOVE) ? low : Math.fround(Number(this.text(start, i)));
      }
    } else {
      v = Number(this.text(start, i));
    }
    return negative ? -v : v;
  }

  /** A string at `pos` (its opening quote). */
  private string(): string {
    const b = this.b;
    const start = this.pos + 1;
    const close = b.indexOf(34, start);
    if (close < 0) throw NOT_TAKEN;
    if (this.backslash < start) {
      const at = b.indexOf(92, start);
      this.backslash = at < 0 ? b.length : at;
    }
    if (this.backslash < close) return this.escapedString(start);
    const kind = plainKind(b, start, close);
    if (kind < 0) throw NOT_TAKEN;
    this.pos = close + 1;
    return kind === 0 ? this.text(start, close) : b.toString('utf8', start, close);
  }

  /** A string with escapes: found by walking it, decoded by JSON.parse (which checks the escapes). */
  private escapedString(start: number): string {
    const b = this.b;
    let i = start;
    for (;;) {
      const c = b[i];
      if (c === undefined) throw NOT_TAKEN;
      if (c === 34) break;
      i += c === 92 ? 2 : 1;
    }
    this.pos = i + 1;
    try {
      return JSON.parse(b.toString('utf8', start - 1, i + 1)) as string;
    } catch {
      throw NOT_TAKEN;
    }
  }
}

/** The element count a tensor's `shape` states, as a capacity to start from (0 when unusable). */
function expectedCount(shape: unknown): number {
  if (!Array.isArray(shape)) return 0;
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return 0;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : 0;
}

/**
 * Whether the bytes of a string without escapes are ASCII (0), other UTF-8 (1), or hold a control
 * character JSON refuses (-1). Long strings (base64 tensors) are checked four bytes at a time.
 */
function plainKind(b: Buffer, start: number, end: number): number {
  let high = 0;
  let i = start;
  if (end - start >= 64) {
    const offset = b.byteOffset + i;
    const aligned = (offset + 3) & ~3;
    for (; i < start + (aligned - offset); i++) {
      const c = b[i];
      if (c < 32) return -1;
      high |= c;
    }
    const words = new Uint32Array(b.buffer, aligned, (end - i) >> 2);
    let control = 0;
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      // Any byte below 0x20 sets its 0x80 bit here (exact for "any byte", bithacks' hasless).
      control |= (w - 0x20202020) & ~w;
      high |= w;
    }
    if ((control & 0x80808080) !== 0) return -1;
    i += words.length << 2;
  }
  for (; i < end; i++) {
    const c = b[i];
    if (c < 32) return -1;
    high |= c;
  }
  return (high & 0x80808080) !== 0 ? 1 : 0;
}
