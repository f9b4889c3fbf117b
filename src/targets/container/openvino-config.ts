/** OpenVINO Model Server's `config.json` for the `openvino` engine, planned from the signature as plain data. */
import type { ModelConfig, RuntimeConfig } from '../../config/schema.js';
import { DeployModelError } from '../../errors.js';
import type { ModelSignature, TensorSpec } from '../../model/types.js';
import { MODEL_MOUNT } from './engines.js';
import { openvinoOperatorSupport } from './openvino-operators.js';
import type { ContainerTargetConfig } from './schema.js';

/** One model's entry of `model_config_list` (OVMS src/schema.cpp `MODEL_CONFIG_DEFINITION`). */
export interface OvmsModelConfig {
  name: string;
  base_path: string;
  target_device: 'CPU';
  /** Per input: OVMS's shape string, `(d0,d1,...)` with `-1` for any size and `min:max` for a range. */
  shape?: Record<string, string>;
  plugin_config: Record<string, string>;
}

export interface OvmsConfig {
  model_config_list: Array<{ config: OvmsModelConfig }>;
}

export interface OvmsPlan {
  /** `config.json` as data. */
  config: OvmsConfig;
  /** Where `config.json` sits in the image (apart from the model folder, which KServe's runtime scans for versions). */
  configPath: string;
  /** The model's folder: `<MODEL_MOUNT>/1/model.onnx` is version 1. */
  modelDir: string;
  /** The same settings as command-line flags, for KServe's OVMS runtime, which starts OVMS with `--model_path` (single-model mode). */
  args: string[];
}

export const OVMS_CONFIG_PATH = '/opt/deploy-model/ovms/config.json';
/** OVMS's gRPC port; KServe's runtime uses the same. The REST port is the target's `port`. */
export const OVMS_GRPC_PORT = 9000;

export interface PlanOvmsParams {
  signature: Pick<ModelSignature, 'inputs' | 'outputs' | 'operators' | 'opsets'>;
  modelName: string;
  batching?: ModelConfig['batching'];
  inputShapes?: ModelConfig['inputs'];
  runtime: Pick<RuntimeConfig, 'intraOpThreads'>;
  options: ContainerTargetConfig['openvino'];
}

/**
 * Plans OVMS's configuration of one ONNX model:
 * - `shape`: an input whose dims the config pins is given a shape: `model.inputs.<name>.shape`
 *   fixes its dynamic dims (OpenVINO then compiles a static model, the fastest on CPU, and requests
 *   must have that shape), and with `model.batching` a dynamic first dim becomes the range
 *   `1:maxBatchSize`. Other dynamic dims stay `-1`. An input the config does not pin keeps the
 *   model's own shape (no entry), as does a scalar (OVMS refuses the empty shape `()`).
 * - `plugin_config`: PERFORMANCE_HINT (`openvino.performanceHint`, else THROUGHPUT with
 *   `model.batching`, LATENCY without), NUM_STREAMS (`openvino.streams`), INFERENCE_NUM_THREADS
 *   (`runtime.intraOpThreads`).
 * OVMS does not merge concurrent requests into one run as Triton and the Node server do: with
 * `model.batching` it accepts batches of 1 to maxBatchSize from each client and runs concurrent
 * requests in parallel streams (THROUGHPUT).
 * Throws CONTAINER_OPENVINO_UNSUPPORTED_OP / CONTAINER_OPENVINO_UNSUPPORTED_TENSOR for a model OVMS
 * cannot serve, and CONTAINER_OPENVINO_BATCHING_UNSUPPORTED for `model.batching` on a model without
 * a batch dim.
 */
