import { describe, expect, it } from 'vitest';
import { gpuAcceleratorsRule, modelParametersRule, onnxInputsRule, onnxOutputsRule, ONNXRUNTIME_RULES } from './onnxruntime-rules.js';
import { checkTritonLoad } from './check-triton-load.js';
import { config, MODEL, refusals, scalarConfig, SCALAR_MODEL } from './_rule-cases.js';

/**
 * The ONNX Runtime backend's load-time rules (triton-inference-server/onnxruntime_backend r25.09):
 * for each, a config that breaks it gets the backend's message, and one that keeps it loads.
 */
describe('Triton onnxruntime backend rules', () => {
  it('every rule cites its upstream source', () => {
    for (const rule of ONNXRUNTIME_RULES) expect(rule.source, rule.id).toMatch(/^triton-inference-server\/onnxruntime_backend src\/\S+ r25\.09, \S+/);
  });

  describe(`${onnxInputsRule.id}`, () => {
    it('declares each model input once, by its name and data type', () => {
      const extra = config({ input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1] }, { name: 'z', data_type: 'TYPE_FP32', dims: [1] }] });
      expect(refusals(onnxInputsRule, extra)).toEqual(["unable to load model 'm', configuration expects 2 inputs, model provides 1"]);
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'X', data_type: 'TYPE_FP32', dims: [3, -1] }] })))
        .toEqual(["unexpected inference input 'X', allowed inputs are: x"]);
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'x', data_type: 'TYPE_FP16', dims: [3, -1] }] })))
        .toEqual(["unable to load model 'm', configuration expects datatype TYPE_FP16 for input 'x', model provides TYPE_FP32"]);
    });

    it('does not take TYPE_BF16 at r25.09, whatever the model says', () => {
      const bf16 = { inputs: [{ name: 'x', type: 'BFLOAT16', dims: [-1, 3, -1] }], outputs: MODEL.outputs };
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'x', data_type: 'TYPE_BF16', dims: [3, -1] }] }), { model: bf16 }))
        .toEqual(["unsupported datatype TYPE_BF16 for input 'x' for model 'm'"]);
    });

    it('compares dims after the batch dim with the model shape; a fixed model dim must match', () => {
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [4, -1] }] })))
        .toEqual(["model 'm', tensor 'x': the model expects 3 dimensions (shape [-1,3,-1]) but the model configuration specifies 3 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,4,-1])"]);
      const fixedFirst = { inputs: [{ name: 'x', type: 'FLOAT', dims: [1, 3, -1] }], outputs: MODEL.outputs };
      expect(refusals(onnxInputsRule, config(), { model: fixedFirst }))
        .toEqual(["model 'm', tensor 'x': for the model to support batching the shape should have at least 1 dimension and the first dimension must be -1; but shape expected by the model is [1,3,-1]"]);
      // Inputs are not compared exactly: the config may fix a dim the model leaves dynamic.
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 64] }] }))).toEqual([]);
    });

    it('needs the empty reshape of a batch-only tensor when the model batches', () => {
      const batchOnly = { inputs: [{ name: 'x', type: 'INT64', dims: [-1] }], outputs: MODEL.outputs };
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'x', data_type: 'TYPE_INT64', dims: [1] }] }), { model: batchOnly }))
        .toEqual(["model 'm', tensor 'x': the model expects 1 dimensions (shape [-1]) but the model configuration specifies 2 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,1])"]);
      expect(refusals(onnxInputsRule, config({ input: [{ name: 'x', data_type: 'TYPE_INT64', dims: [1], reshape: { shape: [] } }] }), { model: batchOnly })).toEqual([]);
    });

    it('takes a scalar of a non-batching model as dims of 1, without a reshape', () => {
      const wide = scalarConfig({ input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [-1, 3, -1] }, { name: 'k', data_type: 'TYPE_INT64', dims: [2] }] });
      expect(refusals(onnxInputsRule, wide, { model: SCALAR_MODEL }))
        .toEqual(["unable to load model 'm', scalar tensor 'k', should only provide 1 in the model configuration when the model doesn't support batching. Model configuration provided: [2]."]);
      expect(refusals(onnxInputsRule, scalarConfig(), { model: SCALAR_MODEL })).toEqual([]);
    });
  });

  describe(`${onnxOutputsRule.id}`, () => {
    it('declares outputs the model has, with exactly its dims (-1 where and only where the model has -1)', () => {
      expect(refusals(onnxOutputsRule, config({ output: [{ name: 'z', data_type: 'TYPE_FP32', dims: [2] }] })))
        .toEqual(["unexpected inference output 'z', allowed outputs are: y"]);
      expect(refusals(onnxOutputsRule, config({ output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [-1] }] })))
        .toEqual(["model 'm', tensor 'y': the model expects 2 dimensions (shape [-1,2]) but the model configuration specifies 2 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,-1])"]);
      // Unlike an input, an output cannot fix a dim the model leaves dynamic.
      const open = { inputs: [{ name: 'x', type: 'FLOAT', dims: [-1, 3, -1] }], outputs: [{ name: 'y', type: 'FLOAT', dims: [-1, -1] }] };
      expect(refusals(onnxOutputsRule, config(), { model: open }))
        .toEqual(["model 'm', tensor 'y': the model expects 2 dimensions (shape [-1,-1]) but the model configuration specifies 2 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,2])"]);
      expect(refusals(onnxOutputsRule, scalarConfig({ output: [{ name: 'n', data_type: 'TYPE_INT32', dims: [1] }] }), { model: SCALAR_MODEL }))
        .toEqual(["unable to load model 'm', configuration expects datatype TYPE_INT32 for output 'n', model provides TYPE_INT64"]);
      expect(refusals(onnxOutputsRule, config())).toEqual([]);
      expect(refusals(onnxOutputsRule, scalarConfig(), { model: SCALAR_MODEL })).toEqual([]);
    });
  });

  describe(`${gpuAcceleratorsRule.id}`, () => {
    const trt = (parameters: Record<string, string>, name = 'tensorrt') => config({
      optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name, parameters }] } },
    });

    it('takes the tensorrt and cuda accelerators only', () => {
      expect(refusals(gpuAcceleratorsRule, trt({}, 'openvino'))).toEqual(["unknown Execution Accelerator 'openvino' is requested"]);
      expect(refusals(gpuAcceleratorsRule, trt({ do_copy_in_default_stream: 'maybe' }, 'cuda'))).toEqual(["failed to convert 'maybe' to boolean"]);
      expect(refusals(gpuAcceleratorsRule, trt({ do_copy_in_default_stream: 'true', arena_extend_strategy: '1' }, 'cuda'))).toEqual([]);
    });

    it('takes the TensorRT parameters it knows, with values it can parse', () => {
      expect(refusals(gpuAcceleratorsRule, trt({ trt_fp16_enable: '1' }))).toEqual(["unknown parameter 'trt_fp16_enable' is provided for TensorRT Execution Accelerator"]);
      expect(refusals(gpuAcceleratorsRule, trt({ precision_mode: 'fp16' }))).toEqual(["unsupported precision mode 'fp16' is requested"]);
      expect(refusals(gpuAcceleratorsRule, trt({ trt_engine_cache_enable: 'yes' }))).toEqual(["failed to convert 'yes' to boolean"]);
      expect(refusals(gpuAcceleratorsRule, trt({ max_workspace_size_bytes: '4 GiB' }))).toEqual([]); // std::stoull reads the leading 4
      expect(refusals(gpuAcceleratorsRule, trt({ max_workspace_size_bytes: 'GiB' }))).toEqual(["failed to convert 'GiB' to unsigned long long integral number"]);
      expect(refusals(gpuAcceleratorsRule, trt({ trt_builder_optimization_level: 'high' }))).toEqual(["failed to convert 'high' to integral number"]);
      expect(refusals(gpuAcceleratorsRule, trt({
        precision_mode: 'INT8', max_workspace_size_bytes: '1073741824', trt_engine_cache_enable: 'true', trt_engine_cache_path: '/models/m/trt_engine_cache',
        int8_calibration_table_name: 'table.flatbuffers', int8_use_native_calibration_table: '0',
      }))).toEqual([]);
    });

    it('reads no GPU accelerator for instances on the CPU', () => {
      const cpu = { ...trt({}, 'openvino'), instance_group: [{ count: 1, kind: 'KIND_CPU' }] };
      expect(refusals(gpuAcceleratorsRule, cpu)).toEqual([]);
    });
  });

  describe(`${modelParametersRule.id}`, () => {
    const withParameters = (parameters: Record<string, string>) => config({ parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, { string_value: v }])) });

    it('parses the session thread counts as integers, and ignores keys it does not read', () => {
      expect(refusals(modelParametersRule, withParameters({ intra_op_thread_count: 'four' }))).toEqual(["failed to convert 'intra_op_thread_count' of model 'm' to int: 'four'"]);
      expect(refusals(modelParametersRule, withParameters({ intra_op_thread_count: '4', inter_op_thread_count: '1', something_else: 'x' }))).toEqual([]);
    });
  });

  describe('auto-complete (a config without inputs and outputs)', () => {
    it('fills them from the model, as the backend does before validation, so a name-only config loads', () => {
      expect(checkTritonLoad({ config: { name: 'm', backend: 'onnxruntime' }, model: MODEL })).toEqual([]);
      expect(checkTritonLoad({ config: { name: 'm', backend: 'onnxruntime' }, model: SCALAR_MODEL })).toEqual([]);
    });

    it('leaves a config that lists inputs and outputs as it is', () => {
      expect(checkTritonLoad({ config: { name: 'm', backend: 'onnxruntime', max_batch_size: 0, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }], output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [2] }] }, model: MODEL }).map((r) => r.rule))
        .toContain('onnxruntime.inputs');
    });
  });
});
