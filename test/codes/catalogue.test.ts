/**
 * The code catalogue (src/codes/) against the source: every code src/, infra/ and layers/ use is
 * declared, every declared code is used, every message call sends the payload its type declares,
 * and docs/errors.md is what `npm run docs:errors` generates from the catalogue.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { catalogueTypes, errorsDoc } from '../../scripts/errors-doc.js';
import { ERROR_CODES } from '../../src/codes/error-codes.js';
import { MESSAGE_CODES } from '../../src/codes/message-codes.js';
import { scanCodes, type CodeUse } from './_scan-codes.js';

const ROOT = path.join(import.meta.dirname, '../..');
const SCANNED = ['src', 'infra', 'layers'];
const scan = scanCodes(ROOT, SCANNED);
const declared = (use: CodeUse) => (use.kind === 'error' ? use.code in ERROR_CODES : use.code in MESSAGE_CODES);

describe('the code scanner', () => {
  it('finds codes in every form the source uses them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-codes-'));
    try {
      await mkdir(path.join(dir, 'src'));
      await writeFile(path.join(dir, 'src/a.ts'), `
        throw new DeployModelError(ok ? 'AAA_ONE' : 'AAA_TWO', 'm');
        io.warn('DM_THREE', 'm', { a: 1 });
        io.emit('info', 'DM_FOUR', 'm');
        const p = { code: 'AAA_FIVE', rule: 'r' };
        function fail(file: string, code: string) { throw new DeployModelError(code, file); }
        fail('f', 'AAA_SIX');
        io.warn(\`DM_\${p.code}\`, 'm');
        const env = 'DM_NOT_A_CODE';
      `);
      const found = scanCodes(dir, ['src']);
      expect(found.uses.map((u) => `${u.kind} ${u.code} ${u.site}`).sort()).toEqual([
        'error AAA_FIVE property', 'error AAA_ONE call', 'error AAA_SIX passed', 'error AAA_TWO call', 'message DM_FOUR call', 'message DM_THREE call',
      ]);
      expect(found.uses.find((u) => u.code === 'DM_THREE')?.data).toBe('{ a: 1 }');
      expect(found.templates).toEqual(['src/a.ts:8']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the code catalogue', () => {
  it('declares every code the source uses (add one line to src/codes/error-codes.ts or message-codes.ts)', () => {
    const missing = [...new Set(scan.uses.filter((u) => !declared(u)).map((u) => `${u.kind} ${u.code} (${u.where}${u.text ? `: ${u.text.slice(0, 60)}` : ''})`))];
    expect(missing).toEqual([]);
  });

  it('declares no code the source does not use', () => {
    const used = new Set(scan.uses.map((u) => u.code));
    // `io.warn(\`DM_${problem.code}\`)` sends a warning-level problem of the plan as a message.
    const viaTemplate = (code: string) => scan.templates.length > 0 && code.startsWith('DM_') && used.has(code.slice(3));
    const unused = [...Object.keys(ERROR_CODES), ...Object.keys(MESSAGE_CODES)].filter((c) => !used.has(c) && !viaTemplate(c));
    expect(unused).toEqual([]);
    expect(scan.templates.length).toBeGreaterThan(0); // else the exception above is dead: remove it
  });

  it('has a meaning for every code and a fix for every error', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) expect([code, spec.meaning.length > 10 && spec.fix.length > 3]).toEqual([code, true]);
    for (const [code, spec] of Object.entries(MESSAGE_CODES)) expect([code, spec.meaning.length > 10]).toEqual([code, true]);
  });

  it('types the payload of every message sent with data, and each call sends the keys its type declares', () => {
    const { types, aliases, source } = catalogueTypes('message-codes.ts');
    /** The keys of a declared payload type, or undefined where they cannot be read here (an imported type, a record). */
    const keysOf = (type: ts.TypeNode): Map<string, boolean> | undefined => {
      if (ts.isTypeLiteralNode(type)) {
        return new Map(type.members.filter(ts.isPropertySignature).map((m) => [m.name.getText(source), m.questionToken === undefined]));
      }
      if (ts.isIntersectionTypeNode(type)) {
        const parts = type.types.map(keysOf);
        return parts.some((p) => !p) ? undefined : new Map(parts.flatMap((p) => [...p!]));
      }
      if (ts.isTypeReferenceNode(type) && aliases.has(type.typeName.getText(source))) return keysOf(aliases.get(type.typeName.getText(source))!);
      if (ts.isUnionTypeNode(type)) {
        const defined = type.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
        return defined.length === 1 ? keysOf(defined[0]!) : undefined;
      }
      return undefined;
    };
    const problems: string[] = [];
    for (const use of scan.uses.filter((u) => u.kind === 'message' && u.site === 'call' && u.code in MESSAGE_CODES)) {
      const type = types.get(use.code);
      if (!use.data) {
        const optional = type && ts.isUnionTypeNode(type) && type.types.some((t) => t.kind === ts.SyntaxKind.UndefinedKeyword);
        if (type && !optional) problems.push(`${use.where}: ${use.code} is declared with a payload but sent without data (declare it \`… | undefined\` if some calls send none)`);
        continue;
      }
      if (!type) { problems.push(`${use.where}: ${use.code} sends data; declare its type (message<{ … }>)`); continue; }
      const keys = keysOf(type);
      const data = ts.createSourceFile('data.ts', `(${use.data})`, ts.ScriptTarget.Latest, true).statements[0];
      let object: ts.Node | undefined = data && ts.isExpressionStatement(data) ? data.expression : undefined;
      while (object && ts.isParenthesizedExpression(object)) object = object.expression;
      if (!keys || !object || !ts.isObjectLiteralExpression(object)) continue;
      const sent = object.properties.filter((p) => !ts.isSpreadAssignment(p)).map((p) => p.name!.getText());
      const spread = object.properties.some(ts.isSpreadAssignment);
      for (const k of sent) if (!keys.has(k)) problems.push(`${use.where}: ${use.code} sends '${k}', which its payload type lacks`);
      for (const [k, required] of keys) if (required && !spread && !sent.includes(k)) problems.push(`${use.where}: ${use.code} does not send '${k}', which its payload type requires`);
    }
    expect(problems).toEqual([]);
  });

  it('docs/errors.md is generated from it (run `npm run docs:errors`)', async () => {
    expect(await readFile(path.join(ROOT, 'docs/errors.md'), 'utf8')).toBe(errorsDoc());
  });
});
