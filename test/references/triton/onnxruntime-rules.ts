import { dimsString, type LoadContext, type TritonRule } from './load-context.js';
import type { AcceleratorMessage, TensorMessage } from './model-config-message.js';
import type { OrtTensorInfo } from './ort-model-io.js';

/**
 * Load-time rules of Triton's ONNX Runtime backend (triton-inference-server/onnxruntime_backend,
 * branch r25.09), written from its sources: how it checks a config against the ONNX model, and
 * which execution accelerator settings it takes. Each returns the backend's error messages.
 */

const BACKEND = 'triton-inference-server/onnxruntime_backend src/onnxruntime.cc r25.09';
const UTILS = 'triton-inference-server/onnxruntime_backend src/onnxruntime_utils.cc r25.09';

/** Config data types the backend maps to ONNX (`ModelConfigDataTypeToOnnxDataType`); TYPE_BF16 is not one at r25.09. */
const CONFIG_TO_ONNX: Record<string, string> = {
  TYPE_BOOL: 'BOOL', TYPE_UINT8: 'UINT8', TYPE_UINT16: 'UINT16', TYPE_UINT32: 'UINT32', TYPE_UINT64: 'UINT64',
  TYPE_INT8: 'INT8', TYPE_INT16: 'INT16', TYPE_INT32: 'INT32', TYPE_INT64: 'INT64',
  TYPE_FP16: 'FLOAT16', TYPE_FP32: 'FLOAT', TYPE_FP64: 'DOUBLE', TYPE_STRING: 'STRING',
};

/** ONNX types as the backend names them in errors (`ConvertFromOnnxDataType`, then `TRITONSERVER_DataTypeString`). */
const ONNX_TO_SERVER: Record<string, string> = {
  FLOAT: 'FP32', UINT8: 'UINT8', INT8: 'INT8', UINT16: 'UINT16', INT16: 'INT16', INT32: 'INT32', INT64: 'INT64',
  STRING: 'BYTES', BOOL: 'BOOL', FLOAT16: 'FP16', DOUBLE: 'FP64', UINT32: 'UINT32', UINT64: 'UINT64',
};

/** Inputs: one per model input, names the model has, its data types, dims (or reshape) its shapes. */
export const onnxInputsRule: TritonRule = {
  id: 'onnxruntime.inputs',
  source: `${BACKEND}, ModelInstanceState::ValidateInputs; ${UTILS}, CompareDimsSupported`,
  check: (ctx) => {
    const { config: c, model } = ctx;
    // Optional inputs (initializers a request may override) are not counted.
    const expected = c.input.filter((io) => !io.optional).length;
    if (model.inputs.length !== expected) {
      return [`unable to load model '${c.name}', configuration expects ${expected} inputs, model provides ${model.inputs.length}`];
    }
    const problems: string[] = [];
    for (const io of c.input) {
      if (io.optional && c.max_batch_size !== 0) {
        problems.push(`unable to load model '${c.name}', optional input '${io.name}' is not supported for models that support batching`);
        continue;
      }
      const problem = tensorProblem(ctx, io, 'input', model.inputs);
      if (problem) problems.push(problem);
    }
    return problems;
  },
};

/** Outputs: names the model has, its data types, and dims (or reshape) exactly its shapes. */
export const onnxOutputsRule: TritonRule = {
  id: 'onnxruntime.outputs',
  source: `${BACKEND}, ModelInstanceState::ValidateOutputs; ${UTILS}, CompareDimsSupported`,
  check: (ctx) => ctx.config.output.map((io) => tensorProblem(ctx, io, 'output', ctx.model.outputs)).filter((p): p is string => p !== undefined),
};

