// Plans Triton's warmup request from the model's inputs.
import type { ModelConfig } from '../../config/schema.js';
import { DeployModelError } from '../../errors.js';
import { tritonDataType } from '../../model/dtypes.js';
import { resolveInputShapes } from '../../model/resolve-shape.js';
import type { Dtype, TensorSpec } from '../../model/types.js';
import type { TritonDataType, TritonWarmup, TritonWarmupInput } from './types.js';

const FLOAT_TYPES: ReadonlySet<Dtype> = new Set(['float16', 'bfloat16', 'float32', 'float64']);

/**
 * One warmup request covering every input, shaped by the rule the smoke tests use
 * (`resolveInputShapes`: `model.inputs` overrides, else 1 for a dynamic first dim and 64 for
 * others, one value per symbolic dim name across inputs).
 *
 * Floats get random data. Integers and bools get zeros: random integers are out of range as soon
 * as an input is an index (Gather, Embedding), while 0 is always a valid index. Silero VAD's `sr`
 * (int64 sample rate) is a case in point: its 16 kHz graph runs with sr 0. A warmup the model
 * cannot run fails the model's load, so models with a minimum input length (Silero needs 512
 * samples, not the default 64) must set `model.inputs`.
 */
export function planWarmup(inputs: readonly TensorSpec[], maxBatchSize: number, inputShapes: ModelConfig['inputs']): TritonWarmup {
  const batches = maxBatchSize > 0;
  let batchSize: { size: number; from: string } | undefined;
  const samples: Record<string, TritonWarmupInput> = {};
  const shapes = resolveInputShapes(inputs, inputShapes);
  for (const spec of inputs) {
    const shape = shapes[spec.name];
    let dims = shape;
    if (batches) {
      const size = shape[0];
      if (batchSize === undefined) batchSize = { size, from: spec.name };
      else if (batchSize.size !== size) {
        throw new DeployModelError('TRITON_WARMUP_BATCH',
          `The warmup request has one batch size, but the inputs' first dims resolve to ${batchSize.size} ('${batchSize.from}') and ${size} ('${spec.name}'). Give the same first dim to every input in model.inputs.`,
          { details: { inputs: [batchSize.from, spec.name], sizes: [batchSize.size, size] } });
      }
      dims = shape.slice(1);
    }
    samples[spec.name] = {
      data_type: tritonDataType(spec.dtype as Dtype) as TritonDataType,
      // The config declares a tensor with no dims left (a scalar, or a batch-only input) as [1],
      // and a warmup sample must match the config's dims.
      dims: dims.length === 0 ? [1] : dims,
      ...(FLOAT_TYPES.has(spec.dtype as Dtype) ? { random_data: true } : { zero_data: true }),
    };
  }
  const size = batchSize?.size ?? 1;
  if (batches && (size < 1 || size > maxBatchSize)) {
    throw new DeployModelError('TRITON_WARMUP_BATCH',
      `The warmup batch size is ${size} (the first dim of model.inputs.${batchSize!.from}.shape), but Triton accepts 1 to max_batch_size (${maxBatchSize}). Use a first dim in that range.`,
      { details: { batchSize: size, maxBatchSize } });
  }
  return { name: 'warmup', batch_size: size, inputs: samples };
}
