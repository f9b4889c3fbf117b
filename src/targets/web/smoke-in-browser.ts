// The web smoke test: runs the page in headless Chromium and compares its outputs.
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { V2Request } from '../../smoke/smoke-input.js';
import { compareOutputs, type OutputComparison, type V2OutputTensor } from '../../smoke/compare-outputs.js';
import { openInBrowser, type LoadedResource, type PageReport } from './open-in-browser.js';

export interface SmokeInBrowserOptions {
  /** The deployed index page. */
  url: string;
  /** The smoke inputs (the page ran the same ones from its smoke-input.json). */
  request: V2Request;
  /** onnxruntime-node's outputs on `request` (the bundle's smoke-expected.json). */
  expected: { outputs: V2OutputTensor[] };
  tolerance: number;
  /**
   * Runs of `request` after the page's own (timed in the page).
   * @default 5
   */
  runs?: number;
  /** Save a full-page PNG here after the runs. @default - none */
  screenshot?: string;
  /** @default false */
  webgpu?: boolean;
  /** @default - findChromium() */
  executablePath?: string;
  /** @default 120_000 */
  timeoutMs?: number;
  io?: IoHelper;
}

export interface BrowserSmokeResult {
  passed: boolean;
  /** The page's own run: backend, threads, isolation, session-create, first and warm run times. */
  page: PageReport;
  /** The last answer to `request`. */
  response: { outputs: V2OutputTensor[] };
  /** In-page time of each of the `runs`, in milliseconds. */
  runMs: number[];
  comparisons: OutputComparison[];
  resources: LoadedResource[];
  consoleErrors: string[];
}

/**
 * Opens the deployed page in headless Chromium, lets it run the model, runs the smoke inputs
 * `runs` times more, and compares the outputs with onnxruntime-node's. The browser is closed
 * whatever happens.
 */
export async function smokeInBrowser(options: SmokeInBrowserOptions): Promise<BrowserSmokeResult> {
  const browser = await openInBrowser(options);
  try {
    const runMs: number[] = [];
    let response: { outputs: V2OutputTensor[] } = browser.report.response;
    for (let i = 0; i < (options.runs ?? 5); i++) {
      const call = await browser.client(options.request);
      if (call.status !== 200) {
        throw new DeployModelError('WEB_PAGE_FAILED', `The page ${options.url} could not run the smoke input: ${(call.body as { error: string }).error}. Check smoke.input against the model's inputs (names, shapes, dtypes).`, { details: { url: options.url } });
      }
      response = call.body as { outputs: V2OutputTensor[] };
      runMs.push(call.latencyMs);
    }
    if (options.screenshot) await browser.screenshot(options.screenshot);
    const comparisons = compareOutputs(options.expected, response, options.tolerance);
    const passed = comparisons.every((c) => c.passed);
    options.io?.info(passed ? 'DM_WEB_SMOKE_PASSED' : 'DM_WEB_SMOKE_MISMATCH',
      `Browser outputs ${passed ? 'match' : 'differ from'} onnxruntime-node's: ${comparisons.map((c) => `${c.name} ${c.message}`).join('; ')}`, { comparisons });
    return { passed, page: browser.report, response, runMs, comparisons, resources: browser.resources, consoleErrors: browser.consoleErrors };
  } finally {
    await browser.close();
  }
}
