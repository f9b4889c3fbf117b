import { describe, expect, it } from 'vitest';
import { isDeployModelError } from '../../../src/errors.js';
import {
  DEFAULT_MAX_BATCH_SIZE, engineCacheLocation, planTritonConfig, tritonOptionsSchema,
  type PlanTritonConfigParams, type TritonOptionsInput,
} from '../../../src/kits/triton/index.js';
import { signatureOf, tensor } from './_models.js';

const options = (o: TritonOptionsInput = {}) => tritonOptionsSchema.parse(o);

function plan(p: Partial<PlanTritonConfigParams> & Pick<PlanTritonConfigParams, 'signature'>) {
  return planTritonConfig({ modelName: 'm', host: 'aws-sagemaker', options: options(), ...p });
}

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isDeployModelError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a DeployModelError');
}

describe('planTritonConfig: the batching rule', () => {
  it('batches when every input and output has a dynamic first dim, without a scheduler unless model.batching is set', () => {
    const signature = { inputs: [tensor('x', ['batch', 3, '?', '?'])], outputs: [tensor('y', ['n', 10])] };
    const config = plan({ signature });
    expect(config.max_batch_size).toBe(DEFAULT_MAX_BATCH_SIZE);
    expect(config.input[0].dims).toEqual([3, -1, -1]);
    expect(config.output[0].dims).toEqual([10]);
    expect(config.dynamic_batching).toBeUndefined();
  });

  it('takes max_batch_size and the scheduler from model.batching', () => {
    const signature = { inputs: [tensor('x', ['batch', 4])], outputs: [tensor('y', ['batch', 1])] };
    const config = plan({ signature, batching: { maxBatchSize: 32, maxQueueDelayMs: 0.1234 } });
    expect(config.max_batch_size).toBe(32);
    expect(config.dynamic_batching).toEqual({ max_queue_delay_microseconds: 123 });
  });

  it('does not batch when an output has a fixed first dim, even if every input could', () => {
    const config = plan({ signature: { inputs: [tensor('x', ['batch', 4])], outputs: [tensor('y', [1, 4])] } });
    expect(config.max_batch_size).toBe(0);
    expect(config.input[0].dims).toEqual([-1, 4]);
  });

  it('declares a batch-only tensor as [1] reshaped to a scalar (what the onnxruntime backend compares with [batch])', () => {
    const config = plan({ signature: { inputs: [tensor('ids', ['batch'], 'int64', 'INT64')], outputs: [tensor('score', ['batch'])] } });
    expect(config.max_batch_size).toBe(DEFAULT_MAX_BATCH_SIZE);
    expect(config.input[0]).toEqual({ name: 'ids', data_type: 'TYPE_INT64', dims: [1], reshape: { shape: [] } });
    expect(config.output[0]).toEqual({ name: 'score', data_type: 'TYPE_FP32', dims: [1], reshape: { shape: [] } });
    expect(config.model_warmup![0].inputs.ids).toEqual({ data_type: 'TYPE_INT64', dims: [1], zero_data: true });
  });

  it('declares a scalar of a non-batching model as [1] without a reshape', () => {
    // Triton core refuses `reshape { shape: [] }` when max_batch_size is 0 ("cannot have empty
    // reshape for non-batching model as scalar tensors are not supported": ValidateIOShape in
    // triton-inference-server/core src/model_config_utils.cc, r24.09 to r25.09), while the
    // onnxruntime backend takes a scalar declared as [1] (ModelInstanceState::ValidateInputs and
    // ValidateOutputs in onnxruntime_backend src/onnxruntime.cc, r25.09).
    const signature = {
      inputs: [tensor('x', ['batch', 3]), tensor('k', [], 'int64', 'INT64')],
      outputs: [tensor('y', ['batch', 3]), tensor('n', [], 'int64', 'INT64')],
    };
    const config = plan({ signature });
    expect(config.max_batch_size).toBe(0);
    expect(config.input[1]).toEqual({ name: 'k', data_type: 'TYPE_INT64', dims: [1] });
    expect(config.output[1]).toEqual({ name: 'n', data_type: 'TYPE_INT64', dims: [1] });
    expect(config.model_warmup![0].inputs.k).toEqual({ data_type: 'TYPE_INT64', dims: [1], zero_data: true });
  });

  it("keeps silero's full shapes and declares its int64 scalar 'sr' as [1]", async () => {
    const config = plan({ signature: await signatureOf('silero'), inputShapes: { input: { shape: [1, 512] } } });
    expect(config.max_batch_size).toBe(0);
    expect(config.input).toEqual([
      { name: 'input', data_type: 'TYPE_FP32', dims: [-1, -1] },
      { name: 'state', data_type: 'TYPE_FP32', dims: [2, -1, 128] },
      { name: 'sr', data_type: 'TYPE_INT64', dims: [1] },
    ]);
    expect(config.model_warmup![0].inputs.sr).toEqual({ data_type: 'TYPE_INT64', dims: [1], zero_data: true });
    // The state's 'batch' dim takes the input's value: one value per dim name, as in smoke inputs.
    expect(config.model_warmup![0].inputs.state.dims).toEqual([2, 1, 128]);
  });

  it('refuses model.batching on a model that cannot batch, naming the tensor', async () => {
    const err = errorOf(() => plan({ signature: { inputs: [tensor('x', [1, 25, 96])], outputs: [tensor('y', [1, 1])] }, batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } }));
    expect(err.code).toBe('TRITON_BATCHING_UNSUPPORTED');
    expect(err.message).toMatch(/input 'x' has a fixed first dim \(1\).*Remove model\.batching/);

    const silero = await signatureOf('silero');
    expect(errorOf(() => plan({ signature: silero, batching: { maxBatchSize: 8, maxQueueDelayMs: 2 } })).message).toMatch(/input 'state' has a fixed first dim \(2\)/);
  });

  it('refuses preferred batch sizes above the maximum', () => {
    const signature = { inputs: [tensor('x', ['b', 4])], outputs: [tensor('y', ['b', 1])] };
    const err = errorOf(() => plan({ signature, batching: { maxBatchSize: 8, maxQueueDelayMs: 2, preferredBatchSizes: [4, 16] } }));
    expect(err.code).toBe('TRITON_PREFERRED_BATCH_SIZE');
    expect(err.message).toContain('16');
  });
});

