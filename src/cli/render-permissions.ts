/** `deploy-model permissions` for people: per target, what the identity is, what it may call and why, the documents, the setup. */
import { stringify } from 'yaml';
import type { PermissionDocument, TargetPermissions } from '../permissions/index.js';
import { renderTable } from './render-table.js';
import type { Style } from './style.js';

/** A document as the cloud's tools take it: JSON, or YAML for gcloud's role files. */
export function renderDocument(doc: PermissionDocument): string {
  return doc.format === 'yaml' ? stringify(doc.content, { lineWidth: 0 }).trimEnd() : JSON.stringify(doc.content, null, 2);
}

const indent = (text: string, by = '  '): string => text.split('\n').map((l) => (l ? `${by}${l}` : l)).join('\n');

export function renderPermissions(report: TargetPermissions, style: Style): string {
  const parts = [`${style.cyan(report.target)} (${report.type})`, indent(report.summary)];
  if (report.actions.length) {
    // Actions granted for the same reason share one "used by".
    const rows = report.actions.map((a, i) => [a.action, i > 0 && report.actions[i - 1]!.usedBy === a.usedBy ? '' : a.usedBy]);
    parts.push('', indent(renderTable(['ACTION', 'USED BY'], rows)));
  }
  for (const doc of report.documents) parts.push('', indent(`${style.bold(doc.title)} (--format ${doc.id}):`), indent(renderDocument(doc), '    '));
  if (report.setup.length) parts.push('', indent(`${style.bold('Set up')} (--format setup):`), indent(report.setup.join('\n'), '    '));
  if (report.notes.length) parts.push('', indent(style.bold('Notes:')), ...report.notes.map((n) => indent(`- ${n}`, '    ')));
  return parts.join('\n');
}
