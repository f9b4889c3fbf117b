import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ModelSignature } from '../../../src/model/types.js';
import { CACHE_IMMUTABLE } from '../../../src/targets/web/headers.js';
import { ORT_WEB_FILES } from '../../../src/targets/web/ort-web-dist.js';
import { plan } from '../../../src/targets/web/plan.js';
import { webTargetSchema } from '../../../src/targets/web/schema.js';
import { planInput } from './_bundle.js';

// GIVEN a signature as plain data: the plan is a pure function of the planner's input.
const signature: ModelSignature = {
  file: '/models/det.onnx', bytes: 4_700_000, sha256: '3f2a0c1b9d4e'.padEnd(64, '0'), irVersion: 8, opsets: { 'ai.onnx': 14 },
  producer: 'p', producerVersion: '1',
  inputs: [{ name: 'x', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 3, 'h', 'w'] }],
  outputs: [{ name: 'sigmoid_0.tmp_0', dtype: 'float32', onnxType: 1, onnxTypeName: 'FLOAT', shape: ['batch', 1, 'h', 'w'] }],
  nodes: 1, initializers: 0, initializerBytes: 0, operators: { Relu: 1 }, externalData: [],
};

function input(target: Record<string, unknown> = {}, sig: ModelSignature = signature) {
  return planInput(sig, target, 'ocr-det');
}

describe('webTargetSchema', () => {
  it('defaults to a local WASM bundle of the .onnx, one thread, no WebGPU', () => {
    expect(webTargetSchema.parse({ type: 'web' })).toEqual({
      type: 'web', host: 'local', modelFormat: 'onnx', threads: 1, webgpu: false, warnModelMb: 100, tolerance: 1e-4, priceClass: 'PriceClass_100',
    });
  });

  it("is a member the config's discriminated union can take (a strict object keyed by type)", () => {
    expect(webTargetSchema.shape.type.value).toBe('web');
    expect(z.discriminatedUnion('type', [webTargetSchema]).parse({ type: 'web', threads: 2 })).toMatchObject({ type: 'web', threads: 2 });
    expect(webTargetSchema.safeParse({ type: 'web', thread: 2 }).success).toBe(false);
  });

  it('needs a region on AWS and takes a port only locally, each with the fix', () => {
    const aws = webTargetSchema.safeParse({ type: 'web', host: 'aws' });
    expect(aws.success).toBe(false);
    expect(aws.error!.issues).toEqual([expect.objectContaining({ path: ['region'], message: expect.stringContaining("region: 'eu-west-1'") })]);
    const port = webTargetSchema.safeParse({ type: 'web', host: 'netlify', port: 8080 });
    expect(port.error!.issues).toEqual([expect.objectContaining({ path: ['port'], message: "applies to host 'local' only; remove it for host 'netlify'" })]);
    const region = webTargetSchema.safeParse({ type: 'web', region: 'eu-west-1' });
    expect(region.error!.issues).toEqual([expect.objectContaining({ path: ['region'], message: "applies to host 'aws' only; remove it for host 'local'" })]);
    expect(webTargetSchema.safeParse({ type: 'web', threads: 32 }).success).toBe(false);
  });
});

