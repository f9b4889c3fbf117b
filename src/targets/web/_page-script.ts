/**
 * The index page's script, as TypeScript text compiled to app.js at build. It runs the model once
 * on the smoke input through the generated client, shows inputs, outputs and timings, and exposes
 * `window.deployModel` for the browser smoke test. Type-checked with the client by the tests.
 * No template literals inside: this is itself a template string.
 */
export const PAGE_SCRIPT = String.raw`
import { createClient, inputsFromV2, maxAbsDiff, MODEL, outputsToV2, type ModelClient, type V2Request, type V2Response, type V2Tensor } from './client.js';

/** What the page measured; read by the smoke test through window.deployModel.ready. */
export interface PageReport {
  model: string;
  ortVersion: string;
  backend: string;
  fallbackReason?: string;
  threads: number;
  crossOriginIsolated: boolean;
  sessionCreateMs: number;
  firstRunMs: number;
  warmRunMs: number;
  response: V2Response;
  /** Per output, the largest difference from onnxruntime-node's outputs (smoke-expected.json). */
  maxAbsDiff: Record<string, number>;
}

export interface DeployModelPage {
  ready: Promise<PageReport>;
  run(request: V2Request): Promise<{ response: V2Response; runMs: number }>;
  /** Milliseconds of each of the given number of runs on the request, converted to tensors once: the session's own time, without the v2 JSON. */
  time(request: V2Request, runs: number): Promise<number[]>;
}

declare global {
  interface Window { deployModel: DeployModelPage }
}

const el = (id: string): HTMLElement => document.getElementById(id)!;
const ms = (v: number): string => v.toFixed(1) + ' ms';

function preview(values: readonly unknown[]): string {
  const head = values.slice(0, 6).map((v) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(5) : String(v)));
  return head.join(', ') + (values.length > 6 ? ', … (' + values.length + ' values)' : '');
}

function range(values: readonly unknown[]): string {
  const nums = values.filter((v): v is number => typeof v === 'number');
  if (nums.length === 0) return '';
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of nums) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo.toPrecision(4) + ' … ' + hi.toPrecision(4);
}

function table(headings: string[], rows: string[][]): HTMLTableElement {
  const t = document.createElement('table');
  const head = t.createTHead().insertRow();
  for (const h of headings) { const th = document.createElement('th'); th.textContent = h; head.appendChild(th); }
  const body = t.createTBody();
  for (const r of rows) {
    const row = body.insertRow();
    for (const c of r) row.insertCell().textContent = c;
  }
  return t;
}

function tensorRows(tensors: readonly V2Tensor[], extra: (t: V2Tensor) => string[] = () => []): string[][] {
  return tensors.map((t) => [t.name, t.datatype, '[' + t.shape.join(', ') + ']', preview(t.data), range(t.data), ...extra(t)]);
}

let client: ModelClient | undefined;

async function main(): Promise<PageReport> {
  const request = (await (await fetch('smoke-input.json')).json()) as V2Request;
  const expectedResponse = await fetch('smoke-expected.json').then((r) => (r.ok ? (r.json() as Promise<V2Response>) : undefined));
  const inputs = inputsFromV2(request);
  client = await createClient({ verify: { inputs } });
  let started = performance.now();
  const outputs = await client.run(inputs);
  const firstRunMs = performance.now() - started;
  started = performance.now();
  await client.run(inputs);
  const warmRunMs = performance.now() - started;
  const response = outputsToV2(outputs);
  const diffs: Record<string, number> = {};
  for (const out of response.outputs) {
    const ref = expectedResponse?.outputs.find((o) => o.name === out.name);
    if (ref) diffs[out.name] = maxAbsDiff(out.data, ref.data);
  }
  const report: PageReport = {
    model: MODEL.name, ortVersion: MODEL.ortVersion, backend: client.backend, fallbackReason: client.fallbackReason,
    threads: globalThis.crossOriginIsolated ? MODEL.threads : 1, crossOriginIsolated: globalThis.crossOriginIsolated,
    sessionCreateMs: client.sessionCreateMs, firstRunMs, warmRunMs, response, maxAbsDiff: diffs,
  };
  el('status').textContent = 'Ran ' + MODEL.name + ' on ' + report.backend + (report.fallbackReason ? ' (WebGPU not used: ' + report.fallbackReason + ')' : '') + '.';
  el('status').className = 'ok';
  el('timings').replaceChildren(table(['session create', 'first run', 'warm run', 'backend', 'threads', 'cross-origin isolated'], [[
    ms(report.sessionCreateMs), ms(firstRunMs), ms(warmRunMs), report.backend, String(report.threads), String(report.crossOriginIsolated),
  ]]));
  el('inputs').replaceChildren(table(['input', 'dtype', 'shape', 'values', 'range'], tensorRows(request.inputs)));
  el('outputs').replaceChildren(table(['output', 'dtype', 'shape', 'values', 'range', 'max |Δ| vs onnxruntime-node'],
    tensorRows(response.outputs, (t) => [t.name in diffs ? diffs[t.name]!.toExponential(2) : 'no reference'])));
  return report;
}

const ready = main();
ready.catch((e: unknown) => {
  el('status').textContent = 'Failed: ' + (e instanceof Error ? e.message : String(e));
  el('status').className = 'error';
});

window.deployModel = {
  ready,
  async run(request) {
    await ready;
    const started = performance.now();
    const outputs = await client!.run(inputsFromV2(request));
    const runMs = performance.now() - started;
    return { response: outputsToV2(outputs), runMs };
  },
  async time(request, runs) {
    await ready;
    const inputs = inputsFromV2(request);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await client!.run(inputs);
      times.push(performance.now() - started);
    }
    return times;
  },
};
`;