function tensorProblem({ config: c }: LoadContext, io: TensorMessage, role: 'input' | 'output', tensors: readonly OrtTensorInfo[]): string | undefined {
  const info = tensors.find((t) => t.name === io.name);
  if (!info) {
    // core's CheckAllowedModelInput / CheckAllowedModelOutput, over the names in a std::set.
    const allowed = tensors.map((t) => t.name).sort().join(', ');
    return `unexpected inference ${role} '${io.name}', allowed ${role}s are: ${allowed}`;
  }
  const onnxType = CONFIG_TO_ONNX[io.data_type];
  if (onnxType === undefined) return `unsupported datatype ${io.data_type} for ${role} '${io.name}' for model '${c.name}'`;
  if (onnxType !== info.type) {
    return `unable to load model '${c.name}', configuration expects datatype ${io.data_type} for ${role} '${io.name}', model provides TYPE_${ONNX_TO_SERVER[info.type] ?? 'INVALID'}`;
  }
  // A reshape is what the model sees, so it is what gets compared.
  const dims = io.reshape ? io.reshape.shape : io.dims;
  if (role === 'input' && io.allow_ragged_batch) {
    if (info.dims.length !== 1 || info.dims[0] !== -1) {
      return `unable to load model '${c.name}', configuration expects model provides input with shape [-1]  for ragged input '${io.name}', model provides ${dimsString(info.dims)}`;
    }
    return undefined;
  }
  if (info.dims.length === 0) {
    // A scalar in the model: every configured dim must be 1; ONNX Runtime gets a rank-0 tensor.
    if (dims.some((d) => d !== 1)) {
      return `unable to load model '${c.name}', scalar tensor '${io.name}', should only provide 1 in the model configuration when the model doesn't support batching. Model configuration provided: ${dimsString(dims)}.`;
    }
    return undefined;
  }
  return compareDims(c.name, io.name, info.dims, dims, c.max_batch_size, role === 'output');
}

/**
 * `CompareDimsSupported`: with batching the model's first dim must be -1 and the config's dims
 * follow it; a fixed model dim must match, and for outputs (`compare_exact`) so must a -1.
 */
function compareDims(model: string, tensor: string, shape: readonly number[], dims: readonly number[], maxBatchSize: number, exact: boolean): string | undefined {
  const matches = (full: readonly number[]) => shape.length === full.length
    && full.every((d, i) => !(exact || shape[i] !== -1) || shape[i] === d);
  if (maxBatchSize > 0) {
    if (shape.length === 0 || shape[0] !== -1) {
      return `model '${model}', tensor '${tensor}': for the model to support batching the shape should have at least 1 dimension and the first dimension must be -1; but shape expected by the model is ${dimsString(shape)}`;
    }
    const full = [-1, ...dims];
    if (!matches(full)) {
      return `model '${model}', tensor '${tensor}': the model expects ${shape.length} dimensions (shape ${dimsString(shape)}) but the model configuration specifies ${full.length} dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape ${dimsString(full)})`;
    }
    return undefined;
  }
  if (!matches(dims)) {
    return `model '${model}', tensor '${tensor}': the model expects ${shape.length} dimensions (shape ${dimsString(shape)}) but the model configuration specifies ${dims.length} dimensions (shape ${dimsString(dims)})`;
  }
  return undefined;
}

type ParamKind = 'string' | 'bool' | 'int' | 'ull' | 'precision';

/** Every parameter the TensorRT accelerator takes at r25.09, and how its value is parsed. */
export const TENSORRT_PARAMETERS: Readonly<Record<string, ParamKind>> = {
  precision_mode: 'precision',
  max_workspace_size_bytes: 'ull',
  trt_max_partition_iterations: 'int',
  trt_min_subgraph_size: 'int',
  int8_calibration_table_name: 'string',
  int8_use_native_calibration_table: 'bool',
  trt_dla_enable: 'bool',
  trt_dla_core: 'int',
  trt_engine_cache_enable: 'bool',
  trt_engine_cache_path: 'string',
  trt_engine_cache_prefix: 'string',
  trt_dump_subgraphs: 'bool',
  trt_force_sequential_engine_build: 'bool',
  trt_context_memory_sharing_enable: 'bool',
  trt_layer_norm_fp32_fallback: 'bool',
  trt_timing_cache_enable: 'bool',
  trt_timing_cache_path: 'string',
  trt_force_timing_cache: 'bool',
  trt_detailed_build_log: 'bool',
  trt_build_heuristics_enable: 'bool',
  trt_sparsity_enable: 'bool',
  trt_builder_optimization_level: 'int',
  trt_auxiliary_streams: 'int',
  trt_tactic_sources: 'string',
  trt_extra_plugin_lib_paths: 'string',
  trt_profile_min_shapes: 'string',
  trt_profile_max_shapes: 'string',
  trt_profile_opt_shapes: 'string',
  trt_cuda_graph_enable: 'bool',
  trt_dump_ep_context_model: 'bool',
  trt_ep_context_file_path: 'string',
  trt_ep_context_embed_mode: 'int',
};

