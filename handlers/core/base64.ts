// Base64-encoded raw tensor bytes: the compact JSON form of large tensors.
import type { Dtype } from '../../src/model/types.js';
import { bytesPerElement, v2Datatype } from '../../src/model/dtypes.js';
import { InferenceError } from './inference-error.js';
import { formatShape } from './nested.js';
import type { TensorData } from './types.js';

/**
 * Base64 of a tensor's little-endian raw bytes: the compact JSON path for large tensors.
 * Every platform the runtime targets (x86_64, arm64) is little-endian, so typed arrays are used
 * as they lie in memory.
 */

const CTORS: Partial<Record<Dtype, new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => Exclude<TensorData, string[]>>> = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array,
  int8: Int8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array,
  bool: Uint8Array,
};

/** Decodes base64 raw bytes into the typed array for `dtype`, checking the byte count. */
export function decodeBase64Tensor(name: string, dtype: Dtype, shape: readonly number[], count: number, data: unknown): TensorData {
  const width = bytesPerElement(dtype);
  const Ctor = CTORS[dtype];
  if (width === undefined || !Ctor) {
    throw new InferenceError(400, 'UNSUPPORTED_ENCODING', `input "${name}": content_encoding "base64" is not supported for ${v2Datatype(dtype)} tensors; send ${v2Datatype(dtype)} data as a JSON array`);
  }
  if (typeof data !== 'string') {
    throw new InferenceError(400, 'INVALID_DATA', `input "${name}": with content_encoding "base64", data must be a base64 string of the raw little-endian bytes`);
  }
  // The usual case, decoded straight into the tensor's own buffer: no intermediate Buffer, no copy.
  const expected = count * width;
  if (data.length % 4 === 0 && (data.length / 4) * 3 - padding(data) === expected) {
    const buffer = new ArrayBuffer(expected);
    if (Buffer.from(buffer).write(data, 'base64') === expected && !data.includes('-') && !data.includes('_')) {
      const out = new Ctor(buffer);
      if (dtype === 'bool') normaliseBool(out as Uint8Array);
      return out;
    }
  }
  const bytes = Buffer.from(data, 'base64');
  if (!isStandardBase64(data, bytes.length)) {
    throw new InferenceError(400, 'INVALID_DATA', `input "${name}": data is not valid base64 (standard alphabet A-Z a-z 0-9 + /, padded with =)`);
  }
  return decodeRawTensor(name, dtype, shape, count, bytes, 'base64 data decodes to');
}

/**
 * Buffer.from(…, 'base64') skips characters outside the alphabet, stops at '=' and also takes the
 * URL-safe alphabet. So a padded string that decoded to its full length, with no '-' or '_', held
 * only standard base64: the same verdict as a regular expression, without a per-character scan in
 * JavaScript (which cost 10 ms for a 2 MB tensor).
 */
function isStandardBase64(data: string, decodedBytes: number): boolean {
  if (data.length % 4 !== 0) return false;
  return decodedBytes === (data.length / 4) * 3 - padding(data) && !data.includes('-') && !data.includes('_');
}

function padding(data: string): number {
  return data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
}

function normaliseBool(b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) b[i] = b[i] ? 1 : 0;
}

/** Buffers a server read a request body into, and gives up to its tensors: see `adoptRequestBuffer`. */
const requestBuffers = new WeakSet<ArrayBuffer>();

/**
 * Marks `buffer` as a request body's own, used by nothing but that request: raw tensors decoded
 * from it are views into it instead of copies, and a worker pool may transfer it (which empties it
 * here). The server reads each body into a fresh buffer laid out for this (`readBody`).
 */
export function adoptRequestBuffer(buffer: ArrayBuffer): void {
  requestBuffers.add(buffer);
}

/** Whether `buffer` is a request body's own (see `adoptRequestBuffer`). */
export function isRequestBuffer(buffer: ArrayBufferLike): boolean {
  return requestBuffers.has(buffer as ArrayBuffer);
}

/**
 * Raw little-endian bytes (the v2 binary tensor data extension) into the typed array for `dtype`,
 * checking the byte count. The bytes are copied, so the result owns an aligned buffer of its own,
 * unless they lie aligned in a request's own buffer (`adoptRequestBuffer`): then the result is a
 * view of them.
 */
export function decodeRawTensor(name: string, dtype: Dtype, shape: readonly number[], count: number, bytes: Uint8Array, what = 'binary data has'): TensorData {
  const width = bytesPerElement(dtype);
  const Ctor = CTORS[dtype];
  if (width === undefined || !Ctor) {
    throw new InferenceError(400, 'UNSUPPORTED_ENCODING', `input "${name}": raw bytes are not supported for ${v2Datatype(dtype)} tensors; send ${v2Datatype(dtype)} data as a JSON array`);
  }
  const expected = count * width;
  if (bytes.length !== expected) {
    throw new InferenceError(400, 'DATA_SIZE_MISMATCH', `input "${name}": ${what} ${bytes.length} bytes, but shape ${formatShape(shape)} of ${v2Datatype(dtype)} needs ${expected} (${count} elements × ${width} bytes)`);
  }
  if (requestBuffers.has(bytes.buffer as ArrayBuffer) && bytes.byteOffset % width === 0) {
    const view = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
    if (dtype === 'bool') normaliseBool(view as Uint8Array);
    return view;
  }
  // Copy into a fresh buffer: Buffer memory may be pooled or unaligned for the element width.
  const copy = new ArrayBuffer(expected);
  new Uint8Array(copy).set(bytes);
  const out = new Ctor(copy);
  if (dtype === 'bool') normaliseBool(out as Uint8Array);
  return out;
}

/** Base64 of a typed array's bytes; undefined for string tensors. */
export function encodeBase64Tensor(data: unknown): string | undefined {
  if (!ArrayBuffer.isView(data)) return undefined;
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
