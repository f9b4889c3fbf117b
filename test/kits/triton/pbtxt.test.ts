import { describe, expect, it } from 'vitest';
import { DeployModelError } from '../../../src/errors.js';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import {
  planTritonConfig, renderPbtxt, tritonOptionsSchema, type TritonHost, type TritonModelConfig,
} from '../../../src/kits/triton/index.js';
import { MODELS, SILERO_INPUTS, signatureOf, tensor, type ModelKey } from './_models.js';

function parseError(text: string): DeployModelError {
  try {
    parsePbtxt(text, { source: 'm/config.pbtxt' });
  } catch (e) {
    if (e instanceof DeployModelError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

const EDGE_CONFIGS: TritonModelConfig[] = [
  // Names that need escaping, unicode, numbers at the ends of their ranges, empty lists and maps.
  {
    name: 'edge',
    platform: 'onnxruntime_onnx',
    max_batch_size: 2147483647,
    input: [
      { name: 'quote"back\\slash', data_type: 'TYPE_STRING', dims: [-1], reshape: { shape: [] } },
      { name: 'tab\tnew\nline\rcr\u0001\u007f', data_type: 'TYPE_BF16', dims: [9007199254740991, -9007199254740991] },
      { name: 'ünïcødé 名前 🙂', data_type: 'TYPE_UINT64', dims: [] },
    ],
    output: [],
    dynamic_batching: {},
    instance_group: [{ count: 0, kind: 'KIND_AUTO' }, { count: -2147483648, kind: 'KIND_MODEL' }],
    optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt', parameters: { '': '' } }, { name: 'cuda' }] } },
    model_warmup: [
      { name: '', batch_size: 4294967295, inputs: { x: { data_type: 'TYPE_INVALID', dims: [] } }, count: 0 },
      { name: 'files', batch_size: 1, inputs: { 'a"b': { data_type: 'TYPE_BOOL', dims: [], input_data_file: 'raw\\x.bin' }, '': { data_type: 'TYPE_FP64', dims: [0] } } },
    ],
  },
  { name: 'bare', max_batch_size: 0, input: [], output: [], model_warmup: [], instance_group: [] },
  { name: 'queue', backend: 'onnxruntime', max_batch_size: 1, input: [{ name: 'x', data_type: 'TYPE_INT8', dims: [1], reshape: { shape: [1, 1, 1] } }], output: [{ name: 'y', data_type: 'TYPE_UINT8', dims: [2] }], dynamic_batching: { preferred_batch_size: [], max_queue_delay_microseconds: 0 } },
];

describe('renderPbtxt / parsePbtxt round trip', () => {
  it.each(EDGE_CONFIGS.map((c) => [c.name, c] as const))('edge config %s', (_name, config) => {
    expect(parsePbtxt(renderPbtxt(config))).toEqual(config);
  });

  it('round-trips every real model on every host, precision and batching mode', async () => {
    const hosts: TritonHost[] = ['aws-sagemaker', 'gcp-vertex', 'azure-ml', 'container'];
    let count = 0;
    for (const key of Object.keys(MODELS) as ModelKey[]) {
      const signature = await signatureOf(key);
      const batchable = key !== 'silero' && key !== 'hello_deepa';
      for (const host of hosts) {
        for (const precision of ['fp16', 'fp32', 'int8'] as const) {
          for (const batching of batchable ? [undefined, { maxBatchSize: 64, maxQueueDelayMs: 0.5, preferredBatchSizes: [8, 32] }] : [undefined]) {
            const options = tritonOptionsSchema.parse({
              precision, instancesPerGpu: 2, int8Calibration: precision === 'int8' ? { table: 't.cache' } : undefined,
              engineCachePath: precision === 'int8' && (host === 'gcp-vertex' || host === 'azure-ml') ? '/mnt/engines' : undefined,
            });
            const config = planTritonConfig({ signature, modelName: key.replace('_', '-'), host, batching, options, inputShapes: key === 'silero' ? SILERO_INPUTS : undefined });
            expect(parsePbtxt(renderPbtxt(config))).toEqual(config);
            count++;
          }
        }
      }
    }
    expect(count).toBe(3 * 4 * 3 * 2 + 2 * 4 * 3);
  });

  it('reads an empty map back as absent: in text format a map is only its entries', () => {
    const config: TritonModelConfig = { name: 'm', max_batch_size: 0, input: [], output: [], model_warmup: [{ name: 'w', batch_size: 1, inputs: {} }] };
    expect(parsePbtxt(renderPbtxt(config)).model_warmup).toEqual([{ name: 'w', batch_size: 1 }]);
  });

  it('writes map entries sorted by key, whatever the insertion order', () => {
    const base = { name: 'm', max_batch_size: 0, input: [], output: [] };
    const a = renderPbtxt({ ...base, optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 't', parameters: { b: '2', a: '1' } }] } } });
    const b = renderPbtxt({ ...base, optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 't', parameters: { a: '1', b: '2' } }] } } });
    expect(a).toBe(b);
    expect(a.indexOf('key: "a"')).toBeLessThan(a.indexOf('key: "b"'));
  });
});

