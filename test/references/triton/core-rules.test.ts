import { describe, expect, it } from 'vitest';
import { planTritonConfig, tritonOptionsSchema } from '../../../src/kits/triton/index.js';
import { MODELS, SILERO_INPUTS, signatureOf } from '../../kits/triton/_models.js';
import { CORE_RULES, directoryNameRule, dynamicBatchingRule, instanceGroupRule, ioOptionsRule, ioShapeRule, modelConfigRule } from './core-rules.js';
import { ortModelIo } from './ort-model-io.js';
import { config, refusals, scalarConfig, SCALAR_MODEL } from './_rule-cases.js';

/**
 * Triton core's load-time rules (triton-inference-server/core r25.09): for each, a config that
 * breaks it gets Triton's message, and one that keeps it loads.
 */
describe('Triton core rules', () => {
  it('every rule cites its upstream source', () => {
    for (const rule of CORE_RULES) expect(rule.source, rule.id).toMatch(/^triton-inference-server\/core src\/\S+ r25\.09, \w+/);
  });

  it(`${directoryNameRule.id}: the model's folder carries its name`, () => {
    expect(refusals(directoryNameRule, config(), { directoryName: 'other' }))
      .toEqual(["unexpected directory name 'other' for model 'm', directory name must equal model name"]);
    expect(refusals(directoryNameRule, config(), { directoryName: 'm' })).toEqual([]);
  });

  it(`${modelConfigRule.id}: backend and platform agree, max_batch_size is not negative`, () => {
    expect(refusals(modelConfigRule, config({ backend: '', platform: 'tensorflow_graphdef' })))
      .toEqual(["unexpected platform type 'tensorflow_graphdef' for m"]);
    expect(refusals(modelConfigRule, config({ platform: 'tensorrt_plan' })))
      .toEqual(["unexpected 'platform' and 'backend' pair, got:tensorrt_plan, onnxruntime"]);
    expect(refusals(modelConfigRule, config({ max_batch_size: -1, dynamic_batching: undefined })))
      .toEqual(["'max_batch_size' must be non-negative value for m"]);
    // The backend alone is enough: Triton fills in platform onnxruntime_onnx; the old spelling works too.
    expect(refusals(modelConfigRule, config())).toEqual([]);
    expect(refusals(modelConfigRule, config({ backend: undefined, platform: 'onnxruntime_onnx' }))).toEqual([]);
  });

  it(`${dynamicBatchingRule.id}: preferred batch sizes are positive and at most max_batch_size`, () => {
    expect(refusals(dynamicBatchingRule, config({ dynamic_batching: { preferred_batch_size: [4, 16] } })))
      .toEqual(['dynamic batching preferred size must be <= max batch size for m']);
    expect(refusals(dynamicBatchingRule, config({ dynamic_batching: { preferred_batch_size: [0] } })))
      .toEqual(['dynamic batching preferred size must be positive for m']);
    expect(refusals(dynamicBatchingRule, config({ dynamic_batching: { priority_levels: 2, default_priority_level: 3 } })))
      .toEqual(['default priority level must be in range [1, 2] for m']);
    expect(refusals(dynamicBatchingRule, config({ dynamic_batching: { preferred_batch_size: [4, 8] } }))).toEqual([]);
    expect(refusals(dynamicBatchingRule, config({ dynamic_batching: {} }))).toEqual([]);
  });

  describe(`${ioShapeRule.id}`, () => {
    it("refuses the old form of Silero's config: its scalar 'sr' as dims [1] with an empty reshape", async () => {
      // GIVEN silero's config as planned now, and the same with the reshape deploy-model used to write
      const signature = await signatureOf('silero');
      const planned = planTritonConfig({ signature, modelName: 'silero', host: 'aws-sagemaker', inputShapes: SILERO_INPUTS, options: tritonOptionsSchema.parse({}) });
      const old = { ...planned, input: planned.input.map((io) => (io.name === 'sr' ? { ...io, reshape: { shape: [] } } : io)) };
      const model = await ortModelIo(MODELS.silero);

      // THEN Triton core refuses the old form and loads the new one
      expect(refusals(ioShapeRule, old, { model }))
        .toEqual(["model input 'sr' cannot have empty reshape for non-batching model as scalar tensors are not supported for silero"]);
      expect(planned.input.find((io) => io.name === 'sr')).toEqual({ name: 'sr', data_type: 'TYPE_INT64', dims: [1] });
      expect(refusals(ioShapeRule, planned, { model })).toEqual([]);
    });

    it('takes an empty reshape of a batch-only tensor when the model batches', () => {
      const batchOnly = config({ input: [{ name: 'x', data_type: 'TYPE_INT64', dims: [1], reshape: { shape: [] } }] });
      expect(refusals(ioShapeRule, batchOnly)).toEqual([]);
      expect(refusals(ioShapeRule, { ...batchOnly, max_batch_size: 0, dynamic_batching: undefined }))
        .toEqual(["model input 'x' cannot have empty reshape for non-batching model as scalar tensors are not supported for m"]);
    });

    it('needs dims of sizes >= 1 or -1, and a reshape of the same element count', () => {
      const io = (fields: Record<string, unknown>) => config({ input: [{ name: 'x', data_type: 'TYPE_FP32', ...fields }] });
      expect(refusals(ioShapeRule, io({ dims: [] }))).toEqual(["model input 'x' must specify 'dims' for m"]);
      expect(refusals(ioShapeRule, io({ dims: [3, 0] }))).toEqual(["model input 'x' dimension must be integer >= 1, or -1 to indicate a variable-size dimension for m"]);
      expect(refusals(ioShapeRule, io({ dims: [2, 3], reshape: { shape: [4] } }))).toEqual(["model input 'x' has different size for dims and reshape for m"]);
      expect(refusals(ioShapeRule, io({ dims: [2, -1], reshape: { shape: [-1, 2] } }))).toEqual(["model input 'x' has different size for dims and reshape for m"]);
      expect(refusals(ioShapeRule, io({ dims: [-1, -1], reshape: { shape: [-1] } })))
        .toEqual(["model input 'x' has different number of variable-size dimensions for dims and reshape for m"]);
      expect(refusals(ioShapeRule, config({ output: [{ name: 'y', dims: [2] }] }))).toEqual(["model output 'y' must specify 'data_type' for m"]);
      expect(refusals(ioShapeRule, io({ dims: [2, 4, -1, 6], reshape: { shape: [8, -1, 1, 6] } }))).toEqual([]);
    });
  });

  it(`${ioOptionsRule.id}: shape tensors and NHWC/NCHW formats`, () => {
    expect(refusals(ioOptionsRule, config({ input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1], is_shape_tensor: true }] })))
      .toEqual(['shape tensors are only supported for TensorRT platform for m']);
    expect(refusals(ioOptionsRule, config({ input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1], format: 'FORMAT_NCHW' }] })))
      .toEqual(['model input NHWC/NCHW require 3 dims for m']);
    expect(refusals(ioOptionsRule, config())).toEqual([]);
  });

  it(`${instanceGroupRule.id}: GPU groups need GPUs, CPU groups name none, profiles are TensorRT's`, () => {
    expect(refusals(instanceGroupRule, config(), { gpus: 0 })).toEqual(['instance group m_0 of model m has kind KIND_GPU but no GPUs are available']);
    expect(refusals(instanceGroupRule, config({ instance_group: [{ count: 1, kind: 'KIND_GPU', gpus: [3] }] })))
      .toEqual(['instance group m_0 of model m specifies invalid or unsupported gpu id 3']);
    expect(refusals(instanceGroupRule, config({ instance_group: [{ count: 1, kind: 'KIND_CPU', gpus: [0] }] })))
      .toEqual(['instance group m_0 of model m has kind KIND_CPU but specifies one or more GPUs']);
    expect(refusals(instanceGroupRule, config({ instance_group: [{ count: 1, kind: 'KIND_GPU', profile: ['0'] }] })))
      .toEqual(['instance group m_0 of model m and platform onnxruntime_onnxspecifies profile field which is only supported for TensorRT models']);
    expect(refusals(instanceGroupRule, config(), { gpus: 4 })).toEqual([]);
    expect(refusals(instanceGroupRule, config({ instance_group: [] }), { gpus: 0 })).toEqual([]); // normalised to one KIND_CPU group
  });

  it('loads a non-batching model whose scalars are declared as [1]', () => {
    expect(CORE_RULES.flatMap((rule) => refusals(rule, scalarConfig(), { model: SCALAR_MODEL }))).toEqual([]);
  });
});
