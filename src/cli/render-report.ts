import type { DeployReport } from '../toolkit/toolkit.js';
import type { Style } from './style.js';
import { renderTable } from './render-table.js';

/** The one result table: target, type, endpoint, status, p50; then what failed, per target. */
export function renderReport(report: DeployReport, style: Style): string {
  const rows = report.targets.map((t) => [
    t.name,
    t.type,
    t.endpoint ?? '-',
    t.status === 'passed' ? style.green('passed') : style.red('failed'),
    t.latencyMs ? `${t.latencyMs.p50} ms` : '-',
  ]);
  const lines = [renderTable(['TARGET', 'TYPE', 'ENDPOINT', 'STATUS', 'P50'], rows)];
  for (const t of report.targets) {
    if (t.error) lines.push('', style.red(`${t.name}: ${t.error.code}: ${t.error.message}`));
    const failed = t.checks.filter((c) => !c.passed);
    if (failed.length) {
      lines.push('', style.red(`${t.name}: smoke test failed${t.promoted === false ? ' (the previous version keeps serving)' : ''}`));
      for (const c of failed) lines.push(`  - ${c.name}: ${c.message}`);
    }
  }
  return lines.join('\n');
}
