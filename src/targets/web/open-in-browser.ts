// Opens a page in headless Chromium and reads what it measured.
import { chromium, type Browser, type Page } from 'playwright-core';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { InferenceClient } from '../../smoke/run-smoke.js';
import type { V2Request } from '../../smoke/smoke-input.js';
import type { V2OutputTensor } from '../../smoke/compare-outputs.js';
import { chromiumArgs, requireChromium } from './find-chromium.js';

/** What the index page measured on its own run of the smoke input (`window.deployModel.ready`). */
export interface PageReport {
  model: string;
  ortVersion: string;
  backend: 'wasm' | 'webgpu';
  fallbackReason?: string;
  /** Threads onnxruntime-web could use: 1 unless the page is cross-origin isolated. */
  threads: number;
  crossOriginIsolated: boolean;
  sessionCreateMs: number;
  firstRunMs: number;
  warmRunMs: number;
  response: { model_name: string; outputs: V2OutputTensor[] };
  /** Per output, the largest difference from smoke-expected.json (onnxruntime-node). */
  maxAbsDiff: Record<string, number>;
}

/** One response the page loaded. */
export interface LoadedResource {
  url: string;
  status: number;
  contentType: string;
}

export interface OpenInBrowserOptions {
  /** The index page, e.g. `http://127.0.0.1:8080/`. */
  url: string;
  /** @default 120_000 */
  timeoutMs?: number;
  /** @default - findChromium() */
  executablePath?: string;
  /** Start Chromium with its software WebGPU adapter (SwiftShader): functional checks only. @default false */
  webgpu?: boolean;
  io?: IoHelper;
}

export interface BrowserPage {
  report: PageReport;
  /** The smoke test's client: each call runs one v2 request in the page; `latencyMs` is the in-page run time. */
  client: InferenceClient;
  /** Every response the page loaded so far, in order. */
  resources: LoadedResource[];
  /** Console errors and uncaught exceptions of the page. */
  consoleErrors: string[];
  /** Milliseconds of each of `runs` runs of `request` in the page, tensors made once: the session's own run time (bench/web.ts). */
  timeRuns(request: V2Request, runs: number): Promise<number[]>;
  screenshot(file: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the deployed index page in headless Chromium and waits until it has run the model once.
 * Throws WEB_PAGE_FAILED with the page's own error (and its console) when it could not.
 */
export async function openInBrowser(options: OpenInBrowserOptions): Promise<BrowserPage> {
  const timeout = options.timeoutMs ?? 120_000;
  const executablePath = options.executablePath ?? requireChromium();
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args: chromiumArgs({ webgpu: options.webgpu }), timeout });
  } catch (e) {
    throw new DeployModelError('WEB_CHROMIUM_FAILED', `Chromium (${executablePath}) did not start: ${(e as Error).message.split('\n')[0]}. Check that it runs headless on this machine (\`${executablePath} --headless --version\`).`, { cause: e });
  }
  const resources: LoadedResource[] = [];
  const consoleErrors: string[] = [];
  let page: Page;
  try {
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.setDefaultTimeout(timeout);
    page.on('response', (r) => resources.push({ url: r.url(), status: r.status(), contentType: r.headers()['content-type'] ?? '' }));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    options.io?.info('DM_WEB_BROWSER_OPEN', `Opening ${options.url} in headless Chromium`, { url: options.url, executablePath });
    const res = await page.goto(options.url, { waitUntil: 'load' });
    if (!res?.ok()) throw new Error(`${options.url} answered ${res?.status() ?? 'nothing'}`);
    await page.waitForFunction(() => 'deployModel' in globalThis);
  } catch (e) {
    await browser.close();
    throw pageFailed(options.url, (e as Error).message, consoleErrors, e);
  }
  let report: PageReport;
  try {
    report = await page.evaluate(() => (globalThis as unknown as { deployModel: { ready: Promise<PageReport> } }).deployModel.ready);
  } catch (e) {
    await browser.close();
    throw pageFailed(options.url, (e as Error).message.replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0]!, consoleErrors, e);
  }
  options.io?.info('DM_WEB_PAGE_RAN', `The page ran ${report.model} on ${report.backend}: session ${report.sessionCreateMs.toFixed(0)} ms, first run ${report.firstRunMs.toFixed(1)} ms, warm run ${report.warmRunMs.toFixed(1)} ms`, report);

  const client: InferenceClient = async (request: V2Request) => {
    try {
      const { response, runMs } = await page.evaluate(
        (req) => (globalThis as unknown as { deployModel: { run(r: unknown): Promise<{ response: unknown; runMs: number }> } }).deployModel.run(req),
        request as unknown as Record<string, unknown>,
      );
      return { status: 200, body: response, latencyMs: runMs };
    } catch (e) {
      const message = (e as Error).message.replace(/^page\.evaluate: (\w*Error: )?/, '').split('\n')[0]!;
      return { status: 500, body: { error: message }, latencyMs: 0 };
    }
  };
  return {
    report, client, resources, consoleErrors,
    timeRuns: (request, runs) => page.evaluate(
      ([req, n]) => (globalThis as unknown as { deployModel: { time(r: unknown, n: number): Promise<number[]> } }).deployModel.time(req, n),
      [request as unknown as Record<string, unknown>, runs] as const,
    ),
    screenshot: async (file) => { await page.screenshot({ path: file, fullPage: true }); },
    close: () => browser.close(),
  };
}

function pageFailed(url: string, reason: string, consoleErrors: string[], cause: unknown): DeployModelError {
  const console = consoleErrors.length ? ` The page's console said:\n${consoleErrors.slice(-5).map((l) => `  ${l}`).join('\n')}` : '';
  return new DeployModelError('WEB_PAGE_FAILED', `The page ${url} did not run the model: ${reason}.${console}\nOpen the page in a browser to see it; a failing session usually means an operator or dtype onnxruntime-web lacks (validate checks that).`, { cause, details: { url, consoleErrors } });
}
