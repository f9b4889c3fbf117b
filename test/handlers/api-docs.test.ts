import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleShapesFromEnv } from '../../handlers/api-docs/api-routes.js';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import type { InferenceCore } from '../../handlers/core/types.js';
import { createLambdaHandler, type LambdaHttpResult } from '../../handlers/lambda/create-lambda-handler.js';
import { startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { servingEnv } from '../../handlers/serving-env.js';
import { functionUrlEvent } from './_events.js';
import { MODELS, signatureOf, type ModelKey } from './_models.js';

// GIVEN the runtime's two adapters (the Lambda handler and the HTTP server) over real models.
// The OpenAPI document each serves is checked against the OpenAPI 3.1 schema by an independent
// validator (@seriousme/openapi-schema-validator, which bundles the OpenAPI Initiative's
// published JSON Schemas), its request schema against real requests with Ajv (JSON Schema
// 2020-12, the dialect OpenAPI 3.1 uses), and its paths against the routes actually served.

type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: unknown; example: unknown } } } }>>; components: { schemas: Record<string, unknown> } };

const cores = new Map<ModelKey, InferenceCore>();
let server: StartedServer;

beforeAll(async () => {
  for (const key of ['cls', 'vad'] as const) {
    cores.set(key, await createInferenceCore({ modelPath: MODELS[key].path, signature: await signatureOf(key), modelName: `ocr-${key}` }));
  }
  // The server with its worker pool (which keeps statistics), as containers run it.
  server = await startServer({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'ocr-cls', workers: 1, port: 0, host: '127.0.0.1', exampleShapes: { x: [1, 3, 48, 192] } });
});
afterAll(async () => {
  await server?.close();
  for (const c of cores.values()) await c.close();
});

const lambdaGet = async (key: ModelKey, path: string, options: Parameters<typeof createLambdaHandler>[1] = {}) =>
  (await createLambdaHandler(cores.get(key)!, options)(functionUrlEvent({ method: 'GET', path }))) as LambdaHttpResult;