/** The CUDA accelerator's parameters pass through as strings, except these two booleans. */
const CUDA_BOOL_PARAMETERS = new Set(['do_copy_in_default_stream', 'use_ep_level_unified_stream']);

/**
 * GPU execution accelerators, read when an instance runs on a GPU: `tensorrt` with the
 * parameters above, or `cuda`; anything else stops the load.
 */
export const gpuAcceleratorsRule: TritonRule = {
  id: 'onnxruntime.gpu-accelerators',
  source: `${BACKEND}, ModelState::LoadModel (gpu_execution_accelerator); triton-inference-server/backend src/backend_common.cc r25.09, ParseBoolValue / ParseIntValue / ParseUnsignedLongLongValue`,
  check: ({ config: c }) => {
    const onGpu = c.instance_group.some((g) => g.kind === 'KIND_GPU' || g.kind === 'KIND_AUTO');
    const accelerators = c.optimization?.execution_accelerators?.gpu_execution_accelerator ?? [];
    if (!onGpu) return [];
    return accelerators.map(acceleratorProblem).filter((p): p is string => p !== undefined);
  },
};

function acceleratorProblem(accelerator: AcceleratorMessage): string | undefined {
  const params = Object.entries(accelerator.parameters);
  if (accelerator.name === 'tensorrt') {
    for (const [key, value] of params) {
      const kind = TENSORRT_PARAMETERS[key];
      if (kind === undefined) return `unknown parameter '${key}' is provided for TensorRT Execution Accelerator`;
      const problem = valueProblem(kind, value);
      if (problem) return problem;
    }
    return undefined;
  }
  if (accelerator.name === 'cuda') {
    const bad = params.find(([key, value]) => CUDA_BOOL_PARAMETERS.has(key) && valueProblem('bool', value));
    return bad ? valueProblem('bool', bad[1]) : undefined;
  }
  return `unknown Execution Accelerator '${accelerator.name}' is requested`;
}

function valueProblem(kind: ParamKind, value: string): string | undefined {
  switch (kind) {
    case 'string':
      return undefined;
    case 'precision':
      return ['FP16', 'FP32', 'INT8'].includes(value) ? undefined : `unsupported precision mode '${value}' is requested`;
    case 'bool':
      return ['true', 'on', '1', 'false', 'off', '0'].includes(value.toLowerCase()) ? undefined : `failed to convert '${value}' to boolean`;
    case 'int':
      return stoParses(value, 2n ** 31n - 1n, true) ? undefined : `failed to convert '${value}' to integral number`;
    case 'ull':
      return stoParses(value, 2n ** 64n - 1n, false) ? undefined : `failed to convert '${value}' to unsigned long long integral number`;
  }
}

/**
 * What `std::stoi` / `std::stoull` accept: leading blanks, a sign, then digits (the rest is
 * ignored). Out of range they throw `std::out_of_range`, which the backend does not catch, so
 * that counts as refused too.
 */
function stoParses(value: string, max: bigint, signed: boolean): boolean {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(value);
  if (!m) return false;
  const n = BigInt(m[2]!);
  if (signed) return m[1] === '-' ? n <= max + 1n : n <= max;
  return n <= max; // stoull takes a minus sign and wraps the value around.
}

/**
 * The model-level `parameters` the backend parses as integers when it creates the session
 * (`TryParseModelStringParameter`, which fails the load on a value `std::stoi` refuses); other
 * keys are ignored by the backend.
 */
const INTEGER_MODEL_PARAMETERS = ['execution_mode', 'intra_op_thread_count', 'inter_op_thread_count', 'cudnn_conv_algo_search', 'arena_extend_strategy'];

export const modelParametersRule: TritonRule = {
  id: 'onnxruntime.model-parameters',
  source: `${BACKEND}, ModelState::LoadModel and ModelInstanceState (TryParseModelStringParameter)`,
  check: ({ config: c }) => INTEGER_MODEL_PARAMETERS.flatMap((key) => {
    const value = c.parameters?.[key]?.string_value;
    if (value === undefined || stoParses(value, 2n ** 31n - 1n, true)) return [];
    return [`failed to convert '${key}' of model '${c.name}' to int: '${value}'`];
  }),
};

export const ONNXRUNTIME_RULES: readonly TritonRule[] = [onnxInputsRule, onnxOutputsRule, gpuAcceleratorsRule, modelParametersRule];
