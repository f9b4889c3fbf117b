// Resolves the dynamic dims of the model's inputs to concrete sizes.
import { DeployModelError } from '../errors.js';
import type { TensorSpec } from './types.js';

/** The size a dynamic dim takes when nothing says otherwise: 1 for the first (batch-like), 64 otherwise. */
export const DEFAULT_BATCH_DIM = 1;
export const DEFAULT_OTHER_DIM = 64;

/**
 * A concrete shape for an input: the config's override (`model.inputs.<name>.shape`) when given,
 * checked against the fixed dims, else the model's dims with dynamic ones resolved to defaults.
 * One rule for smoke inputs, Triton warmup and benchmarks.
 */
export function resolveShape(spec: TensorSpec, override?: readonly number[]): number[] {
  if (spec.shape === null) {
    if (override) return [...override];
    throw new DeployModelError('SHAPE_UNKNOWN_RANK', `Input '${spec.name}' has no shape in the model, so a test input cannot be generated. Set model.inputs.${spec.name}.shape in the config, e.g. [1, 3, 224, 224].`, { details: { input: spec.name } });
  }
  if (override) {
    if (override.length !== spec.shape.length) {
      throw new DeployModelError('SHAPE_OVERRIDE_RANK', `model.inputs.${spec.name}.shape is [${override.join(', ')}] (rank ${override.length}) but the model's input '${spec.name}' has rank ${spec.shape.length} ([${spec.shape.join(', ')}]). Give one size per dim.`, { details: { input: spec.name } });
    }
    spec.shape.forEach((dim, i) => {
      if (typeof dim === 'number' && dim !== override[i]) {
        throw new DeployModelError('SHAPE_OVERRIDE_FIXED_DIM', `model.inputs.${spec.name}.shape[${i}] is ${override[i]} but the model fixes that dim to ${dim}. Use ${dim} there; only dynamic dims can be chosen.`, { details: { input: spec.name, index: i } });
      }
    });
    return [...override];
  }
  return spec.shape.map((dim, i) => (typeof dim === 'number' ? dim : i === 0 ? DEFAULT_BATCH_DIM : DEFAULT_OTHER_DIM));
}

/**
 * Concrete shapes for every input, resolving each named dynamic dim to ONE value across inputs
 * (silero's `batch` is the first dim of `input` and the second of `state`): a name fixed by an
 * override wins, a name that is the first dim of any input is 1, other names are 64.
 */
export function resolveInputShapes(inputs: readonly TensorSpec[], overrides: Record<string, { shape: number[] }> = {}): Record<string, number[]> {
  const named = new Map<string, number>();
  for (const spec of inputs) {
    const o = overrides[spec.name]?.shape;
    if (!o || !spec.shape) continue;
    resolveShape(spec, o); // validates the override against fixed dims
    spec.shape.forEach((d, i) => { if (typeof d === 'string' && d !== '?') named.set(d, o[i]); });
  }
  for (const spec of inputs) {
    spec.shape?.forEach((d, i) => {
      if (typeof d === 'string' && d !== '?' && !named.has(d) && i === 0) named.set(d, DEFAULT_BATCH_DIM);
    });
  }
  const out: Record<string, number[]> = {};
  for (const spec of inputs) {
    const o = overrides[spec.name]?.shape;
    out[spec.name] = o
      ? resolveShape(spec, o)
      : resolveShape(spec).map((size, i) => {
          const d = spec.shape![i];
          return typeof d === 'string' && d !== '?' && named.has(d) ? named.get(d)! : size;
        });
  }
  return out;
}
