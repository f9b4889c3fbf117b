import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { build } from '../../../src/targets/web/build.js';
import { checkWebRuntime } from '../../../src/targets/web/check-web-runtime.js';
import { modelFilesOf } from '../../../src/targets/web/model-files-of.js';
import { ORT_WEB_FILES, resolveOrtWebDist } from '../../../src/targets/web/ort-web-dist.js';
import { serveLocally, SERVE_FILE, type SiteHeaders } from '../../../src/targets/web/serve-locally.js';
import { validate } from '../../../src/targets/web/validate.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { encodeModel, makeModelDir, nodeProto, onnx, REAL_MODELS, removeModelDir, tensorInfo, writeTinyModel } from '../../_helpers/onnx-models.js';
import { planFor, planInput } from './_bundle.js';

let dir: string;
let models: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dm-web-build-'));
  models = await makeModelDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removeModelDir(models);
});

const T = onnx.TensorProto.DataType;

describe('build', () => {
  it('writes the planned files, the client source, serve.json and the reference outputs, with raw and gzip sizes', async () => {
    // GIVEN
    const { plan, signature, request } = await planFor(await writeTinyModel(models, 'add'), { threads: 2 });
    const host = new RecordingIoHost();

    // WHEN
    const built = await build(plan, { outDir: path.join(dir, 'add'), signature, smokeRequest: request, io: new IoHelper(host) });

    // THEN
    expect(built.files.map((f) => f.path)).toEqual(plan.files.map((f) => f.path));
    for (const f of built.files) {
      const bytes = await readFile(path.join(built.siteDir, f.path));
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const planned = plan.files.find((p) => p.path === f.path)!;
      if (planned.bytes !== null) expect(f.bytes).toBe(planned.bytes);
    }
    const wasm = built.files.find((f) => f.path.endsWith('.wasm'))!;
    expect(wasm.gzipBytes).toBeLessThan(wasm.bytes / 3);
    expect(built.sizes.ortRawBytes).toBe(plan.sizes.ortBytes);
    expect(await readFile(built.clientFile, 'utf8')).toBe(plan.clientSource);
    expect(JSON.parse(await readFile(path.join(dir, 'add', SERVE_FILE), 'utf8'))).toEqual({ siteHeaders: plan.siteHeaders, files: plan.files.map((f) => ({ path: f.path, headers: f.headers })) });
    // onnxruntime-node's answer: y = x + [1, 2, 3, 4]
    const input = JSON.parse(await readFile(path.join(built.siteDir, 'smoke-input.json'), 'utf8'));
    const expected = JSON.parse(await readFile(path.join(built.siteDir, 'smoke-expected.json'), 'utf8'));
    expect(expected.outputs[0]).toMatchObject({ name: 'y', datatype: 'FP32', shape: input.inputs[0].shape });
    expect(expected.outputs[0].data).toEqual(input.inputs[0].data.map((v: number, i: number) => Math.fround(v) + (i % 4) + 1).map(Math.fround));
    expect(host.codes()).toEqual(['DM_WEB_BUILD', 'DM_WEB_REFERENCE', 'DM_WEB_BUILT']);
  });

  it('refuses a plan with errors, naming each', async () => {
    const { plan, signature, request } = await planFor(await writeTinyModel(models, 'add'), { host: 'github-pages', threads: 2 });
    await expect(build(plan, { outDir: path.join(dir, 'refused'), signature, smokeRequest: request })).rejects.toMatchObject({
      code: 'WEB_PLAN_INVALID', message: expect.stringContaining('targets.web.threads: threads need a cross-origin isolated page'),
    });
    expect(existsSync(path.join(dir, 'refused'))).toBe(false);
  });

  it('converts the model to .ort with onnxruntime-node, and the .ort loads in onnxruntime-web and -node with the same outputs', async () => {
    const { plan, signature, request } = await planFor(REAL_MODELS.cls, { modelFormat: 'ort' });
    const built = await build(plan, { outDir: path.join(dir, 'ort'), signature, smokeRequest: request });
    const ortFile = path.join(built.siteDir, plan.modelFile);
    expect((await readFile(ortFile)).subarray(4, 8).toString('latin1')).toBe('ORTM');
    const x = Float32Array.from({ length: 3 * 48 * 192 }, (_, i) => (i % 255) / 255);
    ortWeb.env.wasm.numThreads = 1;
    const web = await ortWeb.InferenceSession.create(new Uint8Array(await readFile(ortFile)));
    const node = await ortNode.InferenceSession.create(REAL_MODELS.cls);
    const a = await web.run({ x: new ortWeb.Tensor('float32', x, [1, 3, 48, 192]) });
    const b = await node.run({ x: new ortNode.Tensor('float32', x, [1, 3, 48, 192]) });
    const [ya, yb] = [a[web.outputNames[0]!]!.data as Float32Array, b[node.outputNames[0]!]!.data as Float32Array];
    expect(Math.max(...ya.map((v, i) => Math.abs(v - yb[i]!)))).toBeLessThan(1e-5);
    await Promise.all([web.release(), node.release()]);
  }, 60_000);
});

