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
 */
export function prepareLikeTriton(config: ModelConfigMessage, directoryName: string, gpus: number): ModelConfigMessage {
  const c: ModelConfigMessage = structuredClone(config);
  if (c.name === '') c.name = directoryName;

  const onnx = c.backend === ONNXRUNTIME_BACKEND
    || (c.backend === '' && (c.platform === ONNXRUNTIME_PLATFORM || c.default_model_filename === ONNXRUNTIME_FILENAME
      || (c.platform === '' && c.default_model_filename === '')));
  if (onnx) {
    c.backend = ONNXRUNTIME_BACKEND;
    if (c.platform === '') c.platform = ONNXRUNTIME_PLATFORM;
    if (c.default_model_filename === '') c.default_model_filename = ONNXRUNTIME_FILENAME;
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

/** `[a,b,c]`, as Triton prints dims (`DimsListToString` in common, `ShapeToString` in backend). */
export function dimsString(dims: readonly number[]): string {
  return `[${dims.join(',')}]`;
}