/** A request schema compiled with the document's components, so `$ref`s resolve. */
function requestValidator(doc: Doc) {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'doc', components: doc.components });
  const rewrite = (s: unknown): unknown => JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"doc#/components/'));
  return ajv.compile(rewrite(doc.components.schemas.InferenceRequest) as object);
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document on both adapters, for a model with one input and for one with three', async () => {
    for (const key of ['cls', 'vad'] as const) {
      const fromLambda = JSON.parse((await lambdaGet(key, '/openapi.json')).body) as Doc;
      const validator = new Validator();
      const result = await validator.validate(fromLambda as never);
      expect(result.errors ?? [], `${key}: ${JSON.stringify(result.errors)}`).toEqual([]);
      expect(result.valid).toBe(true);
      expect(fromLambda.openapi).toBe('3.1.0');
    }
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.headers.get('content-type')).toBe('application/json');
    const fromServer = await res.json();
    expect((await new Validator().validate(fromServer as never)).valid).toBe(true);
  });

  it('states each input with its datatype and shape; the example request validates and the model answers it', async () => {
    const doc = JSON.parse((await lambdaGet('vad', '/openapi.json')).body) as Doc;
    expect(doc.components.schemas).toMatchObject({
      Input_input: { properties: { name: { const: 'input' }, datatype: { const: 'FP32' }, shape: { prefixItems: [{ type: 'integer', minimum: 0 }, { type: 'integer', minimum: 0 }], minItems: 2, maxItems: 2 } } },
      Input_sr: { properties: { name: { const: 'sr' }, datatype: { const: 'INT64' }, shape: { minItems: 0, maxItems: 0 } } },
      Output_stateN: { properties: { name: { const: 'stateN' }, datatype: { const: 'FP32' } } },
    });
    const validate = requestValidator(doc);
    const example = doc.paths['/v2/models/{name}/infer']!.post!.requestBody!.content['application/json'].example as { inputs: Array<{ name: string; shape: number[] }> };
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    // A request the schema refuses: the wrong datatype, and a shape of the wrong rank.
    const wrong = { inputs: example.inputs.map((t) => (t.name === 'sr' ? { ...t, datatype: 'FP32' } : t.name === 'input' ? { ...t, shape: [512] } : t)) };
    expect(validate(wrong)).toBe(false);
    // The example is a request the model answers (vad's dynamic dims as 1 are still a valid run).
    const handler = createLambdaHandler(cores.get('cls')!);
    const clsDoc = JSON.parse(((await handler(functionUrlEvent({ method: 'GET', path: '/openapi.json' }))) as LambdaHttpResult).body) as Doc;
    const clsExample = clsDoc.paths['/v2/models/{name}/infer']!.post!.requestBody!.content['application/json'].example;
    const answer = (await handler(functionUrlEvent({ method: 'POST', path: '/v2/models/ocr-cls/infer', body: JSON.stringify(clsExample) }))) as LambdaHttpResult;
    expect(answer.statusCode, answer.body.slice(0, 300)).toBe(200);
  });

  it("takes the example's shapes from the config's model.inputs (DM_EXAMPLE_SHAPES)", async () => {
    const env = servingEnv({ modelName: 'ocr-cls', runtime: { executionProviders: ['cpu'] }, inputs: { x: { shape: [2, 3, 48, 96] } }, entry: 'lambda' });
    expect(env.DM_EXAMPLE_SHAPES).toBe('{"x":[2,3,48,96]}');
    const shapes = exampleShapesFromEnv(env);
    const doc = JSON.parse((await lambdaGet('cls', '/openapi.json', { ...(shapes ? { exampleShapes: shapes } : {}) })).body) as Doc;
    expect(doc.paths['/invocations']!.post!.requestBody!.content['application/json'].example).toMatchObject({ inputs: [{ name: 'x', shape: [2, 3, 48, 96] }] });
    expect(exampleShapesFromEnv({ DM_EXAMPLE_SHAPES: 'not json' })).toBeUndefined();
  });

  it('lists every route the adapter serves, and nothing it does not serve', async () => {
    for (const [name, get, post] of [
      ['lambda', (p: string) => lambdaGet('cls', p).then((r) => r.statusCode), async (p: string, body: string) => ((await createLambdaHandler(cores.get('cls')!)(functionUrlEvent({ method: 'POST', path: p, body }))) as LambdaHttpResult).statusCode],
      ['server', (p: string) => fetch(`${server.url}${p}`).then((r) => r.status), (p: string, body: string) => fetch(`${server.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.status)],
    ] as const) {
      const doc = JSON.parse((await lambdaGet('cls', '/openapi.json')).body) as Doc;
      const served = name === 'server' ? (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc : doc;
      for (const [template, ops] of Object.entries(served.paths)) {
        const path = template.replace('{name}', 'ocr-cls');
        for (const [method, op] of Object.entries(ops)) {
          const status = method === 'get' ? await get(path) : await post(path, JSON.stringify(op.requestBody!.content['application/json'].example));
          expect({ adapter: name, method, path, status }).toEqual({ adapter: name, method, path, status: 200 });
        }
      }
    }
  });

  it('the Lambda handler serves the server\'s routes, statistics apart (each Lambda execution environment is one of many)', async () => {
    const lambdaPaths = Object.entries((JSON.parse((await lambdaGet('cls', '/openapi.json')).body) as Doc).paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).sort();
    const serverPaths = Object.entries(((await (await fetch(`${server.url}/openapi.json`)).json()) as Doc).paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).sort();
    expect(serverPaths.filter((p) => !lambdaPaths.includes(p))).toEqual(['get /v2/models/{name}/stats']);
    expect(lambdaPaths.filter((p) => !serverPaths.includes(p))).toEqual([]);
  });
});

describe('GET /docs', () => {
  it('is an HTML page that may reach nothing but its own endpoint', async () => {
    for (const res of [await lambdaGet('cls', '/docs'), await fetch(`${server.url}/docs`)]) {
      const headers = res instanceof Response ? Object.fromEntries(res.headers) : res.headers;
      const body = res instanceof Response ? await res.text() : res.body;
      expect(headers['content-type']).toBe('text/html; charset=utf-8');
      expect(headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; connect-src 'self';/);
      expect(body).toMatch(/^<!doctype html>/);
      // No URL of another host anywhere in the page.
      expect(body.match(/https?:\/\/[^\s"'<>]+/g) ?? []).toEqual([]);
    }
  });
});