describe('serveLocally', () => {
  let site: Awaited<ReturnType<typeof serveLocally>>;
  let built: Awaited<ReturnType<typeof build>>;
  beforeAll(async () => {
    const { plan, signature, request } = await planFor(await writeTinyModel(models, 'add'), { threads: 2 });
    built = await build(plan, { outDir: path.join(dir, 'served'), signature, smokeRequest: request });
    site = await serveLocally({ siteDir: built.siteDir, plan: JSON.parse(await readFile(path.join(dir, 'served', SERVE_FILE), 'utf8')) as SiteHeaders });
  });
  afterAll(() => site.close());

  it('listens on 127.0.0.1 and serves each file with its type, caching and the isolation headers', async () => {
    expect(site.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const [file, type, cache] of [
      ['', 'text/html; charset=utf-8', 'no-cache'],
      ['ort/1.30.0/ort-wasm-simd-threaded.wasm', 'application/wasm', 'public, max-age=31536000, immutable'],
      ['ort/1.30.0/ort.wasm.min.mjs', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
    ]) {
      const res = await fetch(new URL(file!, site.url));
      expect(res.status).toBe(200);
      expect(Object.fromEntries(['content-type', 'cache-control', 'cross-origin-opener-policy', 'cross-origin-embedder-policy', 'x-content-type-options'].map((h) => [h, res.headers.get(h)]))).toEqual({
        'content-type': type, 'cache-control': cache, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'x-content-type-options': 'nosniff',
      });
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.length).toBe((await stat(path.join(built.siteDir, file || 'index.html'))).size);
    }
  });

  it('serves nothing outside the bundle', async () => {
    for (const p of ['/serve.json', '/../serve.json', '/%2e%2e/serve.json', '/ort/', '/client.ts']) {
      const res = await fetch(`${site.url.slice(0, -1)}${p}`);
      expect(res.status, p).toBe(404);
    }
    expect((await fetch(site.url, { method: 'POST' })).status).toBe(405);
  });
});

describe('the pinned onnxruntime-web', () => {
  it('is installed with the files and sizes the plan counts on', () => {
    for (const entry of ['wasm', 'webgpu'] as const) {
      const dist = resolveOrtWebDist(entry);
      expect(dist.version).toBe('1.30.0');
      expect(dist.files.map((f) => ({ name: f.name, bytes: f.bytes }))).toEqual(ORT_WEB_FILES[entry]);
    }
  });
});

describe('validate', () => {
  it('passes the example models', async () => {
    expect(await validate(planInput(await inspectModel(REAL_MODELS.sileroVad)))).toEqual([]);
  });

  it('returns the errors as config problems, and leaves warnings to the plan', async () => {
    const signature = await inspectModel(await writeTinyModel(models, 'add'));
    expect(await validate(planInput(signature, { host: 'github-pages', threads: 4, warnModelMb: 0.000001 }))).toEqual([{
      path: 'targets.web.threads', value: '4',
      rule: 'threads need a cross-origin isolated page (Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), and github-pages cannot set response headers',
      fix: "set targets.web.threads to 1, or host the bundle where headers can be set (host: 'aws', 'netlify', 'cloudflare-pages', 'vercel' or 'nginx')",
    }]);
  });
});

describe('checkWebRuntime (validate: onnxruntime-web loads the model in Node)', () => {
  it('accepts the example models', async () => {
    for (const file of [REAL_MODELS.cls, REAL_MODELS.sileroVad, REAL_MODELS.helloDeepa]) {
      expect(await checkWebRuntime(await modelFilesOf(await inspectModel(file)))).toEqual([]);
    }
  });

  it("refuses an operator the web runtime lacks, with onnxruntime-web's reason", async () => {
    const file = path.join(models, 'custom-op.onnx');
    await (await import('node:fs/promises')).writeFile(file, encodeModel({
      nodes: [{ ...nodeProto('Foo', ['x'], ['y']), domain: 'com.example' }],
      inputs: [tensorInfo('x', T.FLOAT, [1, 4])], outputs: [tensorInfo('y', T.FLOAT, [1, 4])],
      opsets: [{ domain: '', version: 13 }, { domain: 'com.example', version: 1 }],
    }));
    expect(await checkWebRuntime(await modelFilesOf(await inspectModel(file)))).toEqual([{
      level: 'error', code: 'WEB_RUNTIME_REFUSED', path: 'model.path', value: file,
      rule: 'onnxruntime-web 1.30.0 cannot load the model: Fatal error: com.example:Foo(-1) is not a registered function/op',
      fix: expect.stringContaining('export the model without that operator or type'),
    }]);
  });

  it('loads external data beside the model', async () => {
    const file = await writeTinyModel(models, 'external-data');
    expect(await checkWebRuntime(await modelFilesOf(await inspectModel(file)))).toEqual([]);
  });
});
