// Row-major nested arrays: shape inference, flattening and rebuilding.
import { InferenceError } from './inference-error.js';

/** Row-major nested arrays: shape inference, flattening and rebuilding. */

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: readonly (number | string)[] | null): string {
  return shape === null ? '[unknown rank]' : `[${shape.join(',')}]`;
}

/**
 * The shape of a nested array, read along its first entries (`[[1,2,3],[4,5,6]]` → `[2,3]`;
 * a scalar → `[]`). Raggedness is caught by `flattenNested`.
 */
export function inferShape(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

/**
 * Flattens `data` row-major. Flat data (no array in its first entry) is returned as is; nested
 * data must follow `shape` exactly. `ragged` picks the error: RAGGED_ARRAY when the shape was
 * inferred from the data itself, DATA_SHAPE_MISMATCH when the client stated it.
 */
export function flattenNested(name: string, data: unknown[], shape: readonly number[], ragged = false): unknown[] {
  if (data.length === 0 || !Array.isArray(data[0])) {
    if (!ragged || shape.length <= 1) return data;
  }
  const out = new Array<unknown>(elementCount(shape));
  let offset = 0;
  const fail = (path: number[], detail: string): never => {
    const where = path.length ? `at ${path.map((i) => `[${i}]`).join('')}` : 'at the top level';
    throw ragged
      ? new InferenceError(400, 'RAGGED_ARRAY', `input "${name}": ragged nested array ${where}: ${detail}; every row of a dim must have the same length (shape read from the first entries: ${formatShape(shape)})`)
      : new InferenceError(400, 'DATA_SHAPE_MISMATCH', `input "${name}": nested data does not follow shape ${formatShape(shape)} ${where}: ${detail}; send data flat or nested exactly as the shape says`);
  };
  const walk = (value: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(value)) fail(path, 'found an array where the shape ends');
      out[offset++] = value;
      return;
    }
    if (!Array.isArray(value)) return void fail(path, `found ${describe(value)} where dim ${depth} expects an array of ${shape[depth]}`);
    if (value.length !== shape[depth]) fail(path, `dim ${depth} has ${value.length} entries, expected ${shape[depth]}`);
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walk(value[i], depth + 1, path);
      path.pop();
    }
  };
  walk(data, 0, []);
  return out;
}

/** Rebuilds a nested array of `shape` from flat row-major values. */
export function unflatten<T>(flat: ArrayLike<T>, shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  let offset = 0;
  const build = (depth: number): unknown[] => {
    const n = shape[depth];
    const out = new Array<unknown>(n);
    if (depth === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = flat[offset++];
    } else {
      for (let i = 0; i < n; i++) out[i] = build(depth + 1);
    }
    return out;
  };
  return build(0);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}" (a string)`;
  if (typeof value === 'object') return 'an object';
  return `${String(value)} (a ${typeof value})`;
}
