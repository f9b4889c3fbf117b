// The text of docs/errors.md, generated from the code catalogue in src/codes/ (`npm run docs:errors` writes it).
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { ERROR_CODES } from '../src/codes/error-codes.js';
import { MESSAGE_CODES } from '../src/codes/message-codes.js';

const CODES_DIR = new URL('../src/codes/', import.meta.url);

/** The catalogue file's declarations, read from its source: each code's type argument, and the file's own (unexported) type aliases. */
export function catalogueTypes(file: 'error-codes.ts' | 'message-codes.ts'): { types: Map<string, ts.TypeNode>; aliases: Map<string, ts.TypeNode>; source: ts.SourceFile } {
  const source = ts.createSourceFile(file, readFileSync(new URL(file, CODES_DIR), 'utf8'), ts.ScriptTarget.Latest, true);
  const types = new Map<string, ts.TypeNode>();
  const aliases = new Map<string, ts.TypeNode>();
  const visit = (n: ts.Node): void => {
    const exported = ts.canHaveModifiers(n) && ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (ts.isTypeAliasDeclaration(n) && ts.isSourceFile(n.parent) && !exported) aliases.set(n.name.text, n.type);
    if (ts.isPropertyAssignment(n) && ts.isCallExpression(n.initializer) && n.initializer.typeArguments?.[0]) {
      types.set(n.name.getText(source), n.initializer.typeArguments[0]);
    }
    n.forEachChild(visit);
  };
  visit(source);
  return { types, aliases, source };
}

const cell = (text: string) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
const code = (text: string) => `\`${cell(text)}\``;

export function errorsDoc(): string {
  const errors = catalogueTypes('error-codes.ts');
  const messages = catalogueTypes('message-codes.ts');
  const aliasLines = [...messages.aliases].map(([name, type]) => `\`${name}\` is \`${cell(type.getText(messages.source))}\``).join('; ');
  const lines = [
    '<!-- Generated from src/codes/ by `npm run docs:errors`; edit the catalogue, not this file. -->',
    '# Error and message codes',
    '',
    'Every failure the user can act on is a `DeployModelError` with a stable `code`; its message names',
    'the value, the rule it broke and the fix, and `--json` prints the code with its `details`. Progress',
    'reaches an `IoHost` as messages with stable `DM_*` codes and typed `data`; tests and `--json`',
    'consumers rely on both. Both lists are declared once, in `src/codes/error-codes.ts` and',
    '`src/codes/message-codes.ts`, and typed for programs as `ErrorCode`, `ErrorDetails<C>`,',
    '`MessageCode` and `MessagePayload<C>` (exported by `deploy-model`).',
    '',
    `## Errors (${Object.keys(ERROR_CODES).length})`,
    '',
    '| code | meaning | fix | details |',
    '|---|---|---|---|',
    ...Object.entries(ERROR_CODES).map(([name, spec]) => {
      const type = errors.types.get(name);
      return `| \`${name}\` | ${cell(spec.meaning)} | ${cell(spec.fix)} | ${type ? code(type.getText(errors.source)) : ''} |`;
    }),
    '',
    `## Messages (${Object.keys(MESSAGE_CODES).length})`,
    '',
    `The level (info, warn, debug) is the sender's choice. In the data column, ${aliasLines}.`,
    '',
    '| code | meaning | data |',
    '|---|---|---|',
    ...Object.entries(MESSAGE_CODES).map(([name, spec]) => {
      const type = messages.types.get(name);
      return `| \`${name}\` | ${cell(spec.meaning)} | ${type ? code(type.getText(messages.source)) : 'none'} |`;
    }),
    '',
  ];
  return lines.join('\n');
}
