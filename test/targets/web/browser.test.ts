import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSmoke } from '../../../src/smoke/run-smoke.js';
import { build, type WebBuild } from '../../../src/targets/web/build.js';
import { findChromium } from '../../../src/targets/web/find-chromium.js';
import { openInBrowser } from '../../../src/targets/web/open-in-browser.js';
import type { WebPlan } from '../../../src/targets/web/plan.js';
import { serveLocally, type LocalSite } from '../../../src/targets/web/serve-locally.js';
import { smokeInBrowser } from '../../../src/targets/web/smoke-in-browser.js';
import { findLocalSite, startLocalSite, stopLocalSite, swapLocalSite } from '../../../src/targets/web/start-local-site.js';
import type { V2Request } from '../../../src/smoke/smoke-input.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { makeModelDir, REAL_MODELS, removeModelDir, writeTinyModel } from '../../_helpers/onnx-models.js';
import { planFor } from './_bundle.js';

// Headless Chromium from Debian's `chromium` package (CI installs it); these tests open the built
// page in it. Without it they are skipped, with the reason.
const chromium = findChromium();
const missing = chromium ? undefined : 'Chromium is not installed (apt-get install chromium; CI installs it)';

let dir: string;
let models: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dm-web-browser-'));
  models = await makeModelDir();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removeModelDir(models);
});

interface Served { plan: WebPlan; built: WebBuild; site: LocalSite; request: V2Request; signature: ModelSignature; expected: { outputs: never[] } }

async function serve(name: string, modelPath: string, target: Record<string, unknown> = {}, request?: V2Request): Promise<Served> {
  const { plan, signature, request: req } = await planFor(modelPath, target, { name, request });
  const built = await build(plan, { outDir: path.join(dir, name), signature, smokeRequest: req });
  const site = await serveLocally({ siteDir: built.siteDir, plan });
  const expected = JSON.parse(await readFile(path.join(built.siteDir, 'smoke-expected.json'), 'utf8'));
  return { plan, built, site, request: req, signature, expected };
}

