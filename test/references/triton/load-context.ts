import type { ModelConfigMessage } from './model-config-message.js';
import type { OrtModelIo } from './ort-model-io.js';

/**
 * What Triton knows when it loads one model of a repository, and the shape of every rule in this
 * folder: a rule returns Triton's own error messages for what it refuses (none when it loads).
 */
export interface LoadContext {
  /** The config after Triton's autofill and normalization (`prepareLikeTriton`). */
  config: ModelConfigMessage;
  /** The model's folder name in the repository. */
  directoryName: string;
  /** GPUs the server sees, numbered from 0. */
  gpus: number;
  /** The ONNX model's inputs and outputs, as ONNX Runtime reports them. */
  model: OrtModelIo;
}

export interface TritonRule {
  /** Stable id, `<component>.<what>`. */
  id: string;
  /** Where Triton enforces it: repository, file, release branch, function. */
  source: string;
  check(ctx: LoadContext): string[];
}

/** The names Triton core gives the ONNX Runtime backend (core src/constants.h, r25.09). */
export const ONNXRUNTIME_BACKEND = 'onnxruntime';
export const ONNXRUNTIME_PLATFORM = 'onnxruntime_onnx';
export const ONNXRUNTIME_FILENAME = 'model.onnx';

/**
 * The fields Triton fills in before it validates anything, for a repository whose version folder
 * holds `model.onnx` (what deploy-model builds). Returns a copy.
 *
 * - triton-inference-server/core src/model_config_utils.cc, r25.09, `AutoCompleteBackendFields`:
 *   the name defaults to the folder's; an ONNX model gets backend `onnxruntime`, platform
 *   `onnxruntime_onnx` and `default_model_filename` `model.onnx`.
 * - same file, `NormalizeModelConfig`: version policy "latest 1"; dynamic batching without
 *   preferred sizes prefers max_batch_size.
 * - same file, `NormalizeInstanceGroup` and `SetDefaultInstanceCount`: one group when there is
 *   none; names `<model>_<index>`; KIND_AUTO becomes KIND_GPU when the server has GPUs, else
 *   KIND_CPU; a count below 1 becomes 1 (2 for KIND_CPU with the onnxruntime backend); KIND_GPU
 *   without gpus gets every GPU. The backend's preferred groups are not modelled (onnxruntime
 *   declares none).
 * - between the two, with a model to read, the backend's own auto-complete (below).
 */
export function prepareLikeTriton(config: ModelConfigMessage, directoryName: string, gpus: number, model?: OrtModelIo): ModelConfigMessage {
  const c: ModelConfigMessage = structuredClone(config);
  if (c.name === '') c.name = directoryName;

  const onnx = c.backend === ONNXRUNTIME_BACKEND
    || (c.backend === '' && (c.platform === ONNXRUNTIME_PLATFORM || c.default_model_filename === ONNXRUNTIME_FILENAME
      || (c.platform === '' && c.default_model_filename === '')));
  if (onnx) {
    c.backend = ONNXRUNTIME_BACKEND;
    if (c.platform === '') c.platform = ONNXRUNTIME_PLATFORM;
    if (c.default_model_filename === '') c.default_model_filename = ONNXRUNTIME_FILENAME;
    if (model) autoCompleteLikeOnnxruntime(c, model);
  }

  c.version_policy ??= { latest: { num_versions: 1 } };
  if (c.dynamic_batching && c.dynamic_batching.preferred_batch_size.length === 0 && c.max_batch_size > 0) {
    c.dynamic_batching.preferred_batch_size = [c.max_batch_size];
  }

  if (!c.ensemble_scheduling) {
    if (c.instance_group.length === 0) c.instance_group = [{ name: c.name, count: 0, kind: 'KIND_AUTO', gpus: [], profile: [] }];
    c.instance_group.forEach((group, i) => {
      if (group.name === '') group.name = `${c.name}_${i}`;
      if (group.kind === 'KIND_AUTO') {
        group.kind = gpus === 0 || group.gpus.some((id) => id >= gpus) ? 'KIND_CPU' : 'KIND_GPU';
      }
      if (group.count < 1) group.count = group.kind === 'KIND_CPU' && c.backend === ONNXRUNTIME_BACKEND ? 2 : 1;
      if (group.kind === 'KIND_GPU' && group.gpus.length === 0) group.gpus = Array.from({ length: gpus }, (_, id) => id);
    });
  }
  return c;
}

