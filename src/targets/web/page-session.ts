/** The deployed page opened in headless Chromium for a smoke test or `invoke`, and the reference its outputs must match. */
import { DeployModelError, isDeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { V2OutputTensor } from '../../smoke/compare-outputs.js';
import type { InferenceClient, SmokeReference } from '../../smoke/run-smoke.js';
import type { V2Request } from '../../smoke/smoke-input.js';
import type { PageReport } from './open-in-browser.js';

export interface PageSession {
  /** Runs one v2 request in the page; `latencyMs` is the in-page run time. */
  client: InferenceClient;
  /** What the page measured on its own run; absent when it did not run the model. */
  report?: PageReport;
  close(): Promise<void>;
}

/**
 * Opens `url` in headless Chromium and waits for the page's own run. A page that does not run the
 * model is a failed smoke test, not a failed deploy: its client then answers every request with
 * 503 and the page's error (WEB_PAGE_FAILED), so the rollout core takes the version back. A
 * missing or broken Chromium is thrown.
 */
export async function openPageSession(url: string, options: { webgpu: boolean; io?: IoHelper }): Promise<PageSession> {
  // playwright-core is loaded only when a page is opened.
  const { openInBrowser } = await import('./open-in-browser.js');
  try {
    const page = await openInBrowser({ url, webgpu: options.webgpu, ...(options.io ? { io: options.io } : {}) });
    return { client: page.client, report: page.report, close: () => page.close() };
  } catch (e) {
    if (!isDeployModelError(e) || e.code !== 'WEB_PAGE_FAILED') throw e;
    options.io?.warn('DM_WEB_PAGE_FAILED', e.message, e.details);
    const body = { error: e.message, code: e.code };
    return { client: async () => ({ status: 503, body, latencyMs: 0 }), close: async () => undefined };
  }
}

/**
 * The page at `url` and, when it ran the model, the reference its outputs must match (read from
 * the site). A page that did not run has no reference: its smoke test fails on the page's error.
 */
export async function openSmokePage(url: string, options: { webgpu: boolean; tolerance: number; io?: IoHelper }): Promise<{ page: PageSession; reference?: SmokeReference }> {
  const page = await openPageSession(url, options);
  if (!page.report) return { page };
  try {
    return { page, reference: await siteReference(url, options.tolerance) };
  } catch (e) {
    await page.close();
    throw e;
  }
}

/**
 * The site's own smoke input and onnxruntime-node's answer to it (`smoke-input.json`,
 * `smoke-expected.json`, computed at build), read from where it is served: the reference of the
 * smoke test, with no local state.
 */
export async function siteReference(url: string, tolerance: number): Promise<SmokeReference> {
  const read = async <T>(file: string): Promise<T> => {
    const res = await fetch(new URL(file, url), { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`${file} answered HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  try {
    const [request, expected] = await Promise.all([read<V2Request>('smoke-input.json'), read<{ outputs: V2OutputTensor[] }>('smoke-expected.json')]);
    return { source: 'onnxruntime-node', request, outputs: expected.outputs, tolerance };
  } catch (e) {
    throw new DeployModelError('WEB_REFERENCE_UNREADABLE', `The reference outputs of ${url} could not be read (${(e as Error).message}): the site must serve smoke-input.json and smoke-expected.json, which build writes. Deploy it again.`, { cause: e, details: { url } });
  }
}

/** What the page measured, for the report. */
export function pageDetails(report: PageReport | undefined): Record<string, unknown> {
  if (!report) return { page: 'did not run the model' };
  const { backend, fallbackReason, threads, crossOriginIsolated, sessionCreateMs, firstRunMs, warmRunMs, ortVersion } = report;
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    page: { backend, ...(fallbackReason ? { fallbackReason } : {}), threads, crossOriginIsolated, ortVersion, sessionCreateMs: round(sessionCreateMs), firstRunMs: round(firstRunMs), warmRunMs: round(warmRunMs) },
  };
}