describe.skipIf(missing)(`the page in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('runs the model once, loads only the three onnxruntime-web files, and matches onnxruntime-node', async () => {
    // GIVEN
    const s = await serve('adder', await writeTinyModel(models, 'add'));
    const screenshot = path.join(dir, 'adder.png');
    try {
      // WHEN
      const result = await smokeInBrowser({ url: s.site.url, request: s.request, expected: s.expected, tolerance: 1e-4, runs: 3, screenshot });

      // THEN
      expect(result.passed).toBe(true);
      expect(result.comparisons).toEqual([{ name: 'y', passed: true, maxAbsDiff: 0, message: 'max |Δ| 0.00e+0 <= tolerance 0.0001' }]);
      expect(result.page).toMatchObject({ model: 'adder', ortVersion: '1.30.0', backend: 'wasm', threads: 1, crossOriginIsolated: false, maxAbsDiff: { y: 0 } });
      expect(result.page.sessionCreateMs).toBeGreaterThan(0);
      expect(result.runMs).toHaveLength(3);
      const loaded = result.resources.map((r) => [new URL(r.url).pathname, r.status, r.contentType]);
      expect(loaded.filter(([p]) => String(p).startsWith('/ort/'))).toEqual([
        ['/ort/1.30.0/ort.wasm.min.mjs', 200, 'text/javascript; charset=utf-8'],
        ['/ort/1.30.0/ort-wasm-simd-threaded.mjs', 200, 'text/javascript; charset=utf-8'],
        ['/ort/1.30.0/ort-wasm-simd-threaded.wasm', 200, 'application/wasm'],
      ]);
      expect(loaded.every(([, status]) => status === 200)).toBe(true);
      expect(result.consoleErrors).toEqual([]);
      expect((await readFile(screenshot)).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await s.site.close();
    }
  });

  it('is cross-origin isolated with threads, and onnxruntime-web uses them', async () => {
    const s = await serve('threads', REAL_MODELS.cls, { threads: 2 });
    try {
      const result = await smokeInBrowser({ url: s.site.url, request: s.request, expected: s.expected, tolerance: 1e-4, runs: 1 });
      expect(result.page).toMatchObject({ crossOriginIsolated: true, threads: 2, backend: 'wasm' });
      expect(result.passed).toBe(true);
    } finally {
      await s.site.close();
    }
  });

  it('feeds the shared smoke test: runSmoke over the page passes for silero VAD (three inputs, an int64 scalar)', async () => {
    const request: V2Request = { inputs: [
      { name: 'input', shape: [1, 512], datatype: 'FP32', data: Array.from({ length: 512 }, (_, i) => Math.sin(i / 8) / 2) },
      { name: 'state', shape: [2, 1, 128], datatype: 'FP32', data: Array(256).fill(0) },
      { name: 'sr', shape: [], datatype: 'INT64', data: [16000] },
    ] };
    const s = await serve('vad', REAL_MODELS.sileroVad, {}, request);
    const page = await openInBrowser({ url: s.site.url });
    try {
      const smoke = await runSmoke({ signature: s.signature, smoke: { input: 'auto', maxLatencyMs: 2000, requests: 3 }, request, client: page.client });
      expect(smoke.checks.filter((c) => !c.passed)).toEqual([]);
      expect(smoke.status).toBe('passed');
      expect(page.report.maxAbsDiff).toEqual({ output: expect.any(Number), stateN: expect.any(Number) });
      for (const d of Object.values(page.report.maxAbsDiff)) expect(d).toBeLessThanOrEqual(1e-6);
      // The session's own run times, tensors made once (what bench/web.ts compares with onnxruntime-node).
      const times = await page.timeRuns(request, 3);
      expect(times).toHaveLength(3);
      for (const t of times) expect(t).toBeGreaterThan(0);
    } finally {
      await page.close();
      await s.site.close();
    }
  });

  it("fails with the page's own error when the model does not load", async () => {
    const s = await serve('broken', await writeTinyModel(models, 'add'));
    await writeFile(path.join(s.built.siteDir, s.plan.modelFile), 'not a model');
    try {
      await expect(openInBrowser({ url: s.site.url, timeoutMs: 60_000 })).rejects.toMatchObject({
        code: 'WEB_PAGE_FAILED', message: expect.stringMatching(/^The page http:\/\/127\.0\.0\.1:\d+\/ did not run the model: .*(protobuf|parse|load)/is),
      });
    } finally {
      await s.site.close();
    }
  });

  it('WebGPU (experimental, SwiftShader): used only after its outputs match WASM on the smoke input', async () => {
    const s = await serve('gpu', await writeTinyModel(models, 'add'), { webgpu: true });
    const page = await openInBrowser({ url: s.site.url, webgpu: true, timeoutMs: 200_000 });
    try {
      const loaded = page.resources.map((r) => new URL(r.url).pathname).filter((p) => p.startsWith('/ort/'));
      expect(loaded).toEqual(['/ort/1.30.0/ort.webgpu.min.mjs', '/ort/1.30.0/ort-wasm-simd-threaded.asyncify.mjs', '/ort/1.30.0/ort-wasm-simd-threaded.asyncify.wasm']);
      // Either WebGPU passed its check against WASM, or the page says why it did not use it.
      if (page.report.backend === 'webgpu') expect(page.report.maxAbsDiff.y).toBeLessThanOrEqual(1e-4);
      else expect(page.report.fallbackReason).toEqual(expect.any(String));
    } finally {
      await page.close();
      await s.site.close();
    }
  }, 240_000);
});

describe('startLocalSite: the bundle served in the background (deploy on host local)', () => {
  it('starts a detached server, swaps a new release in on the same port with no request refused, and stops it', async () => {
    // GIVEN two builds: the add model and the unnamed-dim (relu) model
    const builds = [];
    for (const kind of ['add', 'unnamed-dim'] as const) {
      const { plan, signature, request } = await planFor(await writeTinyModel(models, kind));
      builds.push(await build(plan, { outDir: path.join(dir, `detached-${kind}`), signature, smokeRequest: request }));
    }
    const [v1, v2] = builds as [WebBuild, WebBuild];
    expect(v1.version).toMatch(/^[0-9a-f]{12}$/);
    expect(v2.version).not.toBe(v1.version);
    const stateDir = path.join(dir, 'state');
    const key = 'adder-dev-web';
    const record = await startLocalSite({ outDir: v1.outDir, version: v1.version, stateDir, key });
    try {
      expect(record).toMatchObject({ key, version: v1.version, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/), siteDir: path.join(v1.outDir, 'site') });
      expect(await findLocalSite(stateDir, key)).toEqual(record);
      const res = await fetch(new URL('ort/1.30.0/ort-wasm-simd-threaded.wasm', record.url));
      expect(res.headers.get('content-type')).toBe('application/wasm');
      await res.arrayBuffer();
      const manifest = async () => (await (await fetch(new URL('deploy-model.json', record.url))).json()) as { modelSha256: string };
      const before = await manifest();

      // WHEN v2 is swapped in while requests keep coming
      let failures = 0;
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const r = await fetch(new URL('index.html', record.url)).catch(() => undefined);
          if (r?.status !== 200) failures++;
          await r?.arrayBuffer();
        }
      })();
      const swapped = await swapLocalSite(stateDir, key, { outDir: v2.outDir, version: v2.version });
      polling = false;
      await poll;

      // THEN the same server (pid, port) serves v2, and no request failed
      expect(swapped).toMatchObject({ pid: record.pid, port: record.port, version: v2.version, siteDir: path.join(v2.outDir, 'site') });
      expect(failures).toBe(0);
      expect((await manifest()).modelSha256).not.toBe(before.modelSha256);
      expect(await findLocalSite(stateDir, key)).toEqual(swapped);
    } finally {
      expect(await stopLocalSite(stateDir, key)).toBe(true);
    }
    expect(await findLocalSite(stateDir, key)).toBeUndefined();
    expect(existsSync(path.join(stateDir, `${key}.json`))).toBe(false);
    expect(await stopLocalSite(stateDir, key)).toBe(false);
  });
});
