// Renders a deploy report as the result table and what failed.
import type { DeployReport, TargetReport } from '../toolkit/toolkit.js';
import type { Style } from './style.js';
import { renderTable } from './render-table.js';

/** What serves after a failed smoke test, in the words of the table's footer. */
function servingNote(t: TargetReport): string {
  if (t.details?.unchanged) return ` (nothing changed; version ${t.version} keeps serving)`;
  if (t.promoted === false) return t.previousVersion ? ` (version ${t.previousVersion} keeps serving)` : ' (there was no previous version: nothing serves)';
  if (t.promoted === true && t.checks.length > 0) return ' (there was no previous version to keep: it serves)';
  return '';
}

const exp = (n: number | null | undefined): string => (n === null || n === undefined ? '∞' : n === 0 ? '0' : n.toExponential(1));

/** The largest golden outputs errors over a target's outputs ('abs 1.2e-7 rel 3.0e-6'), or '-' when it checked none. */
export function goldenCell(t: TargetReport): string {
  const golden = t.checks.filter((c) => c.maxAbsError !== undefined);
  if (golden.length === 0) return '-';
  const worst = (key: 'maxAbsError' | 'maxRelError') => golden.reduce<number | null>((m, c) => (m === null || c[key] === null || c[key] === undefined ? null : Math.max(m, c[key]!)), 0);
  return `abs ${exp(worst('maxAbsError'))} rel ${exp(worst('maxRelError'))}`;
}

/** The one result table: target, type, endpoint, status, p50, golden outputs errors; then what failed, per target. */
export function renderReport(report: DeployReport, style: Style): string {
  // Lambda's "Max Memory Used", where a target measured it (local): N / memory MB.
  const memory = (t: TargetReport) => (typeof t.details?.maxMemoryUsedMb === 'number' ? `${t.details.maxMemoryUsedMb} / ${t.details.memoryMb} MB` : '-');
  const withMemory = report.targets.some((t) => memory(t) !== '-');
  const withGolden = report.targets.some((t) => goldenCell(t) !== '-');
  const rows = report.targets.map((t) => [
    t.name,
    t.type,
    t.endpoint ?? '-',
    t.status === 'passed' ? style.green('passed') : style.red('failed'),
    t.latencyMs ? `${t.latencyMs.p50} ms` : '-',
    ...(withGolden ? [goldenCell(t)] : []),
    ...(withMemory ? [memory(t)] : []),
  ]);
  const lines = [renderTable(['TARGET', 'TYPE', 'ENDPOINT', 'STATUS', 'P50', ...(withGolden ? ['GOLDEN MAX ERROR'] : []), ...(withMemory ? ['MAX MEMORY USED'] : [])], rows)];
  for (const t of report.targets) {
    if (t.error) lines.push('', style.red(`${t.name}: ${t.error.code}: ${t.error.message}`));
    const failed = t.checks.filter((c) => !c.passed);
    if (failed.length) {
      lines.push('', style.red(`${t.name}: smoke test failed${servingNote(t)}`));
      for (const c of failed) lines.push(`  - ${c.name}: ${c.message}`);
    }
  }
  return lines.join('\n');
}
