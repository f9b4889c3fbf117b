/** Latency histograms: the bins, and the SVG chart of the HTML report. */
import type { LoadRun } from './run-load.js';

export interface HistogramBin {
  /** Lower edge, ms (inclusive). */
  from: number;
  /** Upper edge, ms (exclusive, but the last bin includes the maximum). */
  to: number;
  count: number;
}

/** The smallest and the largest value, without spreading a long array into arguments (which overflows the stack). */
function extent(values: readonly number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * The axis the bins span: from the smallest latency (at least 0.01 ms, for the log) to the largest,
 * widened to 1 % when all latencies are equal. The chart draws on the same axis, so that the first
 * and the last bin end on the frame.
 */
export function histogramAxis(range: { min: number; max: number }): { min: number; max: number } {
  const min = Math.max(0.01, range.min);
  return { min, max: Math.max(min * 1.01, range.max) };
}

/**
 * Latencies in `bins` bins of equal width on a log scale between the smallest and the largest
 * (latency spreads over orders of magnitude once requests queue).
 */
export function latencyHistogram(latencies: readonly number[], bins = 40, range?: { min: number; max: number }): HistogramBin[] {
  if (latencies.length === 0) return [];
  const { min: lo, max: hi } = histogramAxis(range ?? extent(latencies));
  const [a, b] = [Math.log(lo), Math.log(hi)];
  const edges = Array.from({ length: bins + 1 }, (_, i) => Math.exp(a + ((b - a) * i) / bins));
  const counts = new Array<number>(bins).fill(0);
  for (const l of latencies) {
    const i = Math.floor(((Math.log(Math.max(lo, Math.min(hi, l))) - a) / (b - a)) * bins);
    counts[Math.min(bins - 1, Math.max(0, i))]++;
  }
  return counts.map((count, i) => ({ from: edges[i], to: edges[i + 1], count }));
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmtMs(v: number): string {
  return Number.isInteger(v) || v >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(2)));
}

/**
 * One SVG: the latency histogram of each run (one colour per concurrency) on a shared log-scale
 * axis, each run's share of requests per bin, with its p50 and p99 marked.
 */
export function renderHistogramSvg(runs: readonly LoadRun[], options: { width?: number; height?: number; bins?: number } = {}): string {
  const width = options.width ?? 760;
  const height = options.height ?? 320;
  const pad = { left: 56, right: 16, top: 16, bottom: 56 };
  const all = runs.flatMap((r) => r.latencies);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60"><text x="10" y="30">no successful requests</text></svg>`;
  const range = histogramAxis(extent(all));
  // Enough bins to show the shape, few enough that each holds several requests.
  const bins = options.bins ?? Math.min(40, Math.max(10, Math.ceil(Math.sqrt(Math.min(...runs.map((r) => r.latencies.length || 1))) * 2)));
  const hists = runs.map((r) => latencyHistogram(r.latencies, bins, range));
  const share = hists.map((h, i) => h.map((b) => b.count / Math.max(1, runs[i].latencies.length)));
  const top = Math.max(0.01, ...share.flat());
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (ms: number) => Math.round((pad.left + ((Math.log(Math.min(range.max, Math.max(range.min, ms))) - Math.log(range.min)) / Math.max(1e-9, Math.log(range.max) - Math.log(range.min))) * plotW) * 10) / 10;
  const y = (s: number) => Math.round((pad.top + plotH - (s / top) * plotH) * 10) / 10;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect x="${pad.left}" y="${pad.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  // Axis ticks at powers of ten and their halves, within the range.
  for (let e = Math.floor(Math.log10(range.min)); e <= Math.ceil(Math.log10(range.max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v < range.min || v > range.max) continue;
      parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${pad.top + plotH}" y2="${pad.top + plotH + 4}" stroke="#666"/><text x="${x(v)}" y="${pad.top + plotH + 16}" text-anchor="middle">${fmtMs(v)}</text>`);
    }
  }
  parts.push(`<text x="${pad.left + plotW / 2}" y="${height - 26}" text-anchor="middle">latency, ms (log scale)</text>`);
  parts.push(`<text transform="translate(14 ${pad.top + plotH / 2}) rotate(-90)" text-anchor="middle">share of requests</text>`);
  for (const f of [0, 0.5, 1]) parts.push(`<text x="${pad.left - 6}" y="${y(top * f) + 4}" text-anchor="end">${(top * f * 100).toFixed(0)}%</text>`);
  hists.forEach((h, i) => {
    const color = COLORS[i % COLORS.length];
    const points = h.map((b, k) => `${x(b.from).toFixed(1)},${y(share[i][k]).toFixed(1)} ${x(b.to).toFixed(1)},${y(share[i][k]).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${x(h[0].from).toFixed(1)},${y(0)} ${points} ${x(h[h.length - 1].to).toFixed(1)},${y(0)}"/>`);
    for (const [label, v] of [['p50', runs[i].latencyMs.p50], ['p99', runs[i].latencyMs.p99]] as const) {
      parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="${color}" stroke-dasharray="${label === 'p50' ? '4 3' : '1 3'}"/>`);
    }
    // The legend shares the width between the runs, so that many concurrencies stay inside the frame too.
    const step = Math.min(150, plotW / runs.length);
    parts.push(`<rect x="${pad.left + 8 + i * step}" y="${height - 14}" width="10" height="10" fill="${color}"/><text x="${pad.left + 22 + i * step}" y="${height - 5}">${esc(`${step < 110 ? 'c' : 'concurrency '}${runs[i].concurrency}`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
