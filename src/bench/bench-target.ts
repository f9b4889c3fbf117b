/** Load-tests a deployed target and writes its report: figures, latency histogram, the machine and the versions that produced them. */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { DeployModelError } from '../errors.js';
import { packageVersion } from '../package-root.js';
import { smokeRequest } from '../smoke/smoke-input.js';
import type { Deployment } from '../targets/driver.js';
import type { Project, Toolkit } from '../toolkit/toolkit.js';
import { latencyHistogram, type HistogramBin } from './latency-histogram.js';
import { renderBenchHtml } from './render-bench-html.js';
import { runLoad, type LoadRun } from './run-load.js';

export interface BenchTargetOptions {
  /** @default [1, 8, 32] */
  concurrency?: number[];
  /**
   * Seconds of load per concurrency.
   * @default 10
   */
  durationSeconds?: number;
}

/** The machine that sent the load (for the local target, also the one that served it). */
export interface BenchMachine {
  /** `os.cpus()[0].model`, e.g. `AMD EPYC 7B13`. */
  cpuModel: string;
  /** Logical CPUs this process may use (`os.availableParallelism()`). */
  cpus: number;
  /** Total memory in bytes. */
  memoryBytes: number;
  platform: string;
  arch: string;
}

/** The versions that produced the figures. */
export interface BenchVersions {
  /** Node.js that ran the load (and the local target's runtime). */
  node: string;
  deployModel: string;
  /** The onnxruntime-node deploy-model serves Node targets with (local, aws-lambda, container 'onnxruntime'). */
  onnxruntime: string;
}

/** What the run was asked to do, and the target's own settings as the config resolved them. */
export interface BenchSettings {
  concurrency: number[];
  durationSeconds: number;
  /** Requests sent one at a time before each concurrency's measurement. */
  warmupRequests: number;
  /** The target's config entry, defaults applied (memory, instance type, engine, batching...). */
  target: Record<string, unknown>;
}

/** A histogram bin with the number of answers of each run (in the order of `runs`) that took from `fromMs` to `toMs`. */
export interface BenchHistogramBin {
  fromMs: number;
  toMs: number;
  /** One count per run, in the order of `runs`. */
  counts: number[];
}

export interface BenchReport {
  target: string;
  type: string;
  endpoint: string;
  model: string;
  stage: string;
  /** ISO time the run started. */
  startedAt: string;
  /** Milliseconds from the first request to the last answer, all concurrencies and warm-ups included. */
  durationMs: number;
  machine: BenchMachine;
  versions: BenchVersions;
  settings: BenchSettings;
  /** The request sent (the smoke test's input): each input's name, datatype and shape. */
  inputs: { name: string; datatype: string; shape: number[] }[];
  runs: LoadRun[];
  /** Every run's latencies over the same bins (log scale, from the fastest to the slowest answer of all runs). */
  histogram: BenchHistogramBin[];
}

/** Bins in a report's histogram: enough to show a shape, few enough to print as a table. */
export const BENCH_HISTOGRAM_BINS = 16;
const WARMUP_REQUESTS = 1;

/**
 * Load-tests a deployed target (any type: it goes through the target's own client, from the
 * driver's `connect`) at each concurrency with the smoke test's request. Progress: DM_BENCH_START,
 * DM_BENCH_RUN per concurrency. Throws NOT_DEPLOYED (from the driver) when nothing is live.
 */
export async function benchTarget(toolkit: Toolkit, project: Project, targetName: string, options: BenchTargetOptions = {}): Promise<BenchReport> {
  const concurrency = options.concurrency ?? [1, 8, 32];
  const seconds = options.durationSeconds ?? 10;
  for (const c of concurrency) {
    if (!Number.isInteger(c) || c < 1 || c > 1024) {
      throw new DeployModelError('BENCH_CONCURRENCY_INVALID', `Concurrency ${c} is not a whole number from 1 to 1024. Pass --concurrency as a comma list such as 1,8,32.`, { kind: 'usage', details: { concurrency: c } });
    }
  }
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new DeployModelError('BENCH_DURATION_INVALID', `Duration ${seconds} s is not between 0 and 3600 seconds. Pass --duration in seconds, e.g. 10.`, { kind: 'usage', details: { seconds } });
  }
  const deployment = await toolkit.connect(project, targetName);
  try {
    return await benchDeployment(toolkit, project, targetName, deployment, concurrency, seconds);
  } finally {
    await deployment.close?.();
  }
}

