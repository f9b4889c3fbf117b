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

/** The one result table: target, type, endpoint, status, p50; then what failed, per target. */
export function renderReport(report: DeployReport, style: Style): string {
  // Lambda's "Max Memory Used", where a target measured it (local): N / memory MB.
  const memory = (t: TargetReport) => (typeof t.details?.maxMemoryUsedMb === 'number' ? `${t.details.maxMemoryUsedMb} / ${t.details.memoryMb} MB` : '-');
  const withMemory = report.targets.some((t) => memory(t) !== '-');
  const rows = report.targets.map((t) => [
    t.name,
    t.type,
    t.endpoint ?? '-',
    t.status === 'passed' ? style.green('passed') : style.red('failed'),
    t.latencyMs ? `${t.latencyMs.p50} ms` : '-',
    ...(withMemory ? [memory(t)] : []),
  ]);
  const lines = [renderTable(['TARGET', 'TYPE', 'ENDPOINT', 'STATUS', 'P50', ...(withMemory ? ['MAX MEMORY USED'] : [])], rows)];
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
