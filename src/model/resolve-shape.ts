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
