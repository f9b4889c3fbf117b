import { CORE_RULES } from './core-rules.js';
import { prepareLikeTriton, type TritonRule } from './load-context.js';
import { readAsTriton } from './model-config-message.js';
import { ONNXRUNTIME_RULES } from './onnxruntime-rules.js';
import type { OrtModelIo } from './ort-model-io.js';
import { WARMUP_RULES } from './warmup-rules.js';

/** Every rule, in the order Triton meets them while loading a model. */
export const TRITON_LOAD_RULES: readonly TritonRule[] = [...CORE_RULES, ...ONNXRUNTIME_RULES, ...WARMUP_RULES];

export interface TritonLoadParams {
  /** The config object, with proto field names (what `parsePbtxt` returns). */
  config: object;
  /** The ONNX model's inputs and outputs (`ortModelIo`). */
  model: OrtModelIo;
  /** The model's folder in the repository. @default the config's name */
  directoryName?: string;
  /** GPUs the server sees. @default 1 */
  gpus?: number;
  /** @default every rule */
  rules?: readonly TritonRule[];
}

export interface TritonRefusal {
  rule: string;
  message: string;
}

/** What Triton r25.09 with the onnxruntime backend would refuse in this config; empty when it loads. */
export function checkTritonLoad(params: TritonLoadParams): TritonRefusal[] {
  const read = readAsTriton(params.config);
  const directoryName = params.directoryName ?? read.name;
  const gpus = params.gpus ?? 1;
  const ctx = { config: prepareLikeTriton(read, directoryName, gpus, params.model), directoryName, gpus, model: params.model };
  return (params.rules ?? TRITON_LOAD_RULES).flatMap((rule) => rule.check(ctx).map((message) => ({ rule: rule.id, message })));
}