async function benchDeployment(toolkit: Toolkit, project: Project, targetName: string, deployment: Deployment, concurrency: number[], seconds: number): Promise<BenchReport> {
  const io = toolkit.progress(targetName);
  const type = project.loaded.config.targets[targetName]!.type;
  const request = await smokeRequest(project.signature, project.loaded.config, project.loaded.rootDir);
  const startedAt = new Date().toISOString();
  const started = performance.now();
  io.info('DM_BENCH_START', `Benchmarking ${targetName} at ${deployment.endpoint}: concurrency ${concurrency.join(', ')}, ${seconds} s each`, { endpoint: deployment.endpoint, concurrency, seconds });
  const runs: LoadRun[] = [];
  for (const c of concurrency) {
    const run = await runLoad({ client: deployment.client, request, concurrency: c, durationMs: seconds * 1000, warmupRequests: WARMUP_REQUESTS });
    const failed = Object.values(run.failed).reduce((a, b) => a + b, 0);
    io.info('DM_BENCH_RUN', `${targetName}: concurrency ${c}: ${run.throughput} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms${failed ? `, ${failed} failed` : ''}`, { ...run, latencies: undefined });
    runs.push(run);
  }
  return {
    target: targetName, type, endpoint: deployment.endpoint, model: project.loaded.config.name, stage: project.loaded.stage, startedAt,
    durationMs: Math.round(performance.now() - started),
    machine: benchMachine(),
    versions: benchVersions(),
    settings: { concurrency, durationSeconds: seconds, warmupRequests: WARMUP_REQUESTS, target: { ...project.loaded.config.targets[targetName] } },
    inputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    runs,
    histogram: benchHistogram(runs),
  };
}

/** This machine: CPU model and count, memory, platform. */
export function benchMachine(): BenchMachine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() || 'unknown',
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryBytes: os.totalmem(),
    platform: os.platform(),
    arch: os.arch(),
  };
}

/** Node's, deploy-model's and onnxruntime-node's versions. */
export function benchVersions(): BenchVersions {
  let onnxruntime = 'not installed';
  try {
    onnxruntime = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // A deploy-model without onnxruntime-node can still load a cloud target; the report says so.
  }
  return { node: process.version, deployModel: packageVersion(), onnxruntime };
}

/** Every run's latencies counted over the same log-scale bins, from the fastest answer of all runs to the slowest. */
export function benchHistogram(runs: readonly Pick<LoadRun, 'latencies'>[], bins = BENCH_HISTOGRAM_BINS): BenchHistogramBin[] {
  const all = runs.flatMap((r) => r.latencies);
  if (all.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const l of all) {
    if (l < min) min = l;
    if (l > max) max = l;
  }
  const perRun: HistogramBin[][] = runs.map((r) => latencyHistogram(r.latencies, bins, { min, max }));
  const edges = latencyHistogram([min, max], bins, { min, max });
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return edges.map((b, i) => ({ fromMs: round(b.from), toMs: round(b.to), counts: perRun.map((h) => h[i]?.count ?? 0) }));
}

/** `<config dir>/.deploy-model/bench/<stage>/<target>`: where reports go unless told otherwise. */
export function defaultBenchDir(project: Project, targetName: string): string {
  return path.join(project.loaded.rootDir, '.deploy-model', 'bench', project.loaded.stage, targetName);
}

/** Writes `bench-<time>.json` (the figures, every latency included) and `bench-<time>.html` (tables and the latency histogram). */
export async function writeBenchReport(report: BenchReport, dir: string): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const json = path.join(dir, `bench-${stamp}.json`);
  const html = path.join(dir, `bench-${stamp}.html`);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(html, renderBenchHtml(report));
  return { json, html };
}
