/** The HTML page of a bench report. */
import type { BenchReport } from './bench-target.js';
import { renderHistogramSvg } from './latency-histogram.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A self-contained HTML page: what was measured, a table per concurrency, and the latency histogram as inline SVG. */
export function renderBenchHtml(report: BenchReport): string {
  const rows = report.runs.map((r) => {
    const failed = Object.entries(r.failed).map(([k, v]) => `${v} × ${k}`).join(', ') || '0';
    const l = r.latencyMs;
    return `<tr><td>${r.concurrency}</td><td>${r.ok}</td><td>${esc(failed)}</td><td>${r.throughput}</td><td>${l.p50}</td><td>${l.p90}</td><td>${l.p99}</td><td>${l.max}</td></tr>`;
  }).join('\n');
  const inputs = report.inputs.map((t) => `${esc(t.name)} ${esc(t.datatype)} [${t.shape.join(', ')}]`).join('; ');
  const { machine, versions, settings } = report;
  const gib = (machine.memoryBytes / 1024 ** 3).toFixed(1);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>deploy-model bench: ${esc(report.model)} / ${esc(report.target)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f3f3f3; }
.meta { color: #555; }
</style>
</head>
<body>
<h1>${esc(report.model)}: ${esc(report.target)} (${esc(report.type)})</h1>
<p class="meta">${esc(report.endpoint)} · stage ${esc(report.stage)} · started ${esc(report.startedAt)} · took ${(report.durationMs / 1000).toFixed(1)} s · input ${inputs}</p>
<p class="meta">machine: ${esc(machine.cpuModel)}, ${machine.cpus} CPUs, ${gib} GiB, ${esc(machine.platform)} ${esc(machine.arch)} · node ${esc(versions.node)} · deploy-model ${esc(versions.deployModel)} · onnxruntime-node ${esc(versions.onnxruntime)}</p>
<p class="meta">settings: concurrency ${settings.concurrency.join(', ')}, ${settings.durationSeconds} s each, ${settings.warmupRequests} warm-up request(s) · target <code>${esc(JSON.stringify(settings.target))}</code></p>
<table>
<tr><th>concurrency</th><th>ok</th><th>failed</th><th>req/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr>
${rows}
</table>
<h2>Latency</h2>
<p class="meta">Share of requests per latency bin; dashed lines mark p50, dotted lines p99.</p>
${renderHistogramSvg(report.runs)}
</body>
</html>
`;
}
