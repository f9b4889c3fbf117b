import { checkTritonLoad } from './check-triton-load.js';
import type { TritonRule } from './load-context.js';
import type { OrtModelIo } from './ort-model-io.js';

/** A model with x float32 [batch, 3, width] -> y float32 [batch, 2], as ONNX Runtime reports it. */
export const MODEL: OrtModelIo = {
  inputs: [{ name: 'x', type: 'FLOAT', dims: [-1, 3, -1] }],
  outputs: [{ name: 'y', type: 'FLOAT', dims: [-1, 2] }],
};

/** The same model, plus k int64 scalar -> n int64 scalar, so it cannot batch. */
export const SCALAR_MODEL: OrtModelIo = {
  inputs: [...MODEL.inputs, { name: 'k', type: 'INT64', dims: [] }],
  outputs: [...MODEL.outputs, { name: 'n', type: 'INT64', dims: [] }],
};

/**
 * A config Triton loads for MODEL, in the form deploy-model writes; `overrides` replace its
 * top-level fields, so each rule test states the whole field it breaks.
 */
export function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'm',
    backend: 'onnxruntime',
    max_batch_size: 8,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1] }],
    output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [2] }],
    dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 },
    instance_group: [{ count: 1, kind: 'KIND_GPU' }],
    optimization: {
      execution_accelerators: {
        gpu_execution_accelerator: [{
          name: 'tensorrt',
          parameters: { precision_mode: 'FP16', max_workspace_size_bytes: '4294967296', trt_engine_cache_enable: '1', trt_engine_cache_path: '/models/m/trt_engine_cache' },
        }],
      },
    },
    model_warmup: [{ name: 'warmup', batch_size: 1, inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 16], random_data: true } } }],
    ...overrides,
  };
}

/** The same for SCALAR_MODEL: max_batch_size 0, full shapes, the scalars declared as [1]. */
export function scalarConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return config({
    max_batch_size: 0,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 3, -1] }, { name: 'k', data_type: 'TYPE_INT64', dims: [1] }],
    output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [-1, 2] }, { name: 'n', data_type: 'TYPE_INT64', dims: [1] }],
    dynamic_batching: undefined,
    model_warmup: [{
      name: 'warmup', batch_size: 1,
      inputs: { x: { data_type: 'TYPE_FP32', dims: [1, 3, 16], random_data: true }, k: { data_type: 'TYPE_INT64', dims: [1], zero_data: true } },
    }],
    ...overrides,
  });
}

/** Triton's messages from one rule for a config. */
export function refusals(rule: TritonRule, cfg: object, opts: { model?: OrtModelIo; directoryName?: string; gpus?: number } = {}): string[] {
  return checkTritonLoad({ config: cfg, model: opts.model ?? MODEL, directoryName: opts.directoryName, gpus: opts.gpus, rules: [rule] })
    .map((r) => r.message);
}
