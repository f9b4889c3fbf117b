import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import type { InferenceCore, V2InferenceResponse } from '../../handlers/core/types.js';
import { createLambdaHandler, LAMBDA_PAYLOAD_LIMIT, type LambdaHandler, type LambdaHttpResult } from '../../handlers/lambda/create-lambda-handler.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import { constantOfShapeModelBytes } from '../_helpers/onnx-models.js';
import { functionUrlEvent, restApiEvent } from './_events.js';
import { floats, MODELS, runDirect, signatureOf, validInput } from './_models.js';

let cls: InferenceCore;
let det: InferenceCore;
let handler: LambdaHandler;
let detHandler: LambdaHandler;
const logged: string[] = [];

beforeAll(async () => {
  cls = await createInferenceCore({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'ocr-cls' });
  det = await createInferenceCore({ modelPath: MODELS.det.path, signature: await signatureOf('det'), modelName: 'ocr-det' });
  handler = createLambdaHandler(cls, { log: (l) => logged.push(l) });
  detHandler = createLambdaHandler(det, { log: (l) => logged.push(l) });
});

afterAll(async () => {
  await cls.close();
  await det.close();
});

async function http(event: unknown, h: LambdaHandler = handler): Promise<{ statusCode: number; headers: Record<string, string>; json: any }> {
  const result = (await h(event, {})) as LambdaHttpResult;
  expect(result.headers['content-type']).toBe('application/json');
  expect(result.isBase64Encoded).toBe(false);
  return { statusCode: result.statusCode, headers: result.headers, json: JSON.parse(result.body) };
}

async function clsRequest() {
  const { tensors, feeds } = await validInput('cls');
  const expected = (await runDirect('cls', feeds))['softmax_0.tmp_0'].data;
  return { body: JSON.stringify({ id: 'r1', inputs: tensors }), expected };
}

