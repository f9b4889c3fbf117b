import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../errors.js';
import { smokeRequest } from '../smoke/smoke-input.js';
import type { Deployment } from '../targets/driver.js';
import type { Project, Toolkit } from '../toolkit/toolkit.js';
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

export interface BenchReport {
  target: string;
  type: string;
  endpoint: string;
  model: string;
  stage: string;
  /** ISO time the run started. */
  startedAt: string;
  /** The request sent (the smoke test's input): each input's name, datatype and shape. */
  inputs: { name: string; datatype: string; shape: number[] }[];
  runs: LoadRun[];
}

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
  io.info('DM_BENCH_START', `Benchmarking ${targetName} at ${deployment.endpoint}: concurrency ${concurrency.join(', ')}, ${seconds} s each`, { endpoint: deployment.endpoint, concurrency, seconds });
  const runs: LoadRun[] = [];
  for (const c of concurrency) {
    const run = await runLoad({ client: deployment.client, request, concurrency: c, durationMs: seconds * 1000 });
    const failed = Object.values(run.failed).reduce((a, b) => a + b, 0);
    io.info('DM_BENCH_RUN', `${targetName}: concurrency ${c}: ${run.throughput} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms${failed ? `, ${failed} failed` : ''}`, { ...run, latencies: undefined });
    runs.push(run);
  }
  return {
    target: targetName, type, endpoint: deployment.endpoint, model: project.loaded.config.name, stage: project.loaded.stage, startedAt,
    inputs: request.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
    runs,
  };
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
