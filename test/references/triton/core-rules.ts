import type { TritonRule } from './load-context.js';
import type { TensorMessage } from './model-config-message.js';

/**
 * Load-time rules of Triton core (triton-inference-server/core, branch r25.09), written from its
 * sources. Each returns Triton's error messages for a config it refuses. Rules that need a GPU
 * build of the server assume one (`TRITON_ENABLE_GPU`), as the GPU targets run.
 */

const CORE = 'triton-inference-server/core src/model_config_utils.cc r25.09';
const WILDCARD_DIM = -1;
const TENSORRT_PLATFORM = 'tensorrt_plan';
const ENSEMBLE_PLATFORM = 'ensemble';

/** Backend names and platforms core knows (`GetBackendType`, `GetBackendTypeFromPlatform`). */
const BACKEND_TYPES: Record<string, string> = { tensorflow: 'tf', tensorrt: 'trt', onnxruntime: 'ort', pytorch: 'pt' };
const PLATFORM_TYPES: Record<string, string> = {
  tensorflow_graphdef: 'tf', tensorflow_savedmodel: 'tf', tensorrt_plan: 'trt', onnxruntime_onnx: 'ort', pytorch_libtorch: 'pt',
};

/** The folder a model lives in must carry its name. */
export const directoryNameRule: TritonRule = {
  id: 'core.directory-name',
  source: 'triton-inference-server/core src/model_repository_manager/model_repository_manager.cc r25.09, ModelRepositoryManager::InitializeModelInfo',
  check: ({ config, directoryName }) => (config.name === directoryName ? [] : [
    `unexpected directory name '${directoryName}' for model '${config.name}', directory name must equal model name`,
  ]),
};

/** Name, backend and platform, max_batch_size and version policy. */
export const modelConfigRule: TritonRule = {
  id: 'core.model-config',
  source: `${CORE}, ValidateModelConfig`,
  check: ({ config: c }) => {
    if (c.name === '') return ["model configuration must specify 'name'"];
    if (c.backend === '' && c.platform !== ENSEMBLE_PLATFORM) return [`unexpected platform type '${c.platform}' for ${c.name}`];
    if (c.backend !== '' && c.platform === ENSEMBLE_PLATFORM) {
      return [`Ensemble model '${c.name}' must have platform type '${c.platform}' and empty backend type`];
    }
    const backendType = BACKEND_TYPES[c.backend];
    if (backendType !== undefined && backendType !== PLATFORM_TYPES[c.platform]) {
      return [`unexpected 'platform' and 'backend' pair, got:${c.platform}, ${c.backend}`];
    }
    if (c.max_batch_size < 0) return [`'max_batch_size' must be non-negative value for ${c.name}`];
    if (c.version_policy === null) return [`must specify 'version policy' for ${c.name}`];
    return [];
  },
};

/** Preferred batch sizes within (0, max_batch_size]; priority levels in range. */
export const dynamicBatchingRule: TritonRule = {
  id: 'core.dynamic-batching',
  source: `${CORE}, ValidateModelConfig (dynamic batching)`,
  check: ({ config: c }) => {
    const batching = c.dynamic_batching;
    if (!batching) return [];
    for (const size of batching.preferred_batch_size) {
      if (size <= 0) return [`dynamic batching preferred size must be positive for ${c.name}`];
      if (size > c.max_batch_size) return [`dynamic batching preferred size must be <= max batch size for ${c.name}`];
    }
    const levels = batching.priority_levels;
    if (levels !== 0) {
      if (batching.default_priority_level === 0 || batching.default_priority_level > levels) {
        return [`default priority level must be in range [1, ${levels}] for ${c.name}`];
      }
      if (Object.keys(batching.priority_queue_policy).some((level) => Number(level) === 0 || Number(level) > levels)) {
        return [`priority queue policy must have priority level in range [1, ${levels}] for ${c.name}`];
      }
    }
    if (batching.preserve_ordering && levels > 1) {
      return [`Only one priority level is allowed when 'preserve_ordering' is true for ${c.name}`];
    }
    return [];
  },
};

/**
 * Every input and output: a name, a data type, non-empty dims of sizes >= 1 or -1, and a reshape
 * with the same element count (an empty reshape only when the model batches). Triton stops at
 * the first failing tensor; this reports each.
 */
export const ioShapeRule: TritonRule = {
  id: 'core.io-shape',
  source: `${CORE}, ValidateModelIOConfig -> ValidateModelInput / ValidateModelOutput -> ValidateIOShape`,
  check: ({ config: c }) => [
    ...c.input.map((io) => ioShapeProblem(io, c.max_batch_size, 'model input ')),
    ...c.output.map((io) => ioShapeProblem(io, c.max_batch_size, 'model output ')),
  ].filter((p): p is string => p !== undefined).map((p) => `${p} for ${c.name}`),
};

