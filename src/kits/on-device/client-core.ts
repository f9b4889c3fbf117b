// The model-independent part of every generated client (web and React Native), shared by both targets.

/**
 * TypeScript text placed after the generated constants and types (MODEL, SIGNATURE, ModelInputs,
 * ModelOutputs): input checks and conversions, output conversion, v2 helpers. Each client adds
 * its own `createClient`. No template literals inside: this is itself a template string.
 */
export const CLIENT_CORE = String.raw`
export interface OrtTensor { readonly type: string; readonly dims: readonly number[]; readonly data: unknown }
/** A constructor of onnxruntime tensors (onnxruntime-web's or onnxruntime-react-native's 'Tensor'). */
export type OrtTensorConstructor = new (type: never, data: never, dims?: readonly number[]) => OrtTensor;

/** A wrong input: names the input, the rule and the fix. */
export class ModelInputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(message);
    this.name = 'ModelInputError';
    this.input = input;
  }
}

export interface V2Tensor { name: string; datatype: string; shape: number[]; data: unknown[] }
export interface V2Request { inputs: V2Tensor[] }
export interface V2Response { model_name: string; outputs: V2Tensor[] }

const V2_TYPES: Record<Dtype, string> = {
  float32: 'FP32', float16: 'FP16', float64: 'FP64', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', bool: 'BOOL', string: 'BYTES',
};

type NumberArrayCtor = { from(values: ArrayLike<number>): ArrayLike<number> };
const TYPED: Partial<Record<Dtype, NumberArrayCtor & (abstract new (...args: never[]) => unknown)>> = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array, int16: Int16Array, int32: Int32Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
};

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const shapeText = (shape: readonly unknown[]): string => '[' + shape.join(', ') + ']';

/** float32 value to IEEE half bits, rounding to nearest even (through float32: inputs are float32 anyway). */
function toHalfBits(value: number): number {
  const x = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const shift = 14 - e;
    const m = mant | 0x800000;
    const half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (rem > halfway || (rem === halfway && (half & 1) === 1) ? half + 1 : half);
  }
  const half = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  return rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1) ? half + 1 : half;
}

function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function fixedShape(spec: TensorSpec): number[] | undefined {
  return spec.shape && spec.shape.every((d) => typeof d === 'number') ? (spec.shape as number[]) : undefined;
}

function checkShape(spec: TensorSpec, shape: readonly number[], named: Map<string, { size: number; input: string }>): void {
  const where = 'input "' + spec.name + '"';
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ModelInputError(spec.name, where + ': shape must be an array of non-negative integers, got ' + JSON.stringify(shape));
  }
  if (!spec.shape) return;
  if (shape.length !== spec.shape.length) {
    throw new ModelInputError(spec.name, where + ' has shape ' + shapeText(shape) + ' (rank ' + shape.length + ') but the model expects rank ' + spec.shape.length + ' ' + shapeText(spec.shape) + '; give one size per dim');
  }
  spec.shape.forEach((dim, i) => {
    if (typeof dim === 'number' && dim !== shape[i]) {
      throw new ModelInputError(spec.name, where + ': dim ' + i + ' is ' + shape[i] + ' but the model fixes it to ' + dim + ' ' + shapeText(spec.shape!) + '; use ' + dim);
    }
    if (typeof dim === 'string' && dim !== '?') {
      const seen = named.get(dim);
      if (seen && seen.size !== shape[i]) {
        throw new ModelInputError(spec.name, where + ': dim ' + i + ' ("' + dim + '") is ' + shape[i] + ' but input "' + seen.input + '" gave "' + dim + '" = ' + seen.size + '; a named dim has one size across inputs');
      }
      if (!seen) named.set(dim, { size: shape[i]!, input: spec.name });
    }
  });
}

/**
 * A typed array that spans its whole buffer is passed as it is; a view into a larger buffer is
 * copied, because onnxruntime-react-native's native side reads from the buffer's start
 * (cpp/TensorUtils.cpp: 'buffer.data(runtime)', no byteOffset).
 */
function owned<T extends ArrayBufferView>(view: T): T {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : ((view as unknown as { slice(): T }).slice());
}

function toData(spec: TensorSpec, data: unknown): unknown {
  const where = 'input "' + spec.name + '" (' + spec.dtype + ')';
  if (spec.dtype === 'string') {
    if (!Array.isArray(data) || data.some((v) => typeof v !== 'string')) throw new ModelInputError(spec.name, where + ': data must be an array of strings');
    return data.slice();
  }
  if (!(ArrayBuffer.isView(data) || Array.isArray(data))) throw new ModelInputError(spec.name, where + ': data must be a typed array or an array, got ' + typeof data);
  const values = data as ArrayLike<number | bigint | boolean>;
  try {
    switch (spec.dtype) {
      case 'int64': return values instanceof BigInt64Array ? owned(values) : BigInt64Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v));
      case 'uint64': return values instanceof BigUint64Array ? owned(values) : BigUint64Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v));
      case 'bool': return values instanceof Uint8Array ? owned(values) : Uint8Array.from(values as ArrayLike<unknown>, (v) => (v ? 1 : 0));
      case 'float16': return values instanceof Uint16Array ? owned(values) : Uint16Array.from(values as ArrayLike<number>, (v) => toHalfBits(Number(v)));
      default: {
        const Ctor = TYPED[spec.dtype]!;
        return values instanceof Ctor ? owned(values as unknown as ArrayBufferView & ArrayLike<number>) : Ctor.from(Array.from(values as ArrayLike<number>, Number));
      }
    }
  } catch (e) {
    throw new ModelInputError(spec.name, where + ': ' + messageOf(e) + '; give integers for integer types');
  }
}

function toFeeds(TensorCtor: OrtTensorConstructor, inputs: ModelInputs): Record<string, OrtTensor> {
  const given = inputs as unknown as Record<string, { data?: unknown; shape?: readonly number[] } | undefined>;
  const known = SIGNATURE.inputs.map((s) => s.name);
  for (const name of Object.keys(given)) {
    if (!known.includes(name)) throw new ModelInputError(name, 'input "' + name + '" is not an input of the model; its inputs are ' + known.join(', '));
  }
  const named = new Map<string, { size: number; input: string }>();
  const feeds: Record<string, OrtTensor> = {};
  for (const spec of SIGNATURE.inputs) {
    const value = given[spec.name];
    if (!value || typeof value !== 'object' || !('data' in value)) {
      throw new ModelInputError(spec.name, 'input "' + spec.name + '" is missing; give { data, shape } for it');
    }
    const shape = value.shape ?? fixedShape(spec);
    if (!shape) throw new ModelInputError(spec.name, 'input "' + spec.name + '" needs a shape: the model has dynamic dims ' + shapeText(spec.shape ?? []));
    checkShape(spec, shape, named);
    const data = toData(spec, value.data);
    const count = shape.reduce((a, b) => a * b, 1);
    const length = (data as ArrayLike<unknown>).length;
    if (length !== count) {
      throw new ModelInputError(spec.name, 'input "' + spec.name + '" has ' + length + ' values but its shape ' + shapeText(shape) + ' needs ' + count);
    }
    feeds[spec.name] = new TensorCtor(spec.dtype as never, data as never, shape);
  }
  return feeds;
}

function fromResults(results: Record<string, OrtTensor>): ModelOutputs {
  const out: Record<string, { dtype: string; data: unknown; shape: readonly number[] }> = {};
  for (const spec of SIGNATURE.outputs) {
    const t = results[spec.name];
    if (t) out[spec.name] = { dtype: t.type, data: t.data, shape: [...t.dims] };
  }
  return out as unknown as ModelOutputs;
}

/** Largest absolute difference between two outputs' values; Infinity when their sizes or NaNs differ. */
export function maxAbsDiff(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (x === y) continue;
    max = Math.max(max, Math.abs(x - y));
  }
  return max;
}

function flatten(data: unknown): unknown[] {
  return Array.isArray(data) ? data.flat(Number.POSITIVE_INFINITY) : [];
}

/** The typed inputs of an Open Inference Protocol (KServe v2) request, as the smoke test sends them. */
export function inputsFromV2(request: V2Request): ModelInputs {
  const out: Record<string, { data: unknown[]; shape: number[] }> = {};
  for (const t of request.inputs) out[t.name] = { data: flatten(t.data), shape: [...t.shape] };
  return out as unknown as ModelInputs;
}

function jsonValues(dtype: string, data: unknown): unknown[] {
  if (dtype === 'float16' && data instanceof Uint16Array) return Array.from(data, fromHalfBits);
  if (dtype === 'bool') return Array.from(data as ArrayLike<unknown>, (v) => Boolean(v));
  if (dtype === 'int64' || dtype === 'uint64') return Array.from(data as ArrayLike<bigint>, (v) => Number(v));
  return Array.from(data as ArrayLike<unknown>);
}

/** The outputs as an Open Inference Protocol (KServe v2) response, comparable with any other target's. */
export function outputsToV2(outputs: ModelOutputs): V2Response {
  const given = outputs as unknown as Record<string, { dtype: string; data: unknown; shape: readonly number[] } | undefined>;
  const tensors: V2Tensor[] = [];
  for (const spec of SIGNATURE.outputs) {
    const t = given[spec.name];
    if (t) tensors.push({ name: spec.name, datatype: V2_TYPES[spec.dtype], shape: [...t.shape], data: jsonValues(spec.dtype, t.data) });
  }
  return { model_name: MODEL.name, outputs: tensors };
}

`;
