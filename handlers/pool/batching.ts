// Dynamic batching: which models can merge concurrent requests, and how batches are split back.
import type { ModelSignature, TensorSpec } from '../../src/model/types.js';
import type { DecodedTensor, TensorData } from '../core/types.js';
import type { WireTensor } from './_worker-source.js';

/** Dynamic batching: concurrent requests merged along the first dim into one run. */
export interface BatchingOptions {
  /** Largest merged batch, in rows (the sum of the requests' first dims). */
  maxBatchSize: number;
  /** Longest the oldest waiting request waits for others to join its batch. */
  maxQueueDelayMs: number;
  /** Batch sizes that are dispatched as soon as they are reached (Triton's preferred_batch_size). @default - none */
  preferredBatchSizes?: readonly number[];
}

function dynamicFirstDim(t: TensorSpec): boolean {
  return t.shape !== null && t.shape.length > 0 && typeof t.shape[0] === 'string';
}

/**
 * Why requests to this model cannot be merged, or undefined when they can: every input and output
 * must leave its first dim dynamic (the rule Triton's max_batch_size applies).
 */
export function batchingProblem(signature: Pick<ModelSignature, 'inputs' | 'outputs'>): string | undefined {
  for (const t of [...signature.inputs, ...signature.outputs]) {
    if (!dynamicFirstDim(t)) {
      const kind = signature.inputs.includes(t) ? 'input' : 'output';
      return t.shape === null
        ? `${kind} "${t.name}" has no stated rank`
        : `${kind} "${t.name}" has shape [${t.shape.join(', ')}], whose first dim is not dynamic`;
    }
  }
  return undefined;
}

/**
 * Requests with the same key can share a run: the same dtypes and the same dims after the first
 * for every input, and the same outputs fetched. Undefined for a request that is not batchable
 * (a scalar input, or an empty first dim).
 */
export function batchKey(inputs: readonly DecodedTensor[], fetches: readonly string[]): string | undefined {
  let rows: number | undefined;
  const parts: string[] = [];
  for (const t of inputs) {
    if (t.shape.length === 0 || t.shape[0] === 0) return undefined;
    if (rows === undefined) rows = t.shape[0];
    else if (t.shape[0] !== rows) return undefined;
    parts.push(`${t.name}:${t.dtype}:${t.shape.slice(1).join('x')}`);
  }
  return rows === undefined ? undefined : `${parts.join('|')}>${fetches.join(',')}`;
}

/** The rows a request contributes to a batch: its inputs' shared first dim. */
export function batchRows(inputs: readonly DecodedTensor[]): number {
  return inputs[0]?.shape[0] ?? 1;
}

function concat(parts: readonly TensorData[]): TensorData {
  const first = parts[0];
  if (Array.isArray(first)) return (parts as string[][]).flat();
  let total = 0;
  for (const p of parts) total += p.length;
  const Ctor = (first as Exclude<TensorData, string[]>).constructor as new (n: number) => Exclude<TensorData, string[]>;
  const out = new Ctor(total);
  let offset = 0;
  for (const p of parts as Exclude<TensorData, string[]>[]) {
    (out as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, offset);
    offset += p.length;
  }
  return out;
}

/** Stacks requests (same batch key) along the first dim: row-major data simply follows on. */
export function mergeInputs(requests: readonly (readonly DecodedTensor[])[]): DecodedTensor[] {
  if (requests.length === 1) return [...requests[0]];
  const rows = requests.reduce((n, r) => n + batchRows(r), 0);
  return requests[0].map((t, i) => ({
    name: t.name,
    dtype: t.dtype,
    shape: [rows, ...t.shape.slice(1)],
    data: concat(requests.map((r) => r[i].data)),
  }));
}

/**
 * Cuts a batched output back into each request's rows. Views, not copies, for typed arrays.
 * Undefined when the output's first dim is not the batch's rows (the model did not keep the
 * batch dim on this output): the caller then runs the requests one by one.
 */
export function splitOutput(output: WireTensor, rows: readonly number[]): WireTensor[] | undefined {
  const total = rows.reduce((a, b) => a + b, 0);
  if (output.dims.length === 0 || output.dims[0] !== total) return undefined;
  if (rows.length === 1) return [output];
  const rest = output.dims.slice(1);
  const rowSize = rest.reduce((a, b) => a * b, 1);
  const parts: WireTensor[] = [];
  let row = 0;
  for (const r of rows) {
    const start = row * rowSize;
    const end = (row + r) * rowSize;
    const data = Array.isArray(output.data)
      ? output.data.slice(start, end)
      : (output.data as unknown as { subarray(a: number, b: number): ArrayBufferView }).subarray(start, end);
    parts.push({ name: output.name, type: output.type, dims: [r, ...rest], data });
    row += r;
  }
  return parts;
}

/** Checks batching options; messages name the variable or field to fix. */
export function checkBatchingOptions(options: BatchingOptions, where = 'batching'): BatchingOptions {
  const { maxBatchSize, maxQueueDelayMs, preferredBatchSizes } = options;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new RangeError(`${where}.maxBatchSize is ${maxBatchSize}; it must be a positive integer`);
  if (!(maxQueueDelayMs >= 0) || !Number.isFinite(maxQueueDelayMs)) throw new RangeError(`${where}.maxQueueDelayMs is ${maxQueueDelayMs}; it must be a number of milliseconds, 0 or more`);
  const bad = preferredBatchSizes?.find((s) => !Number.isInteger(s) || s < 1 || s > maxBatchSize);
  if (bad !== undefined) throw new RangeError(`${where}.preferredBatchSizes contains ${bad}; each must be a whole number from 1 to maxBatchSize (${maxBatchSize})`);
  return { maxBatchSize, maxQueueDelayMs, ...(preferredBatchSizes?.length ? { preferredBatchSizes: [...preferredBatchSizes].sort((a, b) => a - b) } : {}) };
}