function ioShapeProblem(io: TensorMessage, maxBatchSize: number, prefix: string): string | undefined {
  if (io.name === '') return `${prefix}must specify 'name'`;
  const named = `${prefix}'${io.name}' `;
  if (io.data_type === 'TYPE_INVALID') return `${named}must specify 'data_type'`;
  if (io.dims.length === 0) return `${named}must specify 'dims'`;
  // An empty reshape of a non-batching model would make the tensor a scalar, which core refuses.
  if (io.reshape && io.reshape.shape.length === 0 && maxBatchSize === 0) {
    return `${named}cannot have empty reshape for non-batching model as scalar tensors are not supported`;
  }
  if (io.dims.some((d) => d < 1 && d !== WILDCARD_DIM)) {
    return `${named}dimension must be integer >= 1, or ${WILDCARD_DIM} to indicate a variable-size dimension`;
  }
  if (!io.reshape) return undefined;
  const shape = io.reshape.shape;
  if (shape.some((d) => d < 1 && d !== WILDCARD_DIM)) {
    return `${named}reshape dimensions must be integer >= 1, or ${WILDCARD_DIM} to indicate a variable-size dimension`;
  }
  const dimsSize = elementCount(io.dims);
  const reshapeSize = elementCount(shape);
  // An empty reshape (count 0) matches dims of one element.
  if (dimsSize !== reshapeSize && (reshapeSize !== 0 || dimsSize !== 1)) return `${named}has different size for dims and reshape`;
  if (dimsSize === -1) {
    // Each run of fixed dims between variable-size ones must hold as many elements on both sides.
    const a = fixedRuns(io.dims);
    const b = fixedRuns(shape);
    if (a.length !== b.length) return `${named}has different number of variable-size dimensions for dims and reshape`;
    if (a.some((n, i) => n !== b[i])) return `${named}has different size for dims and reshape`;
  }
  return undefined;
}

/** Element count as common's `GetElementCount` computes it: -1 with a wildcard, 0 for no dims. */
function elementCount(dims: readonly number[]): number {
  if (dims.includes(WILDCARD_DIM)) return -1;
  return dims.length === 0 ? 0 : dims.reduce((a, b) => a * b, 1);
}

function fixedRuns(dims: readonly number[]): number[] {
  const runs: number[] = [];
  let run = 1;
  for (const d of dims) {
    if (d === WILDCARD_DIM) {
      runs.push(run);
      run = 1;
    } else {
      run *= d;
    }
  }
  runs.push(run);
  return runs;
}

/** Input formats, shape tensors and non-linear formats, which only some platforms take. */
export const ioOptionsRule: TritonRule = {
  id: 'core.io-options',
  source: `${CORE}, ValidateModelInput / ValidateModelOutput / ValidateNonLinearFormatIO`,
  check: ({ config: c }) => {
    const problems: string[] = [];
    const tensors = [...c.input.map((io) => ({ io, input: true })), ...c.output.map((io) => ({ io, input: false }))];
    for (const { io, input } of tensors) {
      if (input && (io.format === 'FORMAT_NHWC' || io.format === 'FORMAT_NCHW') && io.dims.length !== 3) {
        problems.push('model input NHWC/NCHW require 3 dims');
      } else if (c.platform !== TENSORRT_PLATFORM && io.is_shape_tensor) {
        problems.push('shape tensors are only supported for TensorRT platform');
      } else if (io.is_non_linear_format_io && c.platform !== TENSORRT_PLATFORM) {
        problems.push('Non-linear IO format is only supported for the TensorRT platform');
      } else if (io.is_non_linear_format_io && io.dims.length !== 3) {
        problems.push(`Non-linear IO format ${input ? 'input' : 'output'} requires 3 dims`);
      }
    }
    return problems.map((p) => `${p} for ${c.name}`);
  },
};

/** GPU groups need GPUs that exist; CPU and model groups name none; profiles are TensorRT's. */
export const instanceGroupRule: TritonRule = {
  id: 'core.instance-group',
  source: `${CORE}, ValidateInstanceGroup (after NormalizeInstanceGroup)`,
  check: ({ config: c, gpus }) => {
    if (c.ensemble_scheduling) return [];
    if (c.instance_group.length === 0) return [`must specify one or more 'instance group's for ${c.name}`];
    const problems: string[] = [];
    for (const group of c.instance_group) {
      const named = `instance group ${group.name} of model ${c.name}`;
      if ((group.kind === 'KIND_MODEL' || group.kind === 'KIND_CPU') && group.gpus.length > 0) {
        problems.push(`${named} has kind ${group.kind} but specifies one or more GPUs`);
      } else if (group.kind === 'KIND_GPU' && group.gpus.length === 0) {
        problems.push(`${named} has kind KIND_GPU but ${gpus === 0 ? 'no GPUs are available' : 'specifies no GPUs'}`);
      } else if (group.kind === 'KIND_GPU' && group.gpus.some((id) => id < 0 || id >= gpus)) {
        problems.push(`${named} specifies invalid or unsupported gpu id ${group.gpus.find((id) => id < 0 || id >= gpus)}`);
      } else if (group.kind === 'KIND_AUTO') {
        problems.push(`${named} has unexpected kind KIND_AUTO`);
      }
      if (c.platform !== TENSORRT_PLATFORM && group.profile.length > 0) {
        problems.push(`${named} and platform ${c.platform}specifies profile field which is only supported for TensorRT models`);
      }
    }
    return problems;
  },
};

export const CORE_RULES: readonly TritonRule[] = [
  directoryNameRule, modelConfigRule, dynamicBatchingRule, ioShapeRule, ioOptionsRule, instanceGroupRule,
];
