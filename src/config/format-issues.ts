// Turns zod issues into config problems that name the path, the value, the rule and the fix.
import type { z } from 'zod';
import { KNOWN_TARGET_TYPES } from './schema.js';

export interface ConfigProblem {
  /** Dotted path inside the config, e.g. `targets.lambda.memoryMb`. */
  path: string;
  /** The offending value, JSON-encoded and shortened. */
  value: string;
  /** The rule that was broken. */
  rule: string;
  /** What to do about it. */
  fix: string;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key as string];
  }
  return cur;
}

function show(value: unknown): string {
  if (value === undefined) return '(missing)';
  let text: string;
  try { text = JSON.stringify(value) ?? String(value); } catch { text = String(value); }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function dotted(path: PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Closest candidate by edit distance, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) { bestDist = d; best = c; }
  }
  return bestDist <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** Turns zod issues into problems that name the path, the value, the rule and the fix. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigProblem[] {
  return issues.map((issue) => {
    const path = issue.path as PropertyKey[];
    const value = valueAt(input, path);
    const at = dotted(path);
    switch (issue.code) {
      case 'invalid_union': {
        if ((issue as { discriminator?: string }).discriminator === 'type') {
          const got = typeof value === 'string' ? value : undefined;
          const hint = got ? closest(got, KNOWN_TARGET_TYPES) : undefined;
          return {
            path: at, value: show(value),
            rule: `unknown target type; known types: ${KNOWN_TARGET_TYPES.join(', ')}`,
            fix: hint ? `did you mean '${hint}'?` : `set type to one of: ${KNOWN_TARGET_TYPES.join(', ')}`,
          };
        }
        return { path: at, value: show(value), rule: issue.message, fix: 'use one of the accepted forms (see `deploy-model schema`)' };
      }
      case 'unrecognized_keys': {
        const keys = issue.keys;
        return {
          path: at, value: keys.map((k) => `'${k}'`).join(', '),
          rule: `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`,
          fix: 'remove it or check its spelling against `deploy-model schema`',
        };
      }
      case 'invalid_type':
        if (value === undefined) {
          return { path: at, value: '(missing)', rule: `required: expected ${issue.expected}`, fix: `add ${at}` };
        }
        return { path: at, value: show(value), rule: `expected ${issue.expected}`, fix: `give ${at} a ${issue.expected}` };
      case 'too_big':
        return { path: at, value: show(value), rule: `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`, fix: `lower ${at} to at most ${String(issue.maximum)}` };
      case 'too_small':
        return { path: at, value: show(value), rule: `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`, fix: `raise ${at} to at least ${String(issue.minimum)}` };
      case 'invalid_value':
        return { path: at, value: show(value), rule: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, fix: `use one of the listed values` };
      default:
        return { path: at, value: show(value), rule: issue.message, fix: 'see the config reference in the README or `deploy-model schema`' };
    }
  });
}

export function problemLine(p: ConfigProblem): string {
  return `${p.path}: got ${p.value}; ${p.rule}. Fix: ${p.fix}.`;
}