describe('planTritonConfig: runtime settings', () => {
  it("passes runtime.intraOpThreads as the onnxruntime backend's intra_op_thread_count parameter", () => {
    const signature = { inputs: [tensor('x', ['b', 8])], outputs: [tensor('y', ['b', 8])] };
    expect(plan({ signature, runtime: { intraOpThreads: 4 } }).parameters).toEqual({ intra_op_thread_count: { string_value: '4' } });
    expect(plan({ signature }).parameters).toBeUndefined();
  });
});

describe('planTritonConfig: tensors Triton cannot serve', () => {
  it('names every unservable dtype and unknown rank, with the fix', () => {
    const signature = {
      inputs: [tensor('spectrum', ['b', 8], 'unsupported', 'COMPLEX64'), tensor('ok', ['b', 8])],
      outputs: [tensor('mystery', null)],
    };
    const err = errorOf(() => plan({ signature }));
    expect(err.code).toBe('TRITON_UNSUPPORTED_TENSOR');
    expect(err.message).toMatch(/input 'spectrum' has element type COMPLEX64.*Cast/);
    expect(err.message).toMatch(/output 'mystery' has no rank.*symbolic_shape_infer/);
    expect(err.message).not.toMatch(/'ok'/);
  });

  it('refuses bfloat16 on the Triton releases whose onnxruntime backend does not map TYPE_BF16', () => {
    const signature = { inputs: [tensor('x', ['b', 8], 'bfloat16', 'BFLOAT16')], outputs: [tensor('y', ['b', 8])] };
    const err = errorOf(() => plan({ signature, options: options({ tritonVersion: '25.09' }) }));
    expect(err.code).toBe('TRITON_UNSUPPORTED_TENSOR');
    expect(err.message).toMatch(/input 'x' is bfloat16, which the onnxruntime backend of Triton 25.09 refuses.*Cast nodes to float16/);
    expect(plan({ signature, options: options({ tritonVersion: '26.05' }) }).input[0].data_type).toBe('TYPE_BF16');
  });

  it('refuses model.inputs naming no input, and model names Triton cannot use', () => {
    const signature = { inputs: [tensor('x', ['b', 4])], outputs: [tensor('y', ['b', 1])] };
    expect(errorOf(() => plan({ signature, inputShapes: { X: { shape: [1, 4] } } })).code).toBe('SHAPE_OVERRIDE_UNKNOWN_INPUT');
    expect(errorOf(() => plan({ signature, modelName: '../evil' })).code).toBe('TRITON_MODEL_NAME');
  });
});