describe('Function URL events', () => {
  it.each(['/', '/health', '/v2/health/ready'])('GET %s is 200 {"status":"ready"}', async (path) => {
    const res = await http(functionUrlEvent({ method: 'GET', path }));
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ status: 'ready' });
  });

  it('GET /v2/models/{name} is the model metadata, /ready is 200', async () => {
    const meta = await http(functionUrlEvent({ method: 'GET', path: '/v2/models/ocr-cls' }));
    expect(meta.statusCode).toBe(200);
    expect(meta.json).toEqual(cls.metadata());
    const ready = await http(functionUrlEvent({ method: 'GET', path: '/v2/models/ocr-cls/ready' }));
    expect(ready).toMatchObject({ statusCode: 200, json: { name: 'ocr-cls', ready: true } });
  });

  it('GET /v2/models/{another name} is 404 MODEL_NOT_FOUND', async () => {
    const res = await http(functionUrlEvent({ method: 'GET', path: '/v2/models/ocr-det' }));
    expect(res.statusCode).toBe(404);
    expect(res.json.code).toBe('MODEL_NOT_FOUND');
    expect(res.json.error).toContain('"ocr-det"');
  });

  it.each(['/', '/invocations', '/v2/models/ocr-cls/infer', '/v2/models/ocr-cls/versions/1/infer'])('POST %s infers; outputs equal the direct run', async (path) => {
    const { body, expected } = await clsRequest();
    const res = await http(functionUrlEvent({ method: 'POST', path, body }));
    expect(res.statusCode).toBe(200);
    expect(res.json).toMatchObject({ model_name: 'ocr-cls', model_version: '1', id: 'r1' });
    expect(res.json.outputs[0].data).toEqual(expected);
  });

  it('a base64-encoded body is decoded', async () => {
    const { body, expected } = await clsRequest();
    const res = await http(functionUrlEvent({ method: 'POST', path: '/invocations', body: Buffer.from(body).toString('base64'), isBase64Encoded: true }));
    expect(res.statusCode).toBe(200);
    expect(res.json.outputs[0].data).toEqual(expected);
  });

  it('an HTTP API stage prefix in rawPath is ignored', async () => {
    const res = await http(functionUrlEvent({ method: 'GET', path: '/prod/v2/health/ready', stage: 'prod' }));
    expect(res).toMatchObject({ statusCode: 200, json: { status: 'ready' } });
  });

  it('instances in, predictions out on POST /invocations', async () => {
    const { feeds } = await validInput('cls');
    const x = Array.from(feeds.x.data as Float32Array);
    const instance = [0, 1, 2].map((c) => Array.from({ length: 48 }, (_, h) => x.slice((c * 48 + h) * 192, (c * 48 + h + 1) * 192)));
    const res = await http(functionUrlEvent({ method: 'POST', path: '/invocations', body: JSON.stringify({ instances: [instance] }) }));
    expect(res.statusCode).toBe(200);
    expect(res.json).toEqual({ predictions: [{ 'softmax_0.tmp_0': (await runDirect('cls', feeds))['softmax_0.tmp_0'].data }] });
  });

  it('an unknown route is 404 JSON', async () => {
    const res = await http(functionUrlEvent({ method: 'GET', path: '/nope' }));
    expect(res.statusCode).toBe(404);
    expect(res.json.code).toBe('ROUTE_NOT_FOUND');
    expect(res.json.error).toContain('/nope');
  });

  it.each([
    ['GET', '/invocations', 'POST'],
    ['DELETE', '/', 'GET, POST'],
    ['POST', '/health', 'GET'],
    ['PUT', '/v2/models/ocr-cls/infer', 'POST'],
  ])('%s %s is 405 with allow: %s', async (method, path, allow) => {
    const res = await http(functionUrlEvent({ method, path, body: '{}' }));
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.json.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('a body that is not JSON is 400 BAD_JSON', async () => {
    const res = await http(functionUrlEvent({ method: 'POST', path: '/invocations', body: '{"inputs": [' }));
    expect(res.statusCode).toBe(400);
    expect(res.json.code).toBe('BAD_JSON');
  });

  it('an empty body is 400 BAD_JSON', async () => {
    const res = await http(functionUrlEvent({ method: 'POST', path: '/invocations' }));
    expect(res).toMatchObject({ statusCode: 400, json: { code: 'BAD_JSON', error: expect.any(String) } });
  });

  it('a content-type that is not JSON is 415; a missing one is read as JSON', async () => {
    const { body } = await clsRequest();
    const res = await http(functionUrlEvent({ method: 'POST', path: '/invocations', body, headers: { 'content-type': 'text/csv' } }));
    expect(res.statusCode).toBe(415);
    expect(res.json.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(res.json.error).toContain('text/csv');
    const event = functionUrlEvent({ method: 'POST', path: '/invocations', body });
    delete (event.headers as Record<string, string>)['content-type'];
    expect((await http(event)).statusCode).toBe(200);
  });

  it('a validation failure is the core\'s 400 with code and message', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4, 2, 2], datatype: 'FP32', data: Array(16).fill(0) }] });
    const res = await http(functionUrlEvent({ method: 'POST', path: '/v2/models/ocr-cls/infer', body }));
    expect(res.statusCode).toBe(400);
    expect(res.json.code).toBe('INPUT_SHAPE_MISMATCH');
    expect(res.json.error).toContain('"x"');
  });

  it('a request body over 6,291,456 bytes is 413 naming the limit and the ways out', async () => {
    const body = `{"inputs": []${' '.repeat(LAMBDA_PAYLOAD_LIMIT)}}`;
    const res = await http(functionUrlEvent({ method: 'POST', path: '/invocations', body }));
    expect(res.statusCode).toBe(413);
    expect(res.json.code).toBe('PAYLOAD_TOO_LARGE');
    expect(res.json.error).toContain('6291456');
    expect(res.json.error).toContain('base64');
    expect(res.json.error).toContain('container target');
  });

  it("a response may be 100 bytes over the request limit, as Lambda's Runtime API takes it, and no more", async () => {
    // GIVEN a rec request (about 1.3 MB) whose answer is far larger (about 9 MB), and the size of
    // that answer as Lambda carries it: the handler's result, serialised
    const rec = await createInferenceCore({ modelPath: MODELS.rec.path, signature: await signatureOf('rec'), modelName: 'ocr-rec' });
    try {
      const inputs = [{ name: 'x', shape: [1, 3, 48, 480], datatype: 'FP32', data: Array.from(floats(3 * 48 * 480, 3)) }];
      const event = functionUrlEvent({ method: 'POST', path: '/v2/models/ocr-rec/infer', body: JSON.stringify({ inputs }) });
      const encoded = Buffer.byteLength(JSON.stringify(await createLambdaHandler(rec, { maxPayloadBytes: 64 * 1024 * 1024 })(event)));
      // WHEN the request limit is 50 bytes under the answer's size, THEN the answer still goes out; 101 bytes under, it is refused
      const within = (await createLambdaHandler(rec, { maxPayloadBytes: encoded - 50 })(event)) as { statusCode: number };
      const over = (await createLambdaHandler(rec, { maxPayloadBytes: encoded - 101 })(event)) as { statusCode: number; body: string };
      expect(within.statusCode).toBe(200);
      expect(over.statusCode).toBe(413);
      expect(JSON.parse(over.body).error).toContain(`the response is ${encoded} bytes, over the ${encoded - 1}-byte limit`);
    } finally {
      await rec.close();
    }
  });

  it('a response over the limit is 413; the same request with base64 outputs fits', async () => {
    // GIVEN a rec input whose output as JSON numbers (60 × 6625 floats, about 9 MB) is over the limit
    const rec = await createInferenceCore({ modelPath: MODELS.rec.path, signature: await signatureOf('rec'), modelName: 'ocr-rec' });
    try {
      const recHandler = createLambdaHandler(rec);
      const x = Array.from(floats(3 * 48 * 480, 3));
      const inputs = [{ name: 'x', shape: [1, 3, 48, 480], datatype: 'FP32', data: x }];
      const res = await http(functionUrlEvent({ method: 'POST', path: '/v2/models/ocr-rec/infer', body: JSON.stringify({ inputs }) }), recHandler);
      expect(res.statusCode).toBe(413);
      expect(res.json.code).toBe('PAYLOAD_TOO_LARGE');
      expect(res.json.error).toContain('response');
      expect(res.json.error).toContain('output_encoding');
      // WHEN the outputs are asked for as base64, THEN they fit (about 2.1 MB)
      const body = JSON.stringify({ inputs, parameters: { output_encoding: 'base64' } });
      const ok = await http(functionUrlEvent({ method: 'POST', path: '/v2/models/ocr-rec/infer', body }), recHandler);
      expect(ok.statusCode).toBe(200);
      expect(ok.json.outputs[0]).toMatchObject({ shape: [1, 60, 6625], parameters: { content_encoding: 'base64' } });
    } finally {
      await rec.close();
    }
  });
});

