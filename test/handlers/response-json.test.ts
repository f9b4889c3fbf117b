import { describe, expect, it } from 'vitest';
import { encodeOutputTensor } from '../../handlers/core/codec.js';
import { inferenceResponseJson, JsonText } from '../../handlers/core/response-json.js';
import type { RawInferenceResult, RawOutput } from '../../handlers/core/types.js';

/** The text the adapters sent before: JSON.stringify of `infer`'s answer. */
function stringified(modelName: string, raw: RawInferenceResult): string {
  return JSON.stringify({
    model_name: modelName,
    model_version: '1',
    ...(raw.id === undefined ? {} : { id: raw.id }),
    outputs: raw.outputs.map((o) => encodeOutputTensor(o.name, o.dtype, o.dims, o.data, raw.outputEncoding)),
  });
}

const outputs: RawOutput[] = [
  { name: 'f32', dtype: 'float32', dims: [2, 3], data: Float32Array.from([0.1, -0, 1e-7, 3.4e38, 1.5, -2]) },
  { name: 'f32 non-finite', dtype: 'float32', dims: [3], data: Float32Array.from([1, Number.NaN, Number.NEGATIVE_INFINITY]) },
  { name: 'f64', dtype: 'float64', dims: [3], data: Float64Array.from([0.1, 5e-324, 1.7976931348623157e308]) },
  { name: 'f16', dtype: 'float16', dims: [3], data: Uint16Array.from([0x3c00, 0x7c00, 0x3555]) },
  { name: 'i8', dtype: 'int8', dims: [2], data: Int8Array.from([-128, 127]) },
  { name: 'u32', dtype: 'uint32', dims: [2], data: Uint32Array.from([0, 4294967295]) },
  { name: 'i64 exact', dtype: 'int64', dims: [2], data: BigInt64Array.from([-5n, 9007199254740991n]) },
  { name: 'i64 large', dtype: 'int64', dims: [2], data: BigInt64Array.from([1n, 2n ** 53n]) },
  { name: 'u64', dtype: 'uint64', dims: [1], data: BigUint64Array.from([2n ** 64n - 1n]) },
  { name: 'bool', dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
  { name: 'strings "é"', dtype: 'string', dims: [2], data: ['héllo', 'a"b\\c'] },
  { name: 'empty', dtype: 'float32', dims: [0, 4], data: new Float32Array(0) },
];

describe('inferenceResponseJson', () => {
  it.each(outputs.map((o) => [o.name, o] as const))('%s: the same text as JSON.stringify of the encoded response, JSON and base64', (_name, output) => {
    for (const outputEncoding of ['json', 'base64'] as const) {
      for (const id of [undefined, 'r-1 ✓']) {
        const raw: RawInferenceResult = { ...(id === undefined ? {} : { id }), outputEncoding, outputs: [output, output] };
        const json = inferenceResponseJson('mödel', raw);
        expect(json.text).toBe(stringified('mödel', raw));
        expect(json.bytes).toBe(Buffer.byteLength(json.text));
      }
    }
  });

  it('serialises back to the same value through JSON.stringify (toJSON)', () => {
    const raw: RawInferenceResult = { outputEncoding: 'json', outputs };
    const json = inferenceResponseJson('m', raw);
    expect(json).toBeInstanceOf(JsonText);
    expect(JSON.stringify({ wrapped: json })).toBe(`{"wrapped":${stringified('m', raw)}}`);
  });
});
