import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import type { InferenceCore } from '../../handlers/core/types.js';
import { createServer, DEFAULT_MAX_BODY_BYTES, startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { sleep, twoPartRequest } from './_http-client.js';
import { floats, MODELS, runDirect, signatureOf, validInput } from './_models.js';
import * as ort from 'onnxruntime-node';
import { unflatten } from '../../handlers/core/nested.js';

const HEALTH = '/v1/endpoints/123/deployedModels/456';
const PREDICT = '/v1/endpoints/123/deployedModels/456:predict';

let srv: StartedServer;
const logged: string[] = [];

beforeAll(async () => {
  srv = await startServer({
    modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'ocr-cls',
    port: 0, host: '127.0.0.1', healthRoute: HEALTH, predictRoute: PREDICT, log: (l) => logged.push(l),
  });
});

afterAll(async () => {
  await srv.close();
});

async function call(path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const { json, ...rest } = init;
  const res = await fetch(srv.url + path, {
    ...rest,
    ...(json !== undefined ? { method: rest.method ?? 'POST', body: JSON.stringify(json), headers: { 'content-type': 'application/json', ...rest.headers } } : {}),
  });
  expect(res.headers.get('content-type')).toBe('application/json');
  return { status: res.status, headers: res.headers, json: await res.json() };
}

async function clsCase() {
  const { tensors, feeds } = await validInput('cls');
  return { request: { inputs: tensors }, expected: (await runDirect('cls', feeds))['softmax_0.tmp_0'].data };
}

describe('KServe v2', () => {
  it('server metadata, liveness and readiness', async () => {
    expect(await call('/v2')).toMatchObject({ status: 200, json: { name: 'deploy-model', extensions: ['binary_tensor_data', 'statistics'] } });
    expect(await call('/v2/health/live')).toMatchObject({ status: 200 });
    expect(await call('/v2/health/ready')).toMatchObject({ status: 200, json: { status: 'ready' } });
  });

  it('model metadata and readiness; another name is 404', async () => {
    expect((await call('/v2/models/ocr-cls')).json).toEqual(srv.core.metadata());
    expect((await call('/v2/models/ocr-cls/versions/1')).status).toBe(200);
    expect(await call('/v2/models/ocr-cls/ready')).toMatchObject({ status: 200, json: { name: 'ocr-cls', ready: true } });
    expect(await call('/v2/models/other')).toMatchObject({ status: 404, json: { code: 'MODEL_NOT_FOUND', error: expect.any(String) } });
    expect(await call('/v2/models/ocr-cls/versions/2')).toMatchObject({ status: 404, json: { code: 'MODEL_NOT_FOUND', error: expect.any(String) } });
  });

  it('POST /v2/models/{name}/infer: outputs equal the direct run', async () => {
    const { request, expected } = await clsCase();
    const res = await call('/v2/models/ocr-cls/infer', { json: { id: 'k1', ...request } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ model_name: 'ocr-cls', model_version: '1', id: 'k1' });
    expect(res.json.outputs[0].data).toEqual(expected);
  });

  it('keeps connections alive', async () => {
    const res = await fetch(`${srv.url}/v2/health/live`);
    await res.arrayBuffer();
    expect(res.headers.get('connection')).toBe('keep-alive');
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
  });
});

describe('SageMaker', () => {
  it('GET /ping is 200', async () => {
    expect((await call('/ping')).status).toBe(200);
  });

  it('POST /invocations takes a v2 request', async () => {
    const { request, expected } = await clsCase();
    const res = await call('/invocations', { json: request });
    expect(res.status).toBe(200);
    expect(res.json.outputs[0].data).toEqual(expected);
  });
});

describe('Vertex AI', () => {
  it('the AIP_HEALTH_ROUTE is 200', async () => {
    expect(await call(HEALTH)).toMatchObject({ status: 200, json: { status: 'ready' } });
  });

  it('per-instance objects are stacked into one batch and predictions split per instance', async () => {
    // GIVEN two instances of x without the batch dim
    const a = floats(3 * 48 * 192, 11);
    const b = floats(3 * 48 * 192, 12);
    const instances = [{ x: unflatten(a, [3, 48, 192]) }, { x: unflatten(b, [3, 48, 192]) }];
    // WHEN they are sent to the predict route
    const res = await call(PREDICT, { json: { instances } });
    // THEN prediction i is the direct run's row i of a batch of two
    const batch = new Float32Array(a.length * 2);
    batch.set(a);
    batch.set(b, a.length);
    const direct = (await runDirect('cls', { x: new ort.Tensor('float32', batch, [2, 3, 48, 192]) }))['softmax_0.tmp_0'].data;
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ predictions: [{ 'softmax_0.tmp_0': direct.slice(0, 2) }, { 'softmax_0.tmp_0': direct.slice(2, 4) }] });
  });

  it('a single-input model also takes bare instances', async () => {
    const a = floats(3 * 48 * 192, 11);
    const res = await call(PREDICT, { json: { instances: [unflatten(a, [3, 48, 192])] } });
    const direct = (await runDirect('cls', { x: new ort.Tensor('float32', a, [1, 3, 48, 192]) }))['softmax_0.tmp_0'].data;
    expect(res.json).toEqual({ predictions: [{ 'softmax_0.tmp_0': direct }] });
  });

  it('v2 tensor instances give the v2 outputs as predictions', async () => {
    const { request, expected } = await clsCase();
    const res = await call(PREDICT, { json: { instances: request.inputs } });
    expect(res.status).toBe(200);
    expect(res.json.predictions).toEqual([{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [1, 2], data: expected }]);
  });

  it('instances of different shapes are 400 INSTANCE_SHAPE_MISMATCH naming the input', async () => {
    const res = await call(PREDICT, { json: { instances: [{ x: unflatten(floats(3 * 48 * 8), [3, 48, 8]) }, { x: unflatten(floats(3 * 48 * 16), [3, 48, 16]) }] } });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('INSTANCE_SHAPE_MISMATCH');
    expect(res.json.error).toContain('"x"');
  });

  it('an unknown input in an instance is 400 UNKNOWN_INPUT', async () => {
    const res = await call(PREDICT, { json: { instances: [{ x: [[[1]]], y: 1 }] } });
    expect(res).toMatchObject({ status: 400, json: { code: 'UNKNOWN_INPUT', error: expect.any(String) } });
  });
});

