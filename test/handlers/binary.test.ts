import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { adoptRequestBuffer, decodeRawTensor, isRequestBuffer } from '../../handlers/core/base64.js';
import { decodeBytesElements, encodeBytesElements, parseBinaryRequest } from '../../handlers/server/binary.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import { makeModelDir, removeModelDir, writeTinyModel } from '../_helpers/onnx-models.js';
import { binaryRequest, parseBinaryResponse } from './_binary.js';
import { floats, MODELS, runDirect, signatureOf } from './_models.js';

const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

async function post(url: string, body: Buffer | string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body, headers, ...(typeof body === 'object' && !Buffer.isBuffer(body) ? { duplex: 'half' } : {}) } as RequestInit);
  const buf = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  return { status: res.status, contentType: res.headers.get('content-type'), headerLength, buf, ...(headerLength ? parseBinaryResponse(buf, Number(headerLength)) : { json: JSON.parse(buf.toString()), binary: {} }) };
}

// The worker pool serves binary outputs from the raw tensors; the in-process core through base64.
describe.each([['worker pool', 1], ['in-process core', 0]] as const)('binary tensor data extension (%s)', (_label, workers) => {
  let cls: StartedServer;
  let vad: StartedServer;
  beforeAll(async () => {
    [cls, vad] = await Promise.all([
      startServer({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'cls', port: 0, host: '127.0.0.1', workers }),
      startServer({ modelPath: MODELS.vad.path, signature: await signatureOf('vad'), modelName: 'vad', port: 0, host: '127.0.0.1', workers }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([cls.close(), vad.close()]);
  });

  it('round trip: binary input in, binary output out, bytes equal to direct onnxruntime', async () => {
    // GIVEN an input sent as raw float32 bytes after the JSON header
    const x = floats(3 * 48 * 192, 7);
    const { body, headers } = binaryRequest({ id: 'b1', inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32' }], parameters: { binary_data_output: true } }, [x]);
    // WHEN it is posted
    const res = await post(`${cls.url}/v2/models/cls/infer`, body, headers);
    // THEN the answer is binary too, and its bytes are onnxruntime's
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/octet-stream');
    expect(res.json).toEqual({ model_name: 'cls', model_version: '1', id: 'b1', outputs: [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] });
    const direct = (await runDirect('cls', { x: new ort.Tensor('float32', x, [1, 3, 48, 192]) }))['softmax_0.tmp_0'].data as number[];
    expect(res.binary['softmax_0.tmp_0']).toEqual(bytesOf(Float32Array.from(direct)));
  });

  it('takes the tensor bytes where they lie in the body, whatever the header length, chunked or not', async () => {
    // GIVEN the same input after JSON headers of eight different lengths (so every alignment)
    const x = floats(3 * 48 * 192, 12);
    const expected = bytesOf(Float32Array.from((await runDirect('cls', { x: new ort.Tensor('float32', x, [1, 3, 48, 192]) }))['softmax_0.tmp_0'].data as number[]));
    for (let pad = 0; pad < 8; pad++) {
      const { body, headers } = binaryRequest({ id: 'p'.repeat(pad + 1), inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32' }], parameters: { binary_data_output: true } }, [x]);
      // WHEN it is posted with a content-length, and chunked (no length known up front)
      const sized = await post(`${cls.url}/v2/models/cls/infer`, body, headers);
      const chunked = await post(`${cls.url}/v2/models/cls/infer`, new Blob([body]).stream() as never, headers);
      // THEN both answer onnxruntime's bytes
      for (const res of [sized, chunked]) {
        expect(res.status).toBe(200);
        expect(res.binary['softmax_0.tmp_0']).toEqual(expected);
      }
    }
  });

  it('binary input with a JSON answer, and a JSON request asking for binary output', async () => {
    const x = floats(3 * 48 * 192, 8);
    const expected = (await runDirect('cls', { x: new ort.Tensor('float32', x, [1, 3, 48, 192]) }))['softmax_0.tmp_0'].data;
    const bin = binaryRequest({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32' }] }, [x]);
    const jsonOut = await post(`${cls.url}/v2/models/cls/infer`, bin.body, bin.headers);
    expect(jsonOut.contentType).toBe('application/json');
    expect(jsonOut.json.outputs[0].data).toEqual(expected);

    const binOut = await post(`${cls.url}/invocations`, JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: Array.from(x) }], outputs: [{ name: 'softmax_0.tmp_0', parameters: { binary_data: true } }] }), { 'content-type': 'application/json' });
    expect(binOut.binary['softmax_0.tmp_0']).toEqual(bytesOf(Float32Array.from(expected as number[])));
  });

  it('mixes binary and JSON inputs and outputs on a multi-input model (int64 scalar as JSON)', async () => {
    const input = floats(512, 9);
    const state = floats(2 * 128, 10);
    const { body, headers } = binaryRequest({
      inputs: [{ name: 'input', shape: [1, 512], datatype: 'FP32' }, { name: 'state', shape: [2, 1, 128], datatype: 'FP32' }, { name: 'sr', shape: [], datatype: 'INT64', data: [16000] }],
      outputs: [{ name: 'output' }, { name: 'stateN', parameters: { binary_data: true } }],
    }, [input, state]);
    const res = await post(`${vad.url}/v2/models/vad/infer`, body, headers);
    const direct = await runDirect('vad', {
      input: new ort.Tensor('float32', input, [1, 512]), state: new ort.Tensor('float32', state, [2, 1, 128]), sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    });
    expect(res.status).toBe(200);
    expect(res.json.outputs[0]).toEqual({ name: 'output', datatype: 'FP32', shape: [1, 1], data: direct.output.data });
    expect(res.json.outputs[1]).toEqual({ name: 'stateN', datatype: 'FP32', shape: [2, 1, 128], parameters: { binary_data_size: 1024 } });
    expect(res.binary.stateN).toEqual(bytesOf(Float32Array.from(direct.stateN.data as number[])));
  });

  // SageMaker's InvokeEndpoint (and Vertex AI's RawPredict) forward only the Content-Type, so
  // Triton's front ends take the JSON header's length from the media type
  // (triton-inference-server/server r25.09, src/sagemaker_server.cc GetInferenceHeaderLength).
  it.each([
    ['/invocations', 'application/vnd.sagemaker-triton.binary+json'],
    ['/v2/models/cls/infer', 'application/vnd.vertex-ai-triton.binary+json'],
  ])('%s takes %s;json-header-size=N and answers binary outputs in the same media type', async (route, mediaType) => {
    // GIVEN a binary request whose header length is only in the content-type, as SageMaker forwards it
    const x = floats(3 * 48 * 192, 11);
    const { body } = binaryRequest({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32' }], parameters: { binary_data_output: true } }, [x]);
    const jsonLength = body.length - x.byteLength;
    // WHEN it is posted with that media type and no Inference-Header-Content-Length
    const res = await fetch(`${cls.url}${route}`, { method: 'POST', body, headers: { 'content-type': `${mediaType};json-header-size=${jsonLength}` } });
    // THEN it is served, and the binary answer says its own header length in the same media type
    expect(res.status).toBe(200);
    const contentType = res.headers.get('content-type')!;
    const m = new RegExp(`^${mediaType.replace(/[.+]/g, '\\$&')};json-header-size=(\\d+)$`).exec(contentType);
    expect(m, contentType).not.toBeNull();
    const answer = parseBinaryResponse(Buffer.from(await res.arrayBuffer()), Number(m![1]));
    const direct = (await runDirect('cls', { x: new ort.Tensor('float32', x, [1, 3, 48, 192]) }))['softmax_0.tmp_0'].data as number[];
    expect(answer.binary['softmax_0.tmp_0']).toEqual(bytesOf(Float32Array.from(direct)));
  });

  it('the SageMaker binary media type without json-header-size is a plain JSON request; a bad size is a 400', async () => {
    const x = Array.from(floats(3 * 48 * 192, 12));
    const plain = await fetch(`${cls.url}/invocations`, {
      method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: x }] }),
      headers: { 'content-type': 'application/vnd.sagemaker-triton.binary+json' },
    });
    expect(plain.status).toBe(200);
    const bad = await post(`${cls.url}/invocations`, '{"inputs":[]}', { 'content-type': 'application/vnd.sagemaker-triton.binary+json;json-header-size=999' });
    expect(bad).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST', error: expect.stringContaining('json-header-size') } });
  });

  it('malformed binary requests are 400s naming what is wrong', async () => {
    const url = `${cls.url}/v2/models/cls/infer`;
    const x = floats(3 * 48 * 192, 1);
    const ok = binaryRequest({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32' }] }, [x]);
    // the header length points past the body
    expect((await post(url, ok.body, { ...ok.headers, 'inference-header-content-length': String(ok.body.length + 1) })).json.code).toBe('INVALID_REQUEST');
    // bytes left over after the inputs
    expect((await post(url, Buffer.concat([ok.body, Buffer.alloc(4)]), ok.headers)).json.code).toBe('DATA_SIZE_MISMATCH');
    // a binary_data_size that does not match the shape
    const short = binaryRequest({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32' }] }, [x.subarray(4)]);
    const res = await post(url, short.body, short.headers);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'DATA_SIZE_MISMATCH', error: expect.stringContaining('"x"') });
  });
});

describe('binary tensors of every fixed-width dtype and BYTES', () => {
  let dir: string;
  beforeAll(async () => { dir = await makeModelDir(); });
  afterAll(async () => { await removeModelDir(dir); });

  it.each([
    ['float16', 'FP16', Uint16Array.from([0x3c00, 0xc000, 0x7c00, 0x0001])],
    ['int64', 'INT64', BigInt64Array.from([-(2n ** 62n), 1n, 2n ** 60n + 1n, 0n])],
    ['bool', 'BOOL', Uint8Array.from([1, 0, 0, 1])],
    ['uint8', 'UINT8', Uint8Array.from([0, 1, 254, 255])],
  ] as const)('%s survives binary in and out byte for byte', async (dtype, datatype, data) => {
    const path = await writeTinyModel(dir, `identity-${dtype}`);
    const srv = await startServer({ modelPath: path, signature: await inspectModel(path), modelName: 'id', port: 0, host: '127.0.0.1', workers: 1 });
    try {
      const { body, headers } = binaryRequest({ inputs: [{ name: 'x', shape: [2, 2], datatype }], parameters: { binary_data_output: true } }, [data]);
      const res = await post(`${srv.url}/v2/models/id/infer`, body, headers);
      expect(res.json.outputs[0]).toMatchObject({ name: 'y', datatype, shape: [2, 2] });
      expect(res.binary.y).toEqual(bytesOf(data));
    } finally {
      await srv.close();
    }
  });

  it('BYTES: length-prefixed strings in and out', async () => {
    const strings = ['', 'hello', 'ünïcødé', 'x'.repeat(300)];
    expect(decodeBytesElements('s', encodeBytesElements(strings))).toEqual(strings);
    const path = await writeTinyModel(dir, 'identity-string');
    const srv = await startServer({ modelPath: path, signature: await inspectModel(path), modelName: 'id', port: 0, host: '127.0.0.1', workers: 1 });
    try {
      const { body, headers } = binaryRequest({ inputs: [{ name: 'x', shape: [2, 2], datatype: 'BYTES' }], parameters: { binary_data_output: true } }, [encodeBytesElements(strings)]);
      const res = await post(`${srv.url}/v2/models/id/infer`, body, headers);
      expect(decodeBytesElements('y', res.binary.y)).toEqual(strings);
    } finally {
      await srv.close();
    }
  });

  it('raw tensors are views of a request body\'s own buffer when aligned, copies otherwise', () => {
    const buffer = new ArrayBuffer(24);
    new Float32Array(buffer).set([1, 2, 3, 4, 5, 6]);
    const notAdopted = decodeRawTensor('x', 'float32', [2], 2, new Uint8Array(buffer, 8, 8)) as Float32Array;
    expect(notAdopted.buffer).not.toBe(buffer);
    adoptRequestBuffer(buffer);
    const view = decodeRawTensor('x', 'float32', [2], 2, new Uint8Array(buffer, 8, 8)) as Float32Array;
    expect(view.buffer).toBe(buffer);
    expect(Array.from(view)).toEqual([3, 4]);
    const unaligned = decodeRawTensor('x', 'float32', [1], 1, new Uint8Array(buffer, 6, 4)) as Float32Array;
    expect(unaligned.buffer).not.toBe(buffer);
    expect(isRequestBuffer(buffer)).toBe(true);
  });

  it('parseBinaryRequest hands the codec raw bytes, and refuses a truncated BYTES element', () => {
    const { body, headers } = binaryRequest({ inputs: [{ name: 'x', shape: [2], datatype: 'FP32' }] }, [Float32Array.from([1, 2])]);
    const req = parseBinaryRequest(body, headers['inference-header-content-length']);
    expect((req.inputs as { data: unknown }[])[0].data).toBeInstanceOf(Uint8Array);
    const bad = binaryRequest({ inputs: [{ name: 's', shape: [1], datatype: 'BYTES' }] }, [Uint8Array.from([5, 0, 0, 0, 65])]);
    expect(() => parseBinaryRequest(bad.body, bad.headers['inference-header-content-length'])).toThrow(/runs past/);
  });
});