export function planOvmsConfig(params: PlanOvmsParams): OvmsPlan {
  const { signature, modelName, batching, inputShapes, runtime, options } = params;
  checkOperators(signature);
  checkTensors(signature);
  if (batching) checkBatchable(signature);

  const shape: Record<string, string> = {};
  for (const input of signature.inputs) {
    if (!input.shape || input.shape.length === 0) continue;
    const pinned = inputShapes?.[input.name]?.shape;
    const dims: string[] = input.shape.map((d, i) => (typeof d === 'number' ? String(d) : pinned?.[i] !== undefined ? String(pinned[i]) : '-1'));
    // A range's max must be above its min (shape.cpp `Shape::fromString`): a batch of at most one is `1`.
    if (batching && typeof input.shape[0] === 'string') dims[0] = batching.maxBatchSize > 1 ? `1:${batching.maxBatchSize}` : '1';
    const own = input.shape.map((d) => (typeof d === 'number' ? String(d) : '-1'));
    if (dims.some((d, i) => d !== own[i])) shape[input.name] = `(${dims.join(',')})`;
  }

  const plugin: Record<string, string> = { PERFORMANCE_HINT: options?.performanceHint ?? (batching ? 'THROUGHPUT' : 'LATENCY') };
  if (options?.streams !== undefined) plugin.NUM_STREAMS = String(options.streams);
  if (runtime.intraOpThreads !== undefined) plugin.INFERENCE_NUM_THREADS = String(runtime.intraOpThreads);

  const config: OvmsModelConfig = {
    name: modelName,
    base_path: MODEL_MOUNT,
    target_device: 'CPU',
    ...(Object.keys(shape).length > 0 ? { shape } : {}),
    plugin_config: plugin,
  };
  // The flags of OVMS's single-model mode (src/cli_parser.cpp, v2026.2): --shape and --plugin_config take the same JSON.
  const args = [
    ...(config.shape ? [`--shape=${JSON.stringify(config.shape)}`] : []),
    `--plugin_config=${JSON.stringify(config.plugin_config)}`,
    '--target_device=CPU',
  ];
  return { config: { model_config_list: [{ config }] }, configPath: OVMS_CONFIG_PATH, modelDir: MODEL_MOUNT, args };
}

/** `config.json` as written: two-space JSON and a final newline. */
export function renderOvmsConfig(config: OvmsConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

function checkOperators(signature: PlanOvmsParams['signature']): void {
  const { problems } = openvinoOperatorSupport(signature.operators, signature.opsets);
  if (problems.length === 0) return;
  throw new DeployModelError('CONTAINER_OPENVINO_UNSUPPORTED_OP',
    `OpenVINO cannot load this model: ${problems.map((p) => `operator ${p.operator} ${p.why}`).join('; ')}. `
    + "Use engine 'onnxruntime' (the project's runtime runs every ONNX Runtime operator) or 'triton', or re-export the model without "
    + `${problems.length === 1 ? 'that operator' : 'those operators'} (e.g. a different opset or export option).`,
    { details: { operators: problems } });
}

/**
 * The element types OVMS's KServe v2 front end maps (src/kfs_frontend/kfs_utils.cpp
 * `KFSPrecisionToOvmsPrecision`, v2026.2): no BF16 (its entry is commented out there).
 */
const OVMS_DTYPES = new Set(['float32', 'float16', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string']);

function checkTensors(signature: PlanOvmsParams['signature']): void {
  const bad: Array<{ role: string; t: TensorSpec }> = [
    ...signature.inputs.map((t) => ({ role: 'input', t })), ...signature.outputs.map((t) => ({ role: 'output', t })),
  ].filter(({ t }) => !OVMS_DTYPES.has(t.dtype));
  if (bad.length === 0) return;
  throw new DeployModelError('CONTAINER_OPENVINO_UNSUPPORTED_TENSOR',
    `OpenVINO Model Server cannot serve ${bad.map(({ role, t }) => `${role} '${t.name}' (${t.onnxTypeName})`).join(', ')} over its KServe v2 API, which has no such data type. `
    + "Add Cast nodes to float32 or float16 at the model's edges, or use engine 'onnxruntime'.",
    { details: { tensors: bad.map(({ role, t }) => ({ role, name: t.name, onnxType: t.onnxTypeName })) } });
}

/**
 * `model.batching` gives the first dim the range `1:maxBatchSize`, which is a batch only where every
 * input and output leaves its first dim dynamic (the rule Triton's max_batch_size and the Node
 * server's batching apply): a range on one input of a model whose other tensors have a fixed first
 * dim (a recurrent state, a scalar) would accept requests the model cannot run.
 */
function checkBatchable(signature: PlanOvmsParams['signature']): void {
  const tensors = [...signature.inputs.map((t) => ({ role: 'input', t })), ...signature.outputs.map((t) => ({ role: 'output', t }))];
  const bad = tensors.find(({ t }) => !(t.shape && t.shape.length > 0 && typeof t.shape[0] === 'string'));
  if (!bad) return;
  const shape = bad.t.shape ?? [];
  const why = shape.length === 0 ? 'is a scalar' : `has a fixed first dim (${String(shape[0])})`;
  throw new DeployModelError('CONTAINER_OPENVINO_BATCHING_UNSUPPORTED',
    `model.batching is set, but ${bad.role} '${bad.t.name}' ${why} ([${shape.join(', ')}]): OVMS would accept batches of 1 to maxBatchSize along the first dim of the inputs, `
    + 'and that is a batch only where every input and output leaves its first dim dynamic. Remove model.batching, or re-export the model with a dynamic batch dim.',
    { details: { tensor: bad.t.name, shape } });
}
