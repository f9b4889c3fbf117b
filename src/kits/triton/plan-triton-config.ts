// Plans a Triton model config from the model's signature and the target's options.
import { posix, win32 } from 'node:path';
import type { ModelConfig } from '../../config/schema.js';
import { DeployModelError } from '../../errors.js';
import { tritonDataType } from '../../model/dtypes.js';
import type { Dtype, ModelSignature, TensorSpec } from '../../model/types.js';
import { engineCacheLocation } from './engine-cache.js';
import { planWarmup } from './_plan-warmup.js';
import type { TritonOptions } from './schema.js';
import type { TritonHost } from './serving-host.js';
import type { TritonAccelerator, TritonDataType, TritonInput, TritonModelConfig, TritonOutput } from './types.js';

/**
 * The batch limit of a model that can batch but has no `model.batching`: the same number as
 * `model.batching.maxBatchSize`'s default, so turning batching on changes the scheduler only.
 */
export const DEFAULT_MAX_BATCH_SIZE = 8;

export interface PlanTritonConfigParams {
  signature: Pick<ModelSignature, 'inputs' | 'outputs'>;
  /** Triton's model name: the folder name in the repository and the `/v2/models/<name>` path. */
  modelName: string;
  /** The GPU target serving it, which decides the default engine cache path. */
  host: TritonHost;
  /** `model.batching` of the config. */
  batching?: ModelConfig['batching'];
  /** `model.inputs` of the config: concrete shapes for dynamic dims, used by warmup. */
  inputShapes?: ModelConfig['inputs'];
  options: TritonOptions;
  /**
   * `runtime` of the config: `intraOpThreads` becomes the onnxruntime backend's
   * `intra_op_thread_count` parameter. `executionProviders` does not apply: `engine` decides.
   * @default - onnxruntime's choice of threads
   */
  runtime?: { intraOpThreads?: number };
}

/**
 * Plans a model's Triton configuration (config.pbtxt as data) from its ONNX signature.
 *
 * Batching rule: the model batches when every input and output has a dynamic first dim (a named
 * dim or `?`). Then `max_batch_size` is `model.batching.maxBatchSize` (else
 * DEFAULT_MAX_BATCH_SIZE, so clients may still send batches themselves), dims leave the batch dim
 * out, and `dynamic_batching` is written only when `model.batching` is set: merging requests is
 * the user's choice of latency for throughput. Otherwise `max_batch_size` is 0 and dims are the
 * full shape. Other dynamic dims are -1. Triton needs non-empty dims, so a tensor with no dims
 * left is declared as dims [1]; see `tritonDims` for when a reshape goes with it.
 */
export function planTritonConfig(params: PlanTritonConfigParams): TritonModelConfig {
  const { signature, modelName, host, batching, inputShapes, options, runtime } = params;
  checkModelName(modelName);
  checkTensors(signature.inputs, signature.outputs, options.tritonVersion);
  checkInputShapeNames(signature.inputs, inputShapes);

  const tensors = [...signature.inputs, ...signature.outputs];
  const notBatchable = tensors.find((t) => !hasDynamicFirstDim(t));
  const batches = notBatchable === undefined;
  if (batching && !batches) throw batchingUnsupported(notBatchable!, signature.inputs.includes(notBatchable!));

  const maxBatchSize = batches ? batching?.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE : 0;
  const preferred = batching?.preferredBatchSizes;
  const tooBig = preferred?.find((size) => size > maxBatchSize);
  if (tooBig !== undefined) {
    throw new DeployModelError('TRITON_PREFERRED_BATCH_SIZE',
      `model.batching.preferredBatchSizes contains ${tooBig}, larger than model.batching.maxBatchSize (${maxBatchSize}); Triton refuses to load such a model. Remove it or raise maxBatchSize.`,
      { details: { preferredBatchSizes: preferred, maxBatchSize } });
  }

  const config: TritonModelConfig = {
    name: modelName,
    backend: 'onnxruntime',
    max_batch_size: maxBatchSize,
    input: signature.inputs.map((t): TritonInput => ({ name: t.name, data_type: dataType(t), ...tritonDims(t.shape!, batches) })),
    output: signature.outputs.map((t): TritonOutput => ({ name: t.name, data_type: dataType(t), ...tritonDims(t.shape!, batches) })),
  };
  if (batching) {
    config.dynamic_batching = {
      ...(preferred && preferred.length > 0 ? { preferred_batch_size: [...preferred] } : {}),
      max_queue_delay_microseconds: Math.round(batching.maxQueueDelayMs * 1000),
    };
  }
  config.instance_group = [{ count: options.instancesPerGpu, kind: 'KIND_GPU' }];
  if (options.engine === 'tensorrt') {
    config.optimization = { execution_accelerators: { gpu_execution_accelerator: [tensorrtAccelerator(host, modelName, options)] } };
  }
  if (runtime?.intraOpThreads !== undefined) {
    // onnxruntime_backend src/onnxruntime.cc (r25.09, ModelState::LoadModel) reads it with
    // TryParseModelStringParameter and calls SetIntraOpNumThreads when it is above 0.
    config.parameters = { intra_op_thread_count: { string_value: String(runtime.intraOpThreads) } };
  }
  if (options.warmup) {
    config.model_warmup = [planWarmup(signature.inputs, batches ? maxBatchSize : 0, inputShapes)];
  }
  return config;
}