describe('Azure ML', () => {
  it('GET / is 200 and POST /score infers', async () => {
    expect((await call('/')).status).toBe(200);
    const { request, expected } = await clsCase();
    const res = await call('/score', { json: request });
    expect(res.json.outputs[0].data).toEqual(expected);
  });
});

describe('errors', () => {
  it('an unknown route is 404 JSON and a wrong method 405 with allow', async () => {
    expect(await call('/nope')).toMatchObject({ status: 404, json: { code: 'ROUTE_NOT_FOUND', error: expect.any(String) } });
    const res = await call('/ping', { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('bad JSON is 400, a non-JSON content-type 415, a validation error the core\'s 400', async () => {
    expect(await call('/invocations', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } })).toMatchObject({ status: 400, json: { code: 'BAD_JSON', error: expect.any(String) } });
    expect(await call('/invocations', { method: 'POST', body: 'a,b', headers: { 'content-type': 'text/csv' } })).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE', error: expect.any(String) } });
    const res = await call('/invocations', { json: { inputs: [{ name: 'x', shape: [1, 3, 1, 1], datatype: 'FP32', data: [1, 2] }] } });
    expect(res).toMatchObject({ status: 400, json: { code: 'DATA_SIZE_MISMATCH', error: expect.any(String) } });
    expect(res.json.error).toContain('"x"');
  });

  it('a malformed HTTP request gets 400 and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(srv.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => { data += d.toString(); });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect((await call('/ping')).status).toBe(200);
  });
});

describe('limits', () => {
  let small: StartedServer;
  let core: InferenceCore;
  beforeAll(async () => {
    core = await createInferenceCore({ modelPath: MODELS.wakeword.path, signature: await signatureOf('wakeword'), modelName: 'ww' });
    small = await startServer({ core, port: 0, host: '127.0.0.1', maxBodyBytes: 100_000, requestTimeoutMs: 400 });
  });
  afterAll(async () => {
    await small.close();
    await core.close();
  });

  it('the default body limit is 64 MiB', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(64 * 1024 * 1024);
  });

  it('a body over the limit is 413 PAYLOAD_TOO_LARGE (content-length known)', async () => {
    const res = await fetch(`${small.url}/invocations`, { method: 'POST', body: `{"inputs":[${'0,'.repeat(60_000)}0]}`, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    const json = await res.json() as { error: string; code: string };
    expect(json.code).toBe('PAYLOAD_TOO_LARGE');
    expect(json.error).toContain('100000-byte limit');
    expect(json.error).toContain('base64');
  });

  it('a chunked body over the limit is 413 too', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(30_000));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${small.url}/invocations`, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: expect.stringContaining('limit'), code: 'PAYLOAD_TOO_LARGE' });
  });

  it('a body under the limit is served', async () => {
    const { tensors } = await validInput('wakeword');
    const res = await fetch(`${small.url}/v2/models/ww/infer`, { method: 'POST', body: JSON.stringify({ inputs: tensors }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
  });

  it('a request that does not arrive within requestTimeoutMs gets 408', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(small.port, '127.0.0.1', () => socket.write('POST /invocations HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"in'));
      let data = '';
      socket.on('data', (d) => { data += d.toString(); });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(reply).toContain('REQUEST_TIMEOUT');
  });
});

describe('graceful shutdown', () => {
  it('stops accepting, finishes the request in flight, then closes', async () => {
    // GIVEN a server with a request whose body is half sent
    const core = await createInferenceCore({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'ocr-cls' });
    const runtime = createServer({ core });
    const { port } = await runtime.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    const { request, expected } = await clsCase();
    let closing: Promise<void> | undefined;
    const inFlight = twoPartRequest(`${url}/invocations`, JSON.stringify(request), async () => {
      await sleep(50);
      // WHEN shutdown begins
      closing = runtime.close();
      await sleep(50);
      // THEN new connections are refused …
      await expect(fetch(`${url}/ping`)).rejects.toThrow();
    });
    // … and the request in flight completes
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.json.outputs[0].data).toEqual(expected);
    expect(res.headers.connection).toBe('close');
    await closing;
    expect(runtime.server.listening).toBe(false);
    await core.close();
  });

  it('waits for a slow backend (a pool behind the same interface) before closing', async () => {
    const real = await createInferenceCore({ modelPath: MODELS.wakeword.path, signature: await signatureOf('wakeword'), modelName: 'ww' });
    let started!: () => void;
    const running = new Promise<void>((r) => { started = r; });
    // Adapters take raw outputs where the backend gives them, so a wrapper wraps both.
    const slow: InferenceCore = {
      ...real,
      infer: async (req) => { started(); await sleep(300); return real.infer(req); },
      inferRaw: async (req) => { started(); await sleep(300); return real.inferRaw!(req); },
    };
    const runtime = createServer({ core: slow });
    const { port } = await runtime.listen(0, '127.0.0.1');
    const { tensors } = await validInput('wakeword');
    const pending = fetch(`http://127.0.0.1:${port}/invocations`, { method: 'POST', body: JSON.stringify({ inputs: tensors }), headers: { 'content-type': 'application/json' } });
    await running;
    const t0 = Date.now();
    await runtime.close();
    expect(Date.now() - t0).toBeGreaterThan(200);
    expect(runtime.draining).toBe(true);
    expect((await pending).status).toBe(200);
    await real.close();
  });
});
