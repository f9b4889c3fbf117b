import { describe, expect, it } from 'vitest';
import { warmupBatchRule, warmupDataRule, WARMUP_RULES, warmupRequestRule } from './warmup-rules.js';
import { config, refusals, scalarConfig, SCALAR_MODEL } from './_rule-cases.js';

/**
 * What Triton does with `model_warmup` (core and onnxruntime_backend r25.09): a sample that
 * breaks a rule fails the model's load with Triton's message; one that keeps it runs.
 */
describe('Triton warmup rules', () => {
  const warmup = (inputs: Record<string, unknown>, batchSize = 1) => [{ name: 'warmup', batch_size: batchSize, inputs }];

  it('every rule cites its upstream source', () => {
    for (const rule of WARMUP_RULES) expect(rule.source, rule.id).toMatch(/^triton-inference-server\/(core|onnxruntime_backend) src\/\S+ r25\.09, \S+/);
  });

  it(`${warmupDataRule.id}: concrete dims and a way to make the data`, () => {
    expect(refusals(warmupDataRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [3, -1], random_data: true } }) })))
      .toEqual(["warmup setting expects all variable-size dimensions are specified for input 'x'"]);
    expect(refusals(warmupDataRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [3, 16] } }) })))
      .toEqual(["[request id: <id_unknown>] warmup setting expects input 'x' to have input_data_type set"]);
    // A sample of batch size 0 is skipped.
    expect(refusals(warmupDataRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [3, -1] } }, 0) }))).toEqual([]);
    expect(refusals(warmupDataRule, config())).toEqual([]);
  });

  describe(`${warmupRequestRule.id}`, () => {
    it('needs every input, with the data type of the config', () => {
      const onlyX = scalarConfig({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [1, 3, 16], random_data: true } }) });
      expect(refusals(warmupRequestRule, onlyX, { model: SCALAR_MODEL }))
        .toEqual(["[request id: <id_unknown>] expected 2 inputs but got 1 inputs for model 'm'. Got input(s) ['x'], but missing required input(s) ['k']. Please provide all required input(s)."]);
      expect(refusals(warmupRequestRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP16', dims: [3, 16], random_data: true } }) })))
        .toEqual(["[request id: <id_unknown>] inference input 'x' data-type is 'FP16', but model 'm' expects 'FP32'"]);
    });

    it('gives a batching model samples without the batch dim, which Triton puts in front', () => {
      expect(refusals(warmupRequestRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [1, 3, 16], random_data: true } }) })))
        .toEqual([expect.stringContaining("[request id: <id_unknown>] unexpected shape for input 'x' for model 'm'. Expected [-1,3,-1], got [1,1,3,16]. NOTE: Setting a non-zero max_batch_size")]);
      expect(refusals(warmupRequestRule, config())).toEqual([]);
    });

    it("gives a scalar declared as [1] a sample of dims [1], not []", () => {
      const empty = scalarConfig({
        model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [1, 3, 16], random_data: true }, k: { data_type: 'TYPE_INT64', dims: [], zero_data: true } }),
      });
      expect(refusals(warmupRequestRule, empty, { model: SCALAR_MODEL }))
        .toEqual(["[request id: <id_unknown>] unexpected shape for input 'k' for model 'm'. Expected [1], got []. "]);
      expect(refusals(warmupRequestRule, scalarConfig(), { model: SCALAR_MODEL })).toEqual([]);
    });
  });

  it(`${warmupBatchRule.id}: batch size 1 without batching, at most max_batch_size with it`, () => {
    const sample = { x: { data_type: 'TYPE_FP32', dims: [1, 3, 16], random_data: true }, k: { data_type: 'TYPE_INT64', dims: [1], zero_data: true } };
    expect(refusals(warmupBatchRule, scalarConfig({ model_warmup: warmup(sample, 2) }), { model: SCALAR_MODEL }))
      .toEqual(["batch size 2 for 'm', max allowed is 0"]);
    expect(refusals(warmupBatchRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [3, 16], random_data: true } }, 16) })))
      .toEqual(["batch size 16 for 'm', max allowed is 8"]);
    expect(refusals(warmupBatchRule, config({ model_warmup: warmup({ x: { data_type: 'TYPE_FP32', dims: [3, 16], random_data: true } }, 8) }))).toEqual([]);
  });
});
