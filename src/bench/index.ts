// The benchmark API: load a deployed target, summarise the latencies, write the report.
export { benchTarget, defaultBenchDir, writeBenchReport } from './bench-target.js';
export type { BenchReport, BenchTargetOptions } from './bench-target.js';
export { latencyHistogram, renderHistogramSvg } from './latency-histogram.js';
export type { HistogramBin } from './latency-histogram.js';
export { renderBenchHtml } from './render-bench-html.js';
export { runLoad, summarizeLatencies } from './run-load.js';
export type { LatencySummary, LoadRun, RunLoadOptions } from './run-load.js';