/**
 * A tensor's dims without the batch dim when the model batches. One with no dims left is declared
 * as [1], and its reshape depends on batching, as Triton r24.09 to r25.09 require:
 * - batching (a batch-only tensor, ONNX shape [batch]): `reshape { shape: [] }`, so that the
 *   onnxruntime backend compares [-1] + [] with the model's [-1] (`CompareDimsSupported` in
 *   onnxruntime_backend src/onnxruntime_utils.cc); its autocomplete writes the same
 *   (`ModelState::AutoCompleteIO` in src/onnxruntime.cc);
 * - not batching (a scalar, ONNX shape []): no reshape. Triton core refuses an empty reshape when
 *   max_batch_size is 0 ("scalar tensors are not supported": `ValidateIOShape` in core
 *   src/model_config_utils.cc), and the backend takes a scalar declared as [1] as it is: it checks
 *   that every dim is 1 and hands ONNX Runtime a rank-0 tensor (`ModelInstanceState::ValidateInputs`,
 *   `ValidateOutputs` and `SetInputTensors` in src/onnxruntime.cc).
 */
function tritonDims(shape: readonly (number | string)[], batches: boolean): { dims: number[]; reshape?: { shape: number[] } } {
  const dims = (batches ? shape.slice(1) : shape).map((d) => (typeof d === 'number' ? d : -1));
  if (dims.length > 0) return { dims };
  return batches ? { dims: [1], reshape: { shape: [] } } : { dims: [1] };
}

function hasDynamicFirstDim(t: TensorSpec): boolean {
  return t.shape !== null && t.shape.length > 0 && typeof t.shape[0] === 'string';
}

function dataType(t: TensorSpec): TritonDataType {
  return tritonDataType(t.dtype as Dtype) as TritonDataType;
}

const PRECISION_MODE = { fp16: 'FP16', fp32: 'FP32', int8: 'INT8' } as const;

/**
 * ONNX Runtime's TensorRT provider, as the Triton onnxruntime backend configures it. Engines are
 * built on the serving GPU at the first inference (the warmup, when on) and cached.
 */
function tensorrtAccelerator(host: TritonHost, modelName: string, options: TritonOptions): TritonAccelerator {
  const cache = engineCacheLocation(host, modelName, options);
  const parameters: Record<string, string> = {
    precision_mode: PRECISION_MODE[options.precision],
    max_workspace_size_bytes: String(options.workspaceMb * 1024 * 1024),
    trt_engine_cache_enable: '1',
    trt_engine_cache_path: cache.path,
  };
  if (options.precision === 'int8') {
    const calibration = options.int8Calibration;
    if (!calibration) {
      throw new DeployModelError('TRITON_INT8_CALIBRATION',
        "precision 'int8' needs a calibration table: set int8Calibration: { table: './calibration.flatbuffers' }, or use precision 'fp16'.",
        { details: { precision: options.precision } });
    }
    if (cache.repositoryDir === null && options.engineCachePath === undefined) {
      throw new DeployModelError('TRITON_INT8_CALIBRATION',
        `precision 'int8' reads the calibration table from the engine cache directory, which on ${host} is ${cache.path}, outside the model repository, so the table cannot be shipped there. `
        + "Set engineCachePath to a directory you provision with the table, or use precision 'fp16'.",
        { details: { host, engineCachePath: cache.path } });
    }
    // The provider looks the table up by name inside the cache directory.
    parameters.int8_calibration_table_name = calibrationTableName(calibration.table);
    parameters.int8_use_native_calibration_table = calibration.format === 'tensorrt' ? '1' : '0';
  }
  return { name: 'tensorrt', parameters };
}