describe('plan', () => {
  it('lists every file with its source, size and headers, the runtime and model under cacheable names', () => {
    // WHEN
    const p = plan(input());

    // THEN
    expect(p.files.map((f) => [f.path, f.source.kind, f.bytes === null ? null : typeof f.bytes])).toEqual([
      ['app.js', 'generated', 'number'],
      ['client.js', 'generated', 'number'],
      ['deploy-model.json', 'generated', 'number'],
      ['index.html', 'generated', 'number'],
      ['model/3f2a0c1b9d4e.onnx', 'model', 'number'],
      ['ort/1.30.0/ort-wasm-simd-threaded.mjs', 'ort-web', 'number'],
      ['ort/1.30.0/ort-wasm-simd-threaded.wasm', 'ort-web', 'number'],
      ['ort/1.30.0/ort.wasm.min.mjs', 'ort-web', 'number'],
      ['smoke-expected.json', 'reference-outputs', null],
      ['smoke-input.json', 'smoke-input', null],
    ]);
    const byPath = Object.fromEntries(p.files.map((f) => [f.path, f]));
    expect(byPath['ort/1.30.0/ort-wasm-simd-threaded.wasm']!.headers).toEqual({
      'X-Content-Type-Options': 'nosniff', 'Content-Type': 'application/wasm', 'Cache-Control': CACHE_IMMUTABLE,
    });
    expect(byPath['ort/1.30.0/ort.wasm.min.mjs']!.headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(byPath['model/3f2a0c1b9d4e.onnx']!.headers).toEqual({ 'X-Content-Type-Options': 'nosniff', 'Content-Type': 'application/octet-stream', 'Cache-Control': CACHE_IMMUTABLE });
    expect(byPath['index.html']!.headers['Cache-Control']).toBe('no-cache');
    expect(p).toMatchObject({
      type: 'web', targetName: 'web', stage: 'dev', resourceName: 'ocr-det-dev-web',
      model: { file: '/models/det.onnx', sha256: signature.sha256, bytes: 4_700_000 },
      name: 'ocr-det', host: 'local', ortVersion: '1.30.0', entry: 'wasm', threads: 1, crossOriginIsolated: false, webgpu: false,
      modelFormat: 'onnx', modelFile: 'model/3f2a0c1b9d4e.onnx', siteHeaders: { 'X-Content-Type-Options': 'nosniff' }, problems: [],
    });
    expect(byPath['ort/1.30.0/ort-wasm-simd-threaded.wasm']!.source).toEqual({ kind: 'ort-web', name: 'ort-wasm-simd-threaded.wasm' });
    expect(p.sizes.ortBytes).toBe(50_126 + 24_381 + 14_239_897);
    expect(p.sizes.modelBytes).toBe(4_700_000);
    expect(p.sizes.sizedAtBuild).toEqual(['smoke-expected.json', 'smoke-input.json']);
    expect(p.sizes.knownBytes).toBe(p.files.reduce((a, f) => a + (f.bytes ?? 0), 0));
  });

  it("spells each tensor's dtype and shape in the client's types", () => {
    expect(plan(input()).client).toEqual({
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 'h', 'w'], dataType: 'Float32Array | readonly number[]', shapeType: 'readonly [number, 3, number, number]' }],
      outputs: [{ name: 'sigmoid_0.tmp_0', dtype: 'float32', shape: ['batch', 1, 'h', 'w'], dataType: 'Float32Array', shapeType: 'readonly [number, 1, number, number]' }],
    });
  });

  it('is deterministic: equal inputs give equal plans', () => {
    expect(plan(input())).toEqual(plan(input()));
  });

  it('says what each rollout hook does, host by host', () => {
    expect(plan(input()).rollout).toEqual({ strategy: 'all-at-once', steps: [
      { phase: 'stage', action: 'serve the new bundle on 127.0.0.1 on a port of its own, beside the version that serves' },
      { phase: 'smoke', action: "open the page in headless Chromium, run the smoke input there, and compare the outputs with onnxruntime-node's" },
      { phase: 'promote', action: "swap it in behind the deployment's URL and stop its own server" },
      { phase: 'rollback', action: 'stop its server; the previous version keeps serving' },
    ] });
    expect(plan(input({ host: 'aws', region: 'eu-west-1' })).rollout.steps.map((s) => s.action)).toEqual([
      'deploy stack ocr-det-dev-web: upload onnxruntime-web and the model, then the page, to the bucket behind CloudFront (the new page serves from then on)',
      "open the page in headless Chromium, run the smoke input there, and compare the outputs with onnxruntime-node's",
      'nothing more: CloudFront serves the new page once the stack is deployed',
      'deploy the previous template of ocr-det-dev-web again, which puts the previous page and model back (a first deploy has none: the page stays)',
    ]);
    expect(plan(input({ host: 'vercel' })).rollout.steps[2]).toEqual({ phase: 'promote', action: 'nothing to upload: publish the site folder to vercel' });
  });

  it('on AWS, names the stack after the target, and refuses a name CloudFormation would not take, with the fix', () => {
    expect(plan(input({ host: 'aws', region: 'eu-west-1', priceClass: 'PriceClass_All' })).aws).toEqual({ stackName: 'ocr-det-dev-web', region: 'eu-west-1', priceClass: 'PriceClass_All' });
    expect(plan(input()).aws).toBeUndefined();
    expect(() => plan({ ...input({ host: 'aws', region: 'eu-west-1' }), stage: 'pr_12' })).toThrow(expect.objectContaining({
      code: 'STACK_NAME_INVALID', message: expect.stringContaining("Stack name 'ocr-det-pr_12-web' (from name 'ocr-det', stage 'pr_12' and target 'web')"),
    }));
  });

  it('carries what the smoke input is derived from, so that changing it builds the bundle again', () => {
    const changed = input();
    changed.config.smoke.input = { x: { shape: [1, 3, 8, 8], data: Array(192).fill(0) } };
    expect(plan(input()).smokeInput).toEqual({ input: 'auto', shapes: {} });
    expect(plan(changed)).not.toEqual(plan(input()));
  });

  it('makes the page cross-origin isolated when threads are on, and says so in every header', () => {
    const p = plan(input({ threads: 4 }));
    const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    expect(p.crossOriginIsolated).toBe(true);
    expect(p.siteHeaders).toEqual({ ...isolation, 'X-Content-Type-Options': 'nosniff' });
    for (const f of p.files) expect(f.headers).toMatchObject(isolation);
    expect(p.clientSource).toContain('"threads": 4');
  });

  it('names an .ort model after the source hash and the converting release, sized at build', () => {
    const p = plan(input({ modelFormat: 'ort' }));
    expect(p.modelFile).toBe('model/3f2a0c1b9d4e-1.30.0.ort');
    expect(p.files.find((f) => f.path === p.modelFile)).toMatchObject({ source: { kind: 'model-to-ort', file: '/models/det.onnx' }, bytes: null });
    expect(p.sizes.modelBytes).toBeNull();
  });

  it('ships external data beside the model and tells the client where it is', () => {
    const p = plan(input({}, { ...signature, externalData: ['weights.bin'], initializerBytes: 4_000 }));
    expect(p.files.find((f) => f.source.kind === 'external-data')).toEqual({
      path: 'model/3f2a0c1b9d4e.data/weights.bin', source: { kind: 'external-data', name: 'weights.bin', file: '/models/weights.bin' }, bytes: null,
      headers: { 'X-Content-Type-Options': 'nosniff', 'Content-Type': 'application/octet-stream', 'Cache-Control': CACHE_IMMUTABLE },
    });
    expect(p.sizes.modelBytes).toBe(4_704_000);
    expect(p.clientSource).toContain('"name": "weights.bin"');
    expect(p.clientSource).toContain('"file": "model/3f2a0c1b9d4e.data/weights.bin"');
  });

  it('uses the WebGPU entry (which also runs WASM) when WebGPU is asked for', () => {
    const p = plan(input({ webgpu: true }));
    expect(p.entry).toBe('webgpu');
    expect(p.files.filter((f) => f.source.kind === 'ort-web').map((f) => f.path)).toEqual(ORT_WEB_FILES.webgpu.map((f) => `ort/1.30.0/${f.name}`).sort());
    expect(p.clientSource).toContain('"ortModule": "ort/1.30.0/ort.webgpu.min.mjs"');
    expect(p.clientSource).toContain('"webgpu": true');
  });
});

