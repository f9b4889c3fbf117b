import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from '../../src/model/inspect-model.js';
import { decodeInferenceRequest, encodeOutputTensor } from '../../handlers/core/codec.js';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import { fromFloat16Bits, toFloat16Bits } from '../../handlers/core/float16.js';
import { InferenceError } from '../../handlers/core/inference-error.js';
import { inferShape, unflatten } from '../../handlers/core/nested.js';
import type { InferenceCore } from '../../handlers/core/types.js';
import { IDENTITY_DTYPES, makeModelDir, removeModelDir, writeTinyModel, type IdentityDtype } from '../_helpers/onnx-models.js';

describe('float16', () => {
  it('every half bit pattern survives bits → number → bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromFloat16Bits(bits);
      if (Number.isNaN(value)) continue;
      expect(toFloat16Bits(value)).toBe(bits);
    }
  });

  it('rounds to nearest, ties to even, and overflows to Infinity', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: even wins
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65519)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(-1e9)).toBe(0xfc00);
    expect(toFloat16Bits(2 ** -25)).toBe(0); // half the smallest subnormal: ties to zero
    expect(toFloat16Bits(Number.NaN)).toBe(0x7e00);
    expect(toFloat16Bits(-0)).toBe(0x8000);
  });
});

describe('nested arrays', () => {
  it('infers shapes and rebuilds row-major nesting', () => {
    expect(inferShape(5)).toEqual([]);
    expect(inferShape([])).toEqual([0]);
    expect(inferShape([[1, 2, 3], [4, 5, 6]])).toEqual([2, 3]);
    expect(unflatten([1, 2, 3, 4, 5, 6], [2, 3])).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(unflatten([7], [])).toBe(7);
  });
});

describe('encodeOutputTensor', () => {
  it('emits 64-bit integers as numbers when all are exact, else all as strings', () => {
    expect(encodeOutputTensor('n', 'int64', [2], BigInt64Array.from([1n, -2n])).data).toEqual([1, -2]);
    expect(encodeOutputTensor('n', 'int64', [2], BigInt64Array.from([1n, 2n ** 53n])).data).toEqual(['1', '9007199254740992']);
    expect(encodeOutputTensor('n', 'uint64', [1], BigUint64Array.from([2n ** 64n - 1n])).data).toEqual(['18446744073709551615']);
  });

  it('emits non-finite floats as strings JSON can carry', () => {
    expect(encodeOutputTensor('y', 'float32', [3], Float32Array.from([1.5, Number.NaN, Number.NEGATIVE_INFINITY])))
      .toEqual({ name: 'y', datatype: 'FP32', shape: [3], data: [1.5, 'NaN', '-Infinity'] });
  });

  it('decodes float16 bits and booleans', () => {
    expect(encodeOutputTensor('h', 'float16', [2], Uint16Array.from([0x3c00, 0xc000])).data).toEqual([1, -2]);
    expect(encodeOutputTensor('b', 'bool', [2], Uint8Array.from([1, 0])).data).toEqual([true, false]);
  });

  it('base64 carries raw bytes; string tensors stay JSON', () => {
    const out = encodeOutputTensor('y', 'float32', [2], Float32Array.from([1, 2]), 'base64');
    expect(out).toEqual({ name: 'y', datatype: 'FP32', shape: [2], data: Buffer.from(Float32Array.from([1, 2]).buffer).toString('base64'), parameters: { content_encoding: 'base64' } });
    expect(encodeOutputTensor('s', 'string', [1], ['a'], 'base64')).toEqual({ name: 's', datatype: 'BYTES', shape: [1], data: ['a'] });
  });
});

