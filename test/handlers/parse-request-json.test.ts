import { describe, expect, it } from 'vitest';
import { decodeInferenceRequest } from '../../handlers/core/codec.js';
import { NumericArray } from '../../handlers/core/numeric-array.js';
import { parseRequestJson } from '../../handlers/core/parse-request-json.js';
import type { ModelSignature } from '../../src/model/types.js';

/** What JSON.parse gives: NumericArrays turned back into the arrays they were read from. */
function plain(value: unknown): unknown {
  if (value instanceof NumericArray) return value.toArray();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: plain(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

function tensorDoc(data: string, datatype = 'FP64', extra = ''): string {
  return `{"inputs":[{"name":"x","shape":[4],"datatype":"${datatype}"${extra},"data":${data}}]}`;
}

/** The data of inputs[0] as the parser read it. */
function dataOf(doc: string | Buffer): unknown {
  return ((parseRequestJson(doc) as { inputs: { data: unknown }[] }).inputs[0]).data;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('parseRequestJson gives what JSON.parse gives', () => {
  const documents = [
    '{}', '[]', '0', '-0', '"x"', 'true', 'false', 'null', ' \t\r\n{ "a" : [ 1 , 2 ] } \n',
    '{"id":"r1","inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}],"outputs":[{"name":"y"}],"parameters":{"output_encoding":"base64"}}',
    '{"inputs":{"input":[[0.1,0.2]],"sr":16000,"state":[[[0,0],[0,0]]]}}',
    '{"instances":[[1,2],[3,4]],"parameters":{"a":[1.5e3]}}',
    '{"a":"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00","b":"héllo ✓ 😀"}',
    '{"a":1,"b":2,"a":3}',
    '{"__proto__":{"polluted":true},"x":1}',
    '{"10":1,"2":2,"b":3,"a":4}',
    '[1e5,1E-7,2.5e+3,-0.0,0e10,1e400,-1e400,5e-324,1e-400,123456789012345678901234567890]',
    '[9007199254740993,9007199254740992,-9007199254740993,18446744073709551615]',
    '[0.1,0.2,0.30000000000000004,1.7976931348623157e308,2.2250738585072014e-308]',
    '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3,4]]}]}',
    '{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[[1,2],[3]]}]}',
    '{"inputs":[{"name":"x","shape":[4],"datatype":"FP32","data":[1,"NaN","Infinity","-Infinity"]}]}',
    '{"inputs":[{"name":"x","shape":[2],"datatype":"BOOL","data":[true,false]}]}',
    '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,[2]]}]}',
    '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[[],[1]]}]}',
    '{"inputs":[{"name":"x","shape":[0],"datatype":"FP32","data":[]}]}',
    '{"inputs":[{"name":"x","shape":[2,0],"datatype":"FP32","data":[[],[]]}]}',
    '{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":[ 1 ]}]}',
    `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":"${'QUJD'.repeat(40)}"}]}`,
  ];

  it.each(documents)('%s', (doc) => {
    const parsed = parseRequestJson(doc);
    expect(plain(parsed)).toStrictEqual(JSON.parse(doc));
    expect(plain(parseRequestJson(Buffer.from(doc)))).toStrictEqual(JSON.parse(doc));
  });

  it('keeps -0 and huge integers exactly as JSON.parse rounds them', () => {
    const values = (dataOf(tensorDoc('[-0,9007199254740993,-0.0,1e400]')) as NumericArray).values;
    expect(Object.is(values[0], -0)).toBe(true);
    expect(values[1]).toBe(9007199254740992);
    expect(Object.is(values[2], -0)).toBe(true);
    expect(values[3]).toBe(Infinity);
  });

  it('an own "__proto__" key stays a key, as JSON.parse makes it', () => {
    const parsed = parseRequestJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a string with a lone surrogate is parsed as JSON.parse parses it', () => {
    const doc = '{"id":"\ud800x","inputs":[]}';
    expect(parseRequestJson(doc)).toStrictEqual(JSON.parse(doc));
  });

  const invalid = [
    '', ' ', '{', '[1,]', '[,1]', '{"a":1,}', '{"a" 1}', '01', '[01]', '[1.]', '[.5]', '[+1]', '[1e]', '[1e+]', '[-]', '[--1]',
    '[NaN]', '[Infinity]', '[-Infinity]', '[1,2', '{"a":[1,2}', '"abc', '"a\tb"', '"a\u0001b"', '"\\x41"', '"\\u12"', '[1]x',
    '[1\u000b]', '[1\u000c]', '[1\u00a0]', '\ufeff{}', 'tru', 'nul', '[true,fals]',
    tensorDoc('[1,2,3,4,]'), tensorDoc('[1,2,3,04]'), tensorDoc('[[1,2],[3,4]'), tensorDoc('[1,2,3,4e]'),
    `{"inputs":[{"name":"x","shape":[1],"datatype":"FP32","data":"${'QUJD'.repeat(40)}\u0007"}]}`,
  ];

  it.each(invalid)('refuses %j with the SyntaxError JSON.parse throws', (doc) => {
    const ours = thrown(() => parseRequestJson(doc)) as Error;
    const theirs = thrown(() => JSON.parse(doc)) as Error;
    expect(ours).toBeInstanceOf(SyntaxError);
    expect(ours.message).toBe(theirs.message);
  });
});

describe('tensor data straight into typed arrays', () => {
  it('reads flat and regularly nested numbers with their nesting', () => {
    const flat = dataOf(tensorDoc('[1, 2.5 ,-3e2,\n4]'));
    expect(flat).toBeInstanceOf(NumericArray);
    expect((flat as NumericArray).dims).toEqual([4]);
    expect(Array.from((flat as NumericArray).values)).toEqual([1, 2.5, -300, 4]);
    const nested = dataOf(tensorDoc('[[[1,2,3]],[[4,5,6]]]')) as NumericArray;
    expect(nested.dims).toEqual([2, 1, 3]);
    expect(nested.toArray()).toEqual([[[1, 2, 3]], [[4, 5, 6]]]);
  });

  it('leaves data with strings, booleans or ragged nesting to JSON.parse', () => {
    expect(dataOf(tensorDoc('[1,"NaN",2,3]'))).toEqual([1, 'NaN', 2, 3]);
    expect(dataOf(tensorDoc('[true,false,true,false]'))).toEqual([true, false, true, false]);
    expect(dataOf(tensorDoc('[[1,2],[3]]'))).toEqual([[1, 2], [3]]);
    expect(dataOf(tensorDoc('[1,[2,3],4]'))).toEqual([1, [2, 3], 4]);
  });

  it('only tensor data is read that way: shapes, outputs and instances stay arrays', () => {
    const parsed = parseRequestJson('{"inputs":[{"name":"x","shape":[4],"datatype":"FP32","data":[1,2,3,4],"parameters":{"a":[1]}}],"outputs":[],"instances":[[1]]}') as Record<string, any>;
    expect(parsed.inputs[0].shape).toEqual([4]);
    expect(parsed.inputs[0].parameters.a).toEqual([1]);
    expect(parsed.instances).toEqual([[1]]);
    expect((parseRequestJson('{"instances":[{"name":"x","shape":[1],"datatype":"FP32","data":[1]}]}') as any).instances[0].data).toEqual([1]);
  });

  it('FP32 data goes into a Float32Array equal to Float32Array.from(JSON.parse(…))', () => {
    // Float32 values printed as doubles (16 or 17 significant digits), as clients send them.
    let s = 7;
    const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const values = Array.from({ length: 20000 }, (_, i) => Math.fround((random() - 0.5) * 10 ** ((i % 40) - 20)));
    const doc = `{"inputs":[{"name":"x","shape":[${values.length}],"datatype":"FP32","data":${JSON.stringify(values)}}]}`;
    const read = dataOf(doc) as NumericArray;
    expect(read.values).toBeInstanceOf(Float32Array);
    expect(Array.from(read.values)).toEqual(Array.from(Float32Array.from(JSON.parse(doc).inputs[0].data as number[])));
  });

  it('FP32 agrees with JSON.parse on decimals of 17 to 30 digits, halfway cases and exponents', () => {
    let s = 11;
    const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const texts: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const digits = 17 + (i % 14);
      let text = String(1 + Math.floor(random() * 9));
      while (text.length < digits) text += String(Math.floor(random() * 10));
      const point = 1 + Math.floor(random() * (digits - 1));
      texts.push(`${random() < 0.5 ? '-' : ''}0.${'0'.repeat(i % 5)}${text.slice(0, point)}${text.slice(point)}`);
      texts.push(`${text.slice(0, point)}.${text.slice(point)}e${(i % 9) - 4}`);
    }
    // Exactly halfway between two float32s, and a hair either side: the shortcut must not decide these.
    for (const f of [1, 1.5, 3.25e-5, 123456.5]) {
      const up = Math.fround(f) + 2 ** (Math.floor(Math.log2(f)) - 24);
      texts.push(up.toPrecision(25), (up * (1 + 2 ** -52)).toPrecision(25), (up * (1 - 2 ** -52)).toPrecision(25));
    }
    const doc = `{"inputs":[{"name":"x","datatype":"FP32","shape":[${texts.length}],"data":[${texts.join(',')}]}]}`;
    const read = dataOf(doc) as NumericArray;
    expect(Array.from(read.values)).toEqual(texts.map((t) => Math.fround(JSON.parse(t) as number)));
  });

  it('other data holds the doubles JSON.parse gives', () => {
    const texts = ['0.1', '17976931348623157e292', '2.2250738585072011e-308', '4.9e-324', '123456789012345678', '0.30000000000000004441', '1e23', '8.98846567431158e307'];
    const read = dataOf(tensorDoc(`[${texts.join(',')}]`)) as NumericArray;
    expect(Array.from(read.values)).toEqual(texts.map((t) => JSON.parse(t) as number));
  });

  it('a datatype after the data, or a second one, gives the exact doubles', () => {
    const late = dataOf('{"inputs":[{"name":"x","data":[0.1,0.2],"datatype":"FP32","shape":[2]}]}') as NumericArray;
    expect(late.values).toBeInstanceOf(Float64Array);
    const changed = dataOf('{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[0.1,0.2],"datatype":"FP64"}]}') as NumericArray;
    expect(Array.from(changed.values)).toEqual([0.1, 0.2]);
    expect(changed.values).toBeInstanceOf(Float64Array);
  });

  it('the simple form reads float32 inputs into Float32Arrays when told which they are', () => {
    const doc = '{"inputs":{"x":[[0.1,0.2]],"sr":16000}}';
    const parsed = parseRequestJson(doc, (name) => name === 'x') as { inputs: Record<string, unknown> };
    expect((parsed.inputs.x as NumericArray).values).toEqual(Float32Array.from([0.1, 0.2]));
    expect((parsed.inputs.x as NumericArray).dims).toEqual([1, 2]);
    expect(parsed.inputs.sr).toBe(16000);
  });
});

describe('the codec takes NumericArrays as it takes arrays', () => {
  const signature = (dtype: string, shape: (number | string)[] = ['n', 2]): ModelSignature => ({
    inputs: [{ name: 'x', dtype, shape, onnxTypeName: dtype }], outputs: [{ name: 'y', dtype, shape, onnxTypeName: dtype }],
  } as unknown as ModelSignature);

  const cases: [string, string, string][] = [
    ['float32', 'FP32', '[[0.1,0.2],[1e-7,-0]]'],
    ['float32', 'FP32', '[0.1,0.2,3,4]'],
    ['float64', 'FP64', '[[0.1,0.2],[1e300,5e-324]]'],
    ['float16', 'FP16', '[[0.1,65504],[1,-2]]'],
    ['int32', 'INT32', '[[1,-2],[2147483647,-2147483648]]'],
    ['int64', 'INT64', '[[1,-2],[9007199254740991,0]]'],
    ['uint8', 'UINT8', '[[0,255],[1,2]]'],
  ];
  it.each(cases)('%s: %s %s decodes to the same typed array', (dtype, datatype, data) => {
    const doc = `{"inputs":[{"name":"x","shape":[2,2],"datatype":"${datatype}","data":${data}}]}`;
    const fast = decodeInferenceRequest(parseRequestJson(doc), signature(dtype));
    const slow = decodeInferenceRequest(JSON.parse(doc), signature(dtype));
    expect(fast.inputs[0].data).toEqual(slow.inputs[0].data);
    expect(fast.inputs[0].data.constructor).toBe(slow.inputs[0].data.constructor);
  });

  const refused: [string, string, string][] = [
    ['int32', 'INT32', '[[1,2],[1.5,4]]'],
    ['int32', 'INT32', '[[1,2],[2147483648,4]]'],
    ['int64', 'INT64', '[[1,2],[9007199254740993,4]]'],
    ['bool', 'BOOL', '[[1,0],[1,0]]'],
    ['string', 'BYTES', '[[1,2],[3,4]]'],
    ['float32', 'FP32', '[1,2,3]'],
    ['float32', 'FP32', '[[1,2,3],[4,5,6]]'],
    ['float32', 'FP32', '[[1],[2],[3],[4]]'],
    ['float32', 'FP32', '[[[1,2],[3,4]]]'],
  ];
  it.each(refused)('%s: %s %s is refused with the same error', (dtype, datatype, data) => {
    const doc = `{"inputs":[{"name":"x","shape":[2,2],"datatype":"${datatype}","data":${data}}]}`;
    const fast = thrown(() => decodeInferenceRequest(parseRequestJson(doc), signature(dtype)));
    const slow = thrown(() => decodeInferenceRequest(JSON.parse(doc), signature(dtype)));
    expect(fast).toMatchObject({ status: 400 });
    expect(fast).toEqual(slow);
    expect((fast as Error).message).toBe((slow as Error).message);
  });

  it('the simple form: shape from the nesting, ragged refused as before', () => {
    const sig = signature('float32', ['n', 2]);
    const hint = (name: string) => name === 'x';
    expect(decodeInferenceRequest(parseRequestJson('{"inputs":{"x":[[1,2],[3,4]]}}', hint), sig).inputs[0]).toEqual({ name: 'x', dtype: 'float32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) });
    const doc = '{"inputs":{"x":[[1,2],[3]]}}';
    expect(thrown(() => decodeInferenceRequest(parseRequestJson(doc, hint), sig))).toEqual(thrown(() => decodeInferenceRequest(JSON.parse(doc), sig)));
  });
});