describe('renderPbtxt checks what it writes', () => {
  it('refuses unknown fields, wrong types, out-of-range integers, unknown enums and two oneof members', async () => {
    const signature = { inputs: [tensor('x', ['b', 2])], outputs: [tensor('y', ['b', 1])] };
    const good = planTritonConfig({ signature, modelName: 'm', host: 'container', options: tritonOptionsSchema.parse({}) });
    const bad: unknown[] = [
      { ...good, max_batch_sizes: 4 },
      { ...good, max_batch_size: '4' },
      { ...good, max_batch_size: 2 ** 31 },
      { ...good, max_batch_size: 1.5 },
      { ...good, input: [{ ...good.input[0], data_type: 'FP32' }] },
      { ...good, model_warmup: [{ name: 'w', batch_size: 1, inputs: { x: { data_type: 'TYPE_FP32', dims: [2], zero_data: true, random_data: true } } }] },
      { ...good, input: good.input[0] },
    ];
    for (const config of bad) {
      expect(() => renderPbtxt(config as TritonModelConfig)).toThrow(expect.objectContaining({ code: 'TRITON_CONFIG_INVALID' }));
    }
  });
});

describe('parsePbtxt reads protobuf text format as Triton does', () => {
  it('accepts the spellings found in hand-written configs', () => {
    const text = `
      # comments anywhere
      name: "hand" "written"   # adjacent strings join
      platform: 'onnxruntime_onnx';
      max_batch_size: 0x10
      input: [ < name: "a\\101\\x42\\u00e9" data_type: TYPE_FP32, dims: [ -1 ] reshape: { shape: [ ] } > ]
      input { name: "b" data_type: TYPE_INT64 dims: 3 dims: 4 }
      output [ { name: "y", data_type: TYPE_FP32, dims: [ 1 ] } ]
      dynamic_batching { }
      instance_group [ { kind: KIND_CPU count: 010 } ]
      optimization { execution_accelerators { gpu_execution_accelerator: [ { name: "tensorrt"
        parameters: { key: "precision_mode" value: "FP16" }
        parameters [ { key: "trt_engine_cache_enable", value: "1" } ] } ] } }
      model_warmup [ { name: "w" batch_size: 1 inputs { key: "a" value: { data_type: TYPE_FP32 dims: [ 1 ] random_data: True } } } ]
    `;
    expect(parsePbtxt(text)).toEqual({
      name: 'handwritten',
      platform: 'onnxruntime_onnx',
      max_batch_size: 16,
      input: [
        { name: 'aABé', data_type: 'TYPE_FP32', dims: [-1], reshape: { shape: [] } },
        { name: 'b', data_type: 'TYPE_INT64', dims: [3, 4] },
      ],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1] }],
      dynamic_batching: {},
      instance_group: [{ kind: 'KIND_CPU', count: 8 }],
      optimization: { execution_accelerators: { gpu_execution_accelerator: [{ name: 'tensorrt', parameters: { precision_mode: 'FP16', trt_engine_cache_enable: '1' } }] } },
      model_warmup: [{ name: 'w', batch_size: 1, inputs: { a: { data_type: 'TYPE_FP32', dims: [1], random_data: true } } }],
    });
  });

  it.each([
    ['name: "m"\nmax_batch_sise: 4', 2, 1, /unknown field 'max_batch_sise' in ModelConfig; known fields: name, platform, backend, max_batch_size/],
    ['name: "m"\ninput [ { name: "x" data_type: TYPE_FLOAT32 } ]', 2, 32, /takes a DataType value \(TYPE_INVALID.*got 'TYPE_FLOAT32'/],
    ['max_batch_size: "8"', 1, 17, /'max_batch_size' takes an integer \(int32\), got string "8"/],
    ['max_batch_size: 2147483648', 1, 17, /between -2147483648 and 2147483647/],
    ['max_batch_size: 1.5', 1, 17, /takes an integer/],
    ['model_warmup [ { batch_size: -1 } ]', 1, 30, /'batch_size' \(uint32\) must be between 0/],
    ['name: "a"\nname: "b"', 2, 1, /field 'name' is set twice/],
    ['name: ["a"]', 1, 7, /field 'name' is not repeated/],
    ['name "m"', 1, 6, /expected ':' after 'name'/],
    ['input [ { name: "x" }', 1, 22, /missing '\]'|expected ',' or '\]'/],
    ['input { name: "x" ', 1, 19, /unexpected end of file: missing '\}'/],
    ['input { name: "x" >', 1, 19, /expected '\}', got '>'/],
    ['}', 1, 1, /nothing to close/],
    ['name: "unclosed\n"', 1, 7, /not closed on its line/],
    ['name: "bad \\q escape"', 1, 7, /unknown escape \\q/],
    ['name: @', 1, 7, /unexpected character "@"/],
    ['model_warmup [ { inputs { key: "x" value { zero_data: true random_data: true } } } ]', 1, 60, /'random_data' and 'zero_data' are both set/],
    ['optimization { execution_accelerators { gpu_execution_accelerator [ { parameters { key: "a" value: "1" } parameters { key: "a" value: "2" } } ] } }', 1, 117, /key "a" appears twice in 'parameters'/],
    ['optimization { execution_accelerators { gpu_execution_accelerator [ { parameters { value: "1" } } ] } }', 1, 82, /has no key/],
    ['instance_group [ { kind: KIND_GPU count: true } ]', 1, 42, /'count' takes an integer/],
    ['model_warmup [ { inputs { key: "x" value { random_data: yes } } } ]', 1, 57, /takes true or false/],
  ])('%j fails at %i:%i', (text, line, column, message) => {
    const err = parseError(text);
    expect(err.code).toBe('TRITON_PBTXT_PARSE');
    expect(err.details).toMatchObject({ source: 'm/config.pbtxt', line, column });
    expect(err.message).toMatch(new RegExp(`^m/config\\.pbtxt:${line}:${column}: `));
    expect(err.message).toMatch(message);
  });
});