describe('every dtype through a real identity model', () => {
  let dir: string;
  const cores = new Map<IdentityDtype, InferenceCore>();
  beforeAll(async () => {
    dir = await makeModelDir();
    for (const dtype of IDENTITY_DTYPES) {
      const path = await writeTinyModel(dir, `identity-${dtype}`);
      cores.set(dtype, await createInferenceCore({ modelPath: path, signature: await inspectModel(path), modelName: dtype }));
    }
  });
  afterAll(async () => {
    for (const c of cores.values()) await c.close();
    await removeModelDir(dir);
  });

  const roundTrips: [IdentityDtype, string, unknown[], unknown[]][] = [
    ['float32', 'FP32', [1.5, 'NaN', 'Infinity', '-Infinity'], [1.5, 'NaN', 'Infinity', '-Infinity']],
    ['float64', 'FP64', [0.1, -1e300, 5e-324, 2], [0.1, -1e300, 5e-324, 2]],
    ['float16', 'FP16', [1.5, 65504, -0.00006103515625, 0.1], [1.5, 65504, -0.00006103515625, 0.0999755859375]],
    ['int8', 'INT8', [-128, 127, 0, -1], [-128, 127, 0, -1]],
    ['int16', 'INT16', [-32768, 32767, 0, 1], [-32768, 32767, 0, 1]],
    ['int32', 'INT32', [-2147483648, 2147483647, 0, 1], [-2147483648, 2147483647, 0, 1]],
    ['int64', 'INT64', [1, '-2', 3, '4'], [1, -2, 3, 4]],
    ['int64', 'INT64', ['9007199254740993', '-9223372036854775808', 0, 1], ['9007199254740993', '-9223372036854775808', '0', '1']],
    ['uint8', 'UINT8', [0, 255, 1, 2], [0, 255, 1, 2]],
    ['uint16', 'UINT16', [0, 65535, 1, 2], [0, 65535, 1, 2]],
    ['uint32', 'UINT32', [0, 4294967295, 1, 2], [0, 4294967295, 1, 2]],
    ['uint64', 'UINT64', ['18446744073709551615', 0, 1, 2], ['18446744073709551615', '0', '1', '2']],
    ['bool', 'BOOL', [true, false, false, true], [true, false, false, true]],
    ['string', 'BYTES', ['héllo', '', 'a b', '✓'], ['héllo', '', 'a b', '✓']],
  ];

  it.each(roundTrips)('%s (%s): %j comes back as %j', async (dtype, datatype, data, expected) => {
    const response = await cores.get(dtype)!.infer(JSON.parse(JSON.stringify({ inputs: [{ name: 'x', shape: [2, 2], datatype, data }] })));
    expect(response.outputs).toEqual([{ name: 'y', datatype, shape: [2, 2], data: expected }]);
  });

  it.each(IDENTITY_DTYPES.filter((d) => d !== 'string'))('%s: base64 in and out carries the same bytes', async (dtype) => {
    const core = cores.get(dtype)!;
    const json = roundTrips.find(([d]) => d === dtype)!;
    const plain = await core.infer({ inputs: [{ name: 'x', shape: [2, 2], datatype: json[1], data: json[2] }], parameters: { output_encoding: 'base64' } });
    const b64 = plain.outputs[0].data as string;
    const again = await core.infer({ inputs: [{ name: 'x', shape: [2, 2], datatype: json[1], data: b64, parameters: { content_encoding: 'base64' } }] });
    expect(again.outputs[0].data).toEqual(json[3]);
  });

  it('base64 is refused for BYTES tensors', async () => {
    const err = await cores.get('string')!.infer({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'BYTES', data: 'YWI=', parameters: { content_encoding: 'base64' } }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, code: 'UNSUPPORTED_ENCODING' });
  });

  const rejected: [IdentityDtype, string, unknown, string, string][] = [
    ['uint8', 'UINT8', 300, 'VALUE_OUT_OF_RANGE', '[0, 255]'],
    ['uint8', 'UINT8', -1, 'VALUE_OUT_OF_RANGE', '[0, 255]'],
    ['int8', 'INT8', -129, 'VALUE_OUT_OF_RANGE', '[-128, 127]'],
    ['int32', 'INT32', 2 ** 31, 'VALUE_OUT_OF_RANGE', '[-2147483648, 2147483647]'],
    ['uint32', 'UINT32', 2 ** 32, 'VALUE_OUT_OF_RANGE', '4294967295'],
    ['int32', 'INT32', 1.5, 'INVALID_VALUE', 'integers'],
    ['int32', 'INT32', '7', 'INVALID_VALUE', 'integers'],
    ['int32', 'INT32', 'NaN', 'INVALID_VALUE', 'integers'],
    ['int64', 'INT64', 2 ** 53 + 2, 'VALUE_OUT_OF_RANGE', 'decimal strings'],
    ['int64', 'INT64', '9223372036854775808', 'VALUE_OUT_OF_RANGE', '9223372036854775807'],
    ['int64', 'INT64', '12.5', 'INVALID_VALUE', 'decimal strings'],
    ['int64', 'INT64', 'NaN', 'INVALID_VALUE', 'decimal strings'],
    ['uint64', 'UINT64', '-1', 'VALUE_OUT_OF_RANGE', '18446744073709551615'],
    ['bool', 'BOOL', 1, 'INVALID_VALUE', 'true or false'],
    ['bool', 'BOOL', 'true', 'INVALID_VALUE', 'true or false'],
    ['float16', 'FP16', 'nan', 'INVALID_VALUE', '"NaN"'],
    ['string', 'BYTES', 5, 'INVALID_VALUE', 'strings'],
  ];

  it.each(rejected)('%s (%s): element %j is refused with %s', async (dtype, datatype, bad, code, hint) => {
    const data = dtype === 'bool' ? [true, false, bad, true] : dtype === 'string' ? ['a', 'b', bad, 'c'] : [0, 1, bad, 1];
    const err = await cores.get(dtype)!.infer({ inputs: [{ name: 'x', shape: [2, 2], datatype, data }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toMatchObject({ status: 400, code });
    const message = (err as InferenceError).message;
    expect(message).toContain('input "x"');
    expect(message).toContain('element 2');
    expect(message).toContain(hint);
  });
});

describe('decodeInferenceRequest without onnxruntime', () => {
  it('decodes to typed arrays ready for onnxruntime', async () => {
    const dir = await makeModelDir();
    try {
      const path = await writeTinyModel(dir, 'int64-scalar');
      const decoded = decodeInferenceRequest({ id: 'a', inputs: { x: [[1, 2, 3]], k: '5' }, outputs: [{ name: 'n' }, { name: 'n' }] }, await inspectModel(path));
      expect(decoded).toEqual({
        id: 'a',
        inputs: [
          { name: 'x', dtype: 'float32', shape: [1, 3], data: Float32Array.from([1, 2, 3]) },
          { name: 'k', dtype: 'int64', shape: [], data: BigInt64Array.from([5n]) },
        ],
        outputs: ['n'],
        outputEncoding: 'json',
      });
    } finally {
      await removeModelDir(dir);
    }
  });
});
