/** `deploy-model bench` as text: what was measured and on what, the figures per concurrency, and the latency histogram. */
import type { BenchReport } from '../bench/bench-target.js';
import { formatBytes } from './format.js';
import { renderTable } from './render-table.js';

/** The widest histogram bar, in characters. */
const BAR = 20;

function fmtMs(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A target setting as `key=value`, nested values as JSON. */
function setting([key, value]: [string, unknown]): string {
  return `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`;
}

/** The report as `deploy-model bench` prints it: a header, the table of runs, the histogram (counts per bin and concurrency, with a bar of each run's share). */
export function renderBenchReport(report: BenchReport): string {
  const { machine, versions, settings } = report;
  const header = [
    `bench     ${report.model} / ${report.target} (${report.type}) at ${report.endpoint}, stage ${report.stage}`,
    `duration  ${(report.durationMs / 1000).toFixed(1)} s, started ${report.startedAt}`,
    `machine   ${machine.cpuModel}, ${machine.cpus} CPUs, ${formatBytes(machine.memoryBytes)} memory, ${machine.platform} ${machine.arch}`,
    `versions  node ${versions.node}, deploy-model ${versions.deployModel}, onnxruntime-node ${versions.onnxruntime}`,
    `settings  concurrency ${settings.concurrency.join(', ')}; ${settings.durationSeconds} s each after ${settings.warmupRequests} warm-up request${settings.warmupRequests === 1 ? '' : 's'}`,
    `target    ${Object.entries(settings.target).map(setting).join(' ')}`,
    `input     ${report.inputs.map((t) => `${t.name} ${t.datatype} [${t.shape.join(', ')}]`).join('; ')}`,
  ];
  const runs = renderTable(['CONCURRENCY', 'OK', 'FAILED', 'REQ/S', 'P50 MS', 'P90 MS', 'P99 MS', 'MAX MS'], report.runs.map((r) => [
    String(r.concurrency), String(r.ok), String(Object.values(r.failed).reduce((a, b) => a + b, 0)), String(r.throughput),
    String(r.latencyMs.p50), String(r.latencyMs.p90), String(r.latencyMs.p99), String(r.latencyMs.max),
  ]));
  const parts = [header.join('\n'), '', runs];
  if (report.histogram.length) {
    const totals = report.runs.map((_, i) => report.histogram.reduce((n, b) => n + (b.counts[i] ?? 0), 0));
    const cell = (count: number, i: number) => {
      const share = totals[i] ? count / totals[i] : 0;
      return `${String(count).padStart(String(totals[i]).length)} ${'#'.repeat(Math.round(share * BAR)).padEnd(BAR)}`;
    };
    const histogram = renderTable(
      ['LATENCY MS', ...report.runs.map((r) => `CONCURRENCY ${r.concurrency}`)],
      report.histogram.map((b) => [`${fmtMs(b.fromMs)} - ${fmtMs(b.toMs)}`, ...b.counts.map(cell)]),
    );
    parts.push('', 'Latency histogram (answers per bin, log scale; # is the share of the run):', histogram);
  }
  return parts.join('\n');
}