/** The backend's `default-max-batch-size` when `--backend-config` does not set it (backend src/backend_common.cc, r25.09). */
const DEFAULT_MAX_BATCH_SIZE = 4;

/**
 * The onnxruntime backend's auto-complete, on by default in Triton (onnxruntime_backend
 * src/onnxruntime.cc, r25.09, `ModelState::AutoCompleteConfig`, `AutoCompleteMaxBatch`,
 * `AutoCompleteIO`): a config that lists inputs and outputs is left as it is; otherwise
 * max_batch_size is filled when every tensor has a dynamic first dim (and dynamic batching turned
 * on above 1), and the missing inputs or outputs are written from the model, `[1]` for a scalar.
 * Changes `c` in place.
 */
function autoCompleteLikeOnnxruntime(c: ModelConfigMessage, model: OrtModelIo): void {
  if (c.input.length > 0 && c.output.length > 0) return;
  const batchable = [...model.inputs, ...model.outputs].every((t) => t.dims.length > 0 && t.dims[0] === -1);
  if (batchable && c.max_batch_size === 0) c.max_batch_size = DEFAULT_MAX_BATCH_SIZE;
  if (batchable && c.max_batch_size > 1 && !c.dynamic_batching && !c.sequence_batching) {
    c.dynamic_batching = { preferred_batch_size: [], max_queue_delay_microseconds: 0, preserve_ordering: false, priority_levels: 0, default_priority_level: 0, priority_queue_policy: {} };
  }
  // Not modelled: the backend's "autofill failed ... does not support batching" refusal of a
  // max_batch_size set on a model that cannot batch (deploy-model always lists inputs and outputs).
  const complete = (tensors: OrtModelIo['inputs']) => tensors.map((t) => {
    const dims = c.max_batch_size > 0 ? t.dims.slice(1) : [...t.dims];
    const scalar = dims.length === 0;
    return {
      name: t.name, data_type: ONNX_TO_CONFIG[t.type] ?? 'TYPE_INVALID', dims: scalar ? [1] : dims,
      reshape: scalar && c.max_batch_size > 0 ? { shape: [] } : null,
      is_shape_tensor: false, is_non_linear_format_io: false,
    };
  });
  if (c.input.length === 0) c.input = complete(model.inputs).map((t) => ({ ...t, format: 'FORMAT_NONE', optional: false, allow_ragged_batch: false }));
  if (c.output.length === 0) c.output = complete(model.outputs);
}

/** ONNX element type names to config data types (`OnnxDataTypeToModelConfigDataType`, onnxruntime_backend src/onnxruntime_utils.cc, r25.09). */
const ONNX_TO_CONFIG: Record<string, string> = {
  FLOAT: 'TYPE_FP32', UINT8: 'TYPE_UINT8', INT8: 'TYPE_INT8', UINT16: 'TYPE_UINT16', INT16: 'TYPE_INT16', INT32: 'TYPE_INT32',
  INT64: 'TYPE_INT64', STRING: 'TYPE_STRING', BOOL: 'TYPE_BOOL', FLOAT16: 'TYPE_FP16', DOUBLE: 'TYPE_FP64', UINT32: 'TYPE_UINT32', UINT64: 'TYPE_UINT64',
};

/** `[a,b,c]`, as Triton prints dims (`DimsListToString` in common, `ShapeToString` in backend). */
export function dimsString(dims: readonly number[]): string {
  return `[${dims.join(',')}]`;
}
