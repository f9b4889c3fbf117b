import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { chromiumArgs, findChromium } from '../../src/targets/web/find-chromium.js';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { MODELS, signatureOf } from './_models.js';

// `/docs` in a real browser (headless Chromium from Debian's `chromium` package; CI installs it):
// the page renders the model's API from `/openapi.json`, its "Send" request succeeds, and it asks
// no host but the endpoint for anything (its Content-Security-Policy would refuse, and say so on
// the console). On the container's server and on the local target, which runs the Lambda handler
// under the Lambda emulator behind a Function URL.

const executable = findChromium();
const title = '/docs in headless Chromium';

describe.skipIf(!executable)(executable ? title : `${title} (skipped: Chromium is not installed; apt-get install chromium)`, { timeout: 240_000 }, () => {
  let browser: Browser;
  let server: StartedServer;
  let dir: string;
  let toolkit: Toolkit;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: executable!, args: chromiumArgs() });
    server = await startServer({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'ocr-cls', workers: 1, port: 0, host: '127.0.0.1' });
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-docs-'));
    await copyFile(MODELS.cls.path, path.join(dir, 'model.onnx'));
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
      name: 'ocr-cls',
      model: { path: './model.onnx', inputs: { x: { shape: [1, 3, 48, 192] } } },
      targets: { local: { type: 'local' } },
    };\n`);
    toolkit = new Toolkit({ ioHost: new RecordingIoHost(), cacheDir: path.join(dir, '.cache') });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (toolkit && dir) await toolkit.destroy(await toolkit.load({ cwd: dir })).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Opens `<base>docs`, sends the example request, and returns what the page showed and asked for. */
  async function tryIt(base: string) {
    const page = await browser.newPage();
    const requested: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    try {
      await page.goto(new URL('docs', base).href);
      await page.waitForSelector('#send:not([disabled])', { timeout: 30_000 });
      const rendered = {
        title: await page.textContent('#title'),
        tensors: await page.$$eval('#tensors tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent))),
        routes: await page.$$eval('#routes tr', (rows) => rows.length),
      };
      await page.click('#send');
      await page.waitForFunction(() => /^\d{3} /.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string | null } | null } }).document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 60_000 });
      const status = await page.textContent('#status');
      const response = JSON.parse((await page.textContent('#response')) ?? '{}') as { model_name?: string; outputs?: Array<{ name: string; shape: number[] }> };
      return { rendered, status, response, requested, consoleErrors };
    } finally {
      await page.close();
    }
  }

  it("renders on the container's server, and its request succeeds", async () => {
    const seen = await tryIt(`${server.url}/`);
    expect(seen.rendered.title).toBe('ocr-cls: ONNX model served by deploy-model');
    expect(seen.rendered.tensors).toEqual([['input', 'x', 'FP32', '[-1, 3, -1, -1]'], ['output', 'softmax_0.tmp_0', 'FP32', '[-1, 2]']]);
    expect(seen.rendered.routes).toBeGreaterThan(10);
    expect(seen.status).toMatch(/^200 OK in \d+\.\d ms$/);
    expect(seen.response).toMatchObject({ model_name: 'ocr-cls', outputs: [{ name: 'softmax_0.tmp_0', shape: [1, 2] }] });
    expect(seen.requested.every((u) => u.startsWith(`${server.url}/`)), seen.requested.join('\n')).toBe(true);
    expect(seen.consoleErrors).toEqual([]);
  });

  it('renders on the local target (the Lambda handler behind the emulated Function URL), and its request succeeds', async () => {
    const report = await toolkit.deploy(await toolkit.load({ cwd: dir }));
    const local = report.targets[0]!;
    expect(local, JSON.stringify(local.error)).toMatchObject({ status: 'passed' });
    const seen = await tryIt(local.endpoint!);
    expect(seen.rendered.tensors).toEqual([['input', 'x', 'FP32', '[-1, 3, -1, -1]'], ['output', 'softmax_0.tmp_0', 'FP32', '[-1, 2]']]);
    expect(seen.status).toMatch(/^200 OK in /);
    expect(seen.response).toMatchObject({ model_name: 'ocr-cls', outputs: [{ name: 'softmax_0.tmp_0', shape: [1, 2] }] });
    const origin = new URL(local.endpoint!).origin;
    expect(seen.requested.every((u) => u.startsWith(`${origin}/`)), seen.requested.join('\n')).toBe(true);
    expect(seen.consoleErrors).toEqual([]);
  });
});