describe('planTritonConfig: warmup', () => {
  const signature = { inputs: [tensor('x', ['b', 3, 'h', 'w']), tensor('mask', ['b', 'h', 'w'], 'bool', 'BOOL')], outputs: [tensor('y', ['b', 2])] };

  it('resolves dims like the smoke tests do: model.inputs, else 1 then 64, one value per dim name', () => {
    const warmup = plan({ signature }).model_warmup![0];
    expect(warmup).toEqual({
      name: 'warmup',
      batch_size: 1,
      inputs: {
        x: { data_type: 'TYPE_FP32', dims: [3, 64, 64], random_data: true },
        mask: { data_type: 'TYPE_BOOL', dims: [64, 64], zero_data: true },
      },
    });
  });

  it('uses the first dim of model.inputs as the warmup batch size, within max_batch_size', () => {
    // The override of x names b, h and w, so mask follows it.
    const warmup = plan({ signature, inputShapes: { x: { shape: [4, 3, 32, 48] } } }).model_warmup![0];
    expect(warmup.batch_size).toBe(4);
    expect(warmup.inputs.mask.dims).toEqual([32, 48]);
    expect(errorOf(() => plan({ signature, inputShapes: { x: { shape: [4, 3, 32, 32] }, mask: { shape: [2, 32, 32] } } })).code).toBe('TRITON_WARMUP_BATCH');
    expect(errorOf(() => plan({ signature, inputShapes: { x: { shape: [16, 3, 32, 32] } } })).message)
      .toMatch(/warmup batch size is 16.*1 to max_batch_size \(8\)/);
  });

  it('checks overrides against fixed dims (the shared shape rule)', () => {
    expect(errorOf(() => plan({ signature, inputShapes: { x: { shape: [1, 4, 32, 32] } } })).code).toBe('SHAPE_OVERRIDE_FIXED_DIM');
  });

  it('is left out when warmup is off', () => {
    expect(plan({ signature, options: options({ warmup: false }) }).model_warmup).toBeUndefined();
  });
});

describe('planTritonConfig: engine and accelerator', () => {
  const signature = { inputs: [tensor('x', ['b', 4])], outputs: [tensor('y', ['b', 1])] };

  it('configures TensorRT with precision, workspace and the engine cache', () => {
    const config = plan({ signature, options: options({ precision: 'fp32', workspaceMb: 512, instancesPerGpu: 3 }) });
    expect(config.instance_group).toEqual([{ count: 3, kind: 'KIND_GPU' }]);
    expect(config.optimization!.execution_accelerators!.gpu_execution_accelerator).toEqual([{
      name: 'tensorrt',
      parameters: {
        precision_mode: 'FP32',
        max_workspace_size_bytes: String(512 * 1024 * 1024),
        trt_engine_cache_enable: '1',
        trt_engine_cache_path: '/opt/ml/model/m/trt_engine_cache',
      },
    }]);
  });

  it("leaves the accelerator out for engine 'onnxruntime' (ONNX Runtime's CUDA provider)", () => {
    expect(plan({ signature, options: options({ engine: 'onnxruntime' }) }).optimization).toBeUndefined();
  });

  it('puts the engine cache inside the repository where the host has a fixed repository path', () => {
    expect(engineCacheLocation('aws-sagemaker', 'm', {})).toEqual({ path: '/opt/ml/model/m/trt_engine_cache', repositoryDir: 'trt_engine_cache' });
    expect(engineCacheLocation('container', 'm', {})).toEqual({ path: '/models/m/trt_engine_cache', repositoryDir: 'trt_engine_cache' });
    expect(engineCacheLocation('gcp-vertex', 'm', {})).toEqual({ path: '/var/tmp/trt_engine_cache', repositoryDir: null });
    expect(engineCacheLocation('azure-ml', 'm', {})).toEqual({ path: '/var/tmp/trt_engine_cache', repositoryDir: null });
    expect(engineCacheLocation('aws-sagemaker', 'm', { engineCachePath: '/opt/ml/model/m/cache/trt/' })).toEqual({ path: '/opt/ml/model/m/cache/trt', repositoryDir: 'cache/trt' });
    expect(engineCacheLocation('aws-sagemaker', 'm', { engineCachePath: '/mnt/engines' })).toEqual({ path: '/mnt/engines', repositoryDir: null });
  });

  it('refuses an engine cache that Triton would read as a model version or as the repository', () => {
    expect(errorOf(() => engineCacheLocation('container', 'm', { engineCachePath: '/models/m/2' })).message).toMatch(/model version 2/);
    expect(errorOf(() => engineCacheLocation('aws-sagemaker', 'm', { engineCachePath: '/opt/ml/model' })).code).toBe('TRITON_ENGINE_CACHE_PATH');
  });

  it('names the INT8 table by file name, and refuses INT8 where the table cannot be shipped', () => {
    const int8 = options({ precision: 'int8', int8Calibration: { table: 'calib/table.flatbuffers' } });
    const params = plan({ signature, options: int8 }).optimization!.execution_accelerators!.gpu_execution_accelerator![0].parameters!;
    expect(params).toMatchObject({ precision_mode: 'INT8', int8_calibration_table_name: 'table.flatbuffers', int8_use_native_calibration_table: '0' });

    const err = errorOf(() => plan({ signature, host: 'gcp-vertex', options: int8 }));
    expect(err.code).toBe('TRITON_INT8_CALIBRATION');
    expect(err.message).toMatch(/on gcp-vertex is \/var\/tmp\/trt_engine_cache, outside the model repository.*Set engineCachePath/);
    // An explicit cache path is the user's to provision.
    expect(plan({ signature, host: 'gcp-vertex', options: { ...int8, engineCachePath: '/mnt/cache' } }).name).toBe('m');
  });
});