describe('API Gateway REST (payload 1.0) events', () => {
  it('POST infers, with mixed-case headers', async () => {
    const { body, expected } = await clsRequest();
    const res = await http(restApiEvent({ method: 'POST', path: '/v2/models/ocr-cls/infer', body }));
    expect(res.statusCode).toBe(200);
    expect(res.json.outputs[0].data).toEqual(expected);
  });

  it('GET /health is ready; an unknown path is 404; content-type is checked case-insensitively', async () => {
    expect((await http(restApiEvent({ method: 'GET', path: '/health' }))).json).toEqual({ status: 'ready' });
    expect((await http(restApiEvent({ method: 'GET', path: '/x' }))).statusCode).toBe(404);
    const res = await http(restApiEvent({ method: 'POST', path: '/', body: 'a=b', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }));
    expect(res.statusCode).toBe(415);
  });
});

describe('direct invokes', () => {
  it('a v2 request returns the v2 response object', async () => {
    const { tensors, feeds } = await validInput('cls');
    const response = (await handler({ inputs: tensors }, {})) as V2InferenceResponse;
    expect(response.model_name).toBe('ocr-cls');
    expect(response.outputs[0].data).toEqual((await runDirect('cls', feeds))['softmax_0.tmp_0'].data);
  });

  it('an invalid request returns { error } instead of throwing', async () => {
    const result = await handler({ inputs: [{ name: 'x', shape: [1, 3, 1, 1], datatype: 'INT64', data: [1, 2, 3] }] }, {});
    expect(result).toEqual({ error: expect.stringContaining('"x"'), code: 'DATATYPE_MISMATCH' });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'hello'],
    ['a number', 42],
    ['an empty object', {}],
    ['an array', [1, 2]],
    ['a half v2 event', { version: '2.0' }],
    ['an HTTP event with a numeric body', { ...functionUrlEvent({ method: 'POST', path: '/' }), body: 12 }],
    ['an HTTP event with a non-string method', { version: '2.0', requestContext: { http: { method: 5 } } }],
    ['a REST event with odd headers', { httpMethod: 'POST', path: '/', headers: { 'content-type': ['x'] }, body: '{"inputs":{"x":[[[[1]]]]}}' }],
    ['inputs of the wrong kind', { inputs: 'x' }],
    ['instances of the wrong kind', { instances: {} }],
  ])('garbage: %s never throws', async (_label, event) => {
    const result = await handler(event, {});
    expect(result).toBeTypeOf('object');
    expect(result).not.toBeNull();
    const r = result as { error?: unknown; statusCode?: number; body?: string };
    expect(r.error !== undefined || r.statusCode !== undefined).toBe(true);
  });
});

describe('logging', () => {
  it('server errors are logged, client errors are not', async () => {
    logged.length = 0;
    await http(functionUrlEvent({ method: 'GET', path: '/nope' }));
    expect(logged).toEqual([]);
    // values det's kernels refuse (a width of 7): the client's to fix, not logged
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 7], datatype: 'FP32', data: Array(3 * 48 * 7).fill(0.5) }] });
    const refused = await http(functionUrlEvent({ method: 'POST', path: '/', body }), detHandler);
    expect(refused.statusCode).toBe(400);
    expect(refused.json.code).toBe('INPUT_VALUES_REJECTED');
    expect(logged).toEqual([]);
    // onnxruntime failing to allocate: the server's, logged
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-log-'));
    const file = path.join(dir, 'zeros.onnx');
    await writeFile(file, constantOfShapeModelBytes());
    const zeros = await createInferenceCore({ modelPath: file, signature: await inspectModel(file), modelName: 'z' });
    try {
      const zerosHandler = createLambdaHandler(zeros, { log: (l) => logged.push(l) });
      const res = await http(functionUrlEvent({ method: 'POST', path: '/', body: JSON.stringify({ inputs: [{ name: 'n', shape: [1], datatype: 'INT64', data: [2 ** 40] }] }) }), zerosHandler);
      expect(res.statusCode).toBe(500);
      expect(res.json.code).toBe('INFERENCE_FAILED');
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('INFERENCE_FAILED');
    } finally {
      await zeros.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
