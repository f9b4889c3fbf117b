import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/config/schema.js';
import { planTritonConfig, tritonOptionsSchema, type TritonModelConfig } from '../../../src/kits/triton/index.js';
import { MODELS, SILERO_INPUTS, signatureOf, type ModelKey } from './_models.js';

/**
 * Triton fails a model's load when its warmup request fails, so each planned warmup sample is run
 * here through onnxruntime on CPU, the way Triton would send it: the batch dim put back in front,
 * reshapes applied, random floats and zero integers. A model input of rank 0 gets a rank-0 tensor
 * whatever the config's dims, as the onnxruntime backend does (`ModelInstanceState::SetInputTensors`
 * in triton-inference-server/onnxruntime_backend src/onnxruntime.cc, r25.09).
 */
async function runWarmup(key: ModelKey, config: TritonModelConfig): Promise<ort.InferenceSession.OnnxValueMapType> {
  const warmup = config.model_warmup![0];
  const session = await ort.InferenceSession.create(MODELS[key]);
  const feeds: Record<string, ort.Tensor> = {};
  const modelRank = new Map(session.inputMetadata.map((m) => [m.name, m.isTensor ? m.shape.length : -1]));
  for (const input of config.input) {
    const sample = warmup.inputs[input.name];
    expect(sample.data_type).toBe(input.data_type);
    const shape = input.reshape ? [...input.reshape.shape] : [...sample.dims];
    if (config.max_batch_size > 0) shape.unshift(warmup.batch_size);
    if (modelRank.get(input.name) === 0) shape.length = 0;
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[input.name] = input.data_type === 'TYPE_INT64'
      ? new ort.Tensor('int64', new BigInt64Array(size), shape)
      : new ort.Tensor('float32', Float32Array.from({ length: size }, () => Math.random()), shape);
    expect(sample.random_data ?? sample.zero_data).toBe(true);
  }
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const cases: Array<{ label: string; key: ModelKey; batching?: ModelConfig['batching']; inputShapes?: ModelConfig['inputs'] }> = [
  { label: 'cls, default shapes', key: 'cls' },
  { label: 'det, default shapes', key: 'det' },
  { label: 'rec, default shapes', key: 'rec' },
  { label: 'rec, batch of 4 from model.inputs', key: 'rec', batching: { maxBatchSize: 8, maxQueueDelayMs: 2 }, inputShapes: { x: { shape: [4, 3, 48, 320] } } },
  { label: 'silero, 512 samples from model.inputs, int64 scalar sr', key: 'silero', inputShapes: SILERO_INPUTS },
  { label: 'hello_deepa, fixed shape', key: 'hello_deepa' },
];

describe('planned warmup requests run on the real models', () => {
  it.each(cases)('$label', async ({ key, batching, inputShapes }) => {
    const signature = await signatureOf(key);
    const config = planTritonConfig({ signature, modelName: key.replace('_', '-'), host: 'aws-sagemaker', batching, inputShapes, options: tritonOptionsSchema.parse({}) });

    const outputs = await runWarmup(key, config);

    // Every declared output comes back, with the declared rank once the batch dim is counted.
    for (const output of config.output) {
      const dims = outputs[output.name].dims;
      expect(dims.length).toBe((output.reshape ? output.reshape.shape.length : output.dims.length) + (config.max_batch_size > 0 ? 1 : 0));
    }
  });

  it("would fail Silero's load with the default shapes, which is why its config sets model.inputs", async () => {
    const signature = await signatureOf('silero');
    const config = planTritonConfig({ signature, modelName: 'silero', host: 'aws-sagemaker', options: tritonOptionsSchema.parse({}) });
    expect(config.model_warmup![0].inputs.input.dims).toEqual([1, 64]);
    expect(config.model_warmup![0].inputs.state.dims).toEqual([2, 1, 128]);
    await expect(runWarmup('silero', config)).rejects.toThrow(/Pad|Conv|shape|dimension/i);
  });
});