describe('plan: the header file each static host reads', () => {
  it('writes _headers for Netlify and Cloudflare Pages', () => {
    for (const host of ['netlify', 'cloudflare-pages']) {
      const headers = plan(input({ host, threads: 2 })).files.find((f) => f.path === '_headers')!;
      const text = (headers.source as { content: string }).content;
      expect(text.startsWith('/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n  X-Content-Type-Options: nosniff\n')).toBe(true);
      expect(text).toContain('/ort/1.30.0/ort-wasm-simd-threaded.wasm\n  Content-Type: application/wasm\n  Cache-Control: public, max-age=31536000, immutable\n');
    }
  });

  it('writes vercel.json headers, the site rule first', () => {
    const file = plan(input({ host: 'vercel', threads: 2 })).files.find((f) => f.path === 'vercel.json')!;
    const json = JSON.parse((file.source as { content: string }).content) as { headers: { source: string; headers: { key: string; value: string }[] }[] };
    expect(json.headers[0]).toEqual({ source: '/(.*)', headers: [
      { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' }, { key: 'Cross-Origin-Embedder-Policy', value: 'require-corp' }, { key: 'X-Content-Type-Options', value: 'nosniff' },
    ] });
    expect(json.headers).toContainEqual({ source: '/ort/1.30.0/ort.wasm.min.mjs', headers: [{ key: 'Content-Type', value: 'text/javascript; charset=utf-8' }, { key: 'Cache-Control', value: CACHE_IMMUTABLE }] });
  });

  it('writes an nginx block whose every location repeats the isolation headers', () => {
    const text = (plan(input({ host: 'nginx', threads: 2 })).files.find((f) => f.path === 'nginx.conf')!.source as { content: string }).content;
    expect(text).toContain('    application/wasm wasm;');
    expect(text).toContain('    text/javascript js mjs;');
    expect(text.match(/add_header Cross-Origin-Embedder-Policy "require-corp" always;/g)).toHaveLength(3);
    expect(text).toContain(`location /ort/ {\n    add_header Cross-Origin-Opener-Policy "same-origin" always;`);
  });

  it('writes nothing for the hosts deploy-model serves itself', () => {
    for (const host of ['local', 'aws']) {
      const paths = plan(input({ host, ...(host === 'aws' ? { region: 'eu-west-1' } : {}) })).files.map((f) => f.path);
      expect(paths.filter((p) => ['_headers', 'vercel.json', 'nginx.conf', '.nojekyll'].includes(p))).toEqual([]);
    }
  });
});

describe('plan: problems found before building', () => {
  it('refuses threads on a host that cannot set headers, with the fix', () => {
    expect(plan(input({ host: 'github-pages', threads: 2 })).problems).toEqual([{
      level: 'error', code: 'WEB_THREADS_NEED_HEADERS', path: 'targets.web.threads', value: '2',
      rule: 'threads need a cross-origin isolated page (Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy headers), and github-pages cannot set response headers',
      fix: "set targets.web.threads to 1, or host the bundle where headers can be set (host: 'aws', 'netlify', 'cloudflare-pages', 'vercel' or 'nginx')",
    }]);
    expect(plan(input({ host: 'github-pages' })).problems).toEqual([]);
  });

  it('warns over the documented size and refuses what 32-bit WebAssembly cannot hold', () => {
    expect(plan(input({ warnModelMb: 1 })).problems).toEqual([expect.objectContaining({ level: 'warning', code: 'WEB_MODEL_LARGE', path: 'targets.web.warnModelMb', value: '4.5 MB' })]);
    const huge = plan(input({}, { ...signature, externalData: ['w.bin'], initializerBytes: 4 * 1024 ** 3 }));
    expect(huge.problems).toEqual([expect.objectContaining({ level: 'error', code: 'WEB_MODEL_TOO_LARGE' })]);
  });

  it('refuses dtypes onnxruntime-web cannot pass in or out', () => {
    const bf16 = { ...signature, outputs: [{ name: 'y', dtype: 'bfloat16' as const, onnxType: 16, onnxTypeName: 'BFLOAT16', shape: [2] }] };
    const p = plan(input({}, bf16));
    expect(p.client.outputs[0]).toMatchObject({ dtype: 'bfloat16', dataType: 'never' });
    expect(p.problems).toEqual([{
      level: 'error', code: 'WEB_DTYPE_UNSUPPORTED', path: 'model.path', value: '/models/det.onnx',
      rule: 'output `y` is BFLOAT16, which onnxruntime-web cannot pass in or out of a session', fix: 'cast `y` to float32 in the graph',
    }]);
  });
});