/** The table's file name, as shipped into the engine cache directory. */
export function calibrationTableName(table: string): string {
  return win32.basename(posix.basename(table));
}

function checkModelName(name: string): void {
  // Triton uses the name as a folder and in URLs; SageMaker passes it in an environment variable.
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) {
    throw new DeployModelError('TRITON_MODEL_NAME',
      `Triton model name ${JSON.stringify(name)} must start with a letter or digit and contain only letters, digits, '_', '.' and '-' (at most 128 characters). Use the config's name, e.g. 'ocr-det'.`,
      { details: { modelName: name } });
  }
}

function checkInputShapeNames(inputs: readonly TensorSpec[], inputShapes: ModelConfig['inputs']): void {
  for (const name of Object.keys(inputShapes ?? {})) {
    if (!inputs.some((t) => t.name === name)) {
      throw new DeployModelError('SHAPE_OVERRIDE_UNKNOWN_INPUT',
        `model.inputs.${name} names no input of the model; its inputs are ${inputs.map((t) => `'${t.name}'`).join(', ')}. Rename or remove it.`,
        { details: { input: name, inputs: inputs.map((t) => t.name) } });
    }
  }
}

/**
 * The last Triton release whose onnxruntime backend refuses TYPE_BF16 ("unsupported datatype":
 * `ModelConfigDataTypeToOnnxType` in onnxruntime_backend src/onnxruntime_utils.cc, r24.09 to
 * r25.12); support arrived on the backend's main branch afterwards.
 */
const LAST_RELEASE_WITHOUT_BF16 = '25.12';

/** Every tensor Triton must declare needs a servable element type and a known rank. */
function checkTensors(inputs: readonly TensorSpec[], outputs: readonly TensorSpec[], tritonVersion: string): void {
  const problems: string[] = [];
  const tensors: Array<{ role: 'input' | 'output'; t: TensorSpec }> = [
    ...inputs.map((t) => ({ role: 'input' as const, t })),
    ...outputs.map((t) => ({ role: 'output' as const, t })),
  ];
  for (const { role, t } of tensors) {
    if (t.dtype === 'unsupported') {
      problems.push(`${role} '${t.name}' has element type ${t.onnxTypeName}, which Triton cannot serve: re-export the model with a standard numeric, bool or string type there (e.g. add a Cast node)`);
    } else if (t.dtype === 'bfloat16' && tritonVersion <= LAST_RELEASE_WITHOUT_BF16) {
      problems.push(`${role} '${t.name}' is bfloat16, which the onnxruntime backend of Triton ${tritonVersion} refuses (TYPE_BF16 is supported after ${LAST_RELEASE_WITHOUT_BF16}): add Cast nodes to float16 or float32 at the model's edges, or use a later tritonVersion`);
    } else if (t.shape === null) {
      problems.push(`${role} '${t.name}' has no rank in the graph, and Triton needs dims for every ${role}: run shape inference before exporting (python -m onnxruntime.tools.symbolic_shape_infer --input model.onnx --output model.onnx)`);
    }
  }
  if (problems.length > 0) {
    throw new DeployModelError('TRITON_UNSUPPORTED_TENSOR', `The model cannot be served by Triton: ${problems.join('; ')}.`,
      { details: { tensors: tensors.filter(({ t }) => t.dtype === 'unsupported' || t.dtype === 'bfloat16' || t.shape === null).map(({ role, t }) => ({ role, name: t.name, onnxType: t.onnxTypeName, shape: t.shape })) } });
  }
}

function batchingUnsupported(t: TensorSpec, isInput: boolean): DeployModelError {
  const why = t.shape!.length === 0 ? 'is a scalar' : `has a fixed first dim (${t.shape![0]})`;
  return new DeployModelError('TRITON_BATCHING_UNSUPPORTED',
    `model.batching is set, but ${isInput ? 'input' : 'output'} '${t.name}' ${why} ([${t.shape!.join(', ')}]): requests can only be merged along a first dim that every input and output leaves dynamic. Remove model.batching, or re-export the model with a dynamic batch dim.`,
    { details: { tensor: t.name, shape: t.shape } });
}
