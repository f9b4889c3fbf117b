/**
 * Each source file under src/, infra/, handlers/ and bench/ opens with a one-line comment saying
 * what it is for: the lint rule that keeps it so (scripts/eslint/file-header.js), and the files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the ESLint plugins are plain JavaScript without type declarations
import fileHeaderPlugin, { headerProblem } from '../../scripts/eslint/file-header.js';

const ROOT = path.join(import.meta.dirname, '../..');
const FOLDERS = ['src', 'infra', 'handlers', 'bench'];
const SOURCE = /\.(ts|js|mjs|py)$/;

function lint(code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const config = [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { files: fileHeaderPlugin }, rules: { 'files/file-header': 'error' } }];
  return linter.verify(code, config as Linter.Config[], 'src/example.ts').map((m) => m.message);
}

describe('the file-header lint rule', () => {
  it('refuses a file that opens with code, a blank line, a tool directive or a comment too short to say anything', () => {
    expect(lint("import x from 'y';\nexport const z = x;\n")).toEqual(['the file must open with a one-line comment saying what it is for']);
    expect(lint('\n// Says what it is for, one line down.\nexport const z = 1;\n')).toHaveLength(1);
    expect(lint('/* eslint-disable no-console */\nexport const z = 1;\n')[0]).toMatch(/tool directive/);
    expect(lint('// TODO\nexport const z = 1;\n')[0]).toMatch(/too short/);
  });

  it('accepts a line comment, a doc comment and a shebang followed by a comment', () => {
    expect(lint('// Renders the report as a table.\nexport const z = 1;\n')).toEqual([]);
    expect(lint('/** The one list of target types. */\nexport const z = 1;\n')).toEqual([]);
    expect(lint('/**\n * The one list of target types.\n */\nexport const z = 1;\n')).toEqual([]); // the text may start on the next line of a block
    expect(lint('#!/usr/bin/env node\n// Starts the CLI.\nexport const z = 1;\n')).toEqual([]);
  });
});

describe('the source files', () => {
  it('each open with a comment saying what the file is for', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.posix.join(dir, e.name);
        if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'cdk.out') walk(rel); } else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) files.push(rel);
      }
    };
    for (const f of FOLDERS) walk(f);
    expect(files.length).toBeGreaterThan(300);
    const missing = files.map((f) => [f, headerProblem(readFileSync(path.join(ROOT, f), 'utf8'))]).filter(([, p]) => p);
    expect(missing).toEqual([]);
  });
});
