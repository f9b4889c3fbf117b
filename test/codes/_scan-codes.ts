/**
 * Finds the codes the product's source uses, by reading its syntax (no type checking): the code
 * of every `new DeployModelError(code, …)`, the code of every message sent to an `IoHelper`
 * (`io.info(code, …)`, `io.emit(level, code, …)`), and the codes that reach them through data
 * (`{ code: 'WEB_MODEL_TOO_LARGE', … }`, or a function's `code` parameter passed on to a
 * DeployModelError). A code is an UPPER_SNAKE literal; message codes start with `DM_`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface CodeUse {
  code: string;
  /** `error` for a DeployModelError's code (and data codes), `message` for a `DM_` message code. */
  kind: 'error' | 'message';
  /** `file:line`, repository-relative. */
  where: string;
  /** The first words of the message at that site, where it is a literal. */
  text?: string;
  /** How the code was found: the argument of a call, a `code` property of data, or a literal passed to a function that hands it on. */
  site: 'call' | 'property' | 'passed';
  /** The source of the payload argument of a message call, where there is one. */
  data?: string;
}

export interface CodeScan {
  uses: CodeUse[];
  /** Message codes built at run time, `DM_${problem.code}`: the sites, for the catalogue test to account for. */
  templates: string[];
}

const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const IO_METHODS = new Set(['info', 'warn', 'error', 'debug', 'trace', 'result']);

/** The `.ts` files under `dirs` (repository-relative), sorted. */
export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

function literals(node: ts.Node, out: string[] = []): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) out.push(node.text);
  else node.forEachChild((c) => { literals(c, out); });
  return out;
}

function textOf(node: ts.Node | undefined): string | undefined {
  if (!node) return undefined;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return node.getText().slice(1, -1);
  return node.getText();
}

export function scanCodes(root: string, dirs: readonly string[]): CodeScan {
  const uses: CodeUse[] = [];
  const templates: string[] = [];
  /** Functions that hand their parameter `code` to a DeployModelError: name → parameter index. */
  const passers = new Map<string, number>();
  const parsed = sourceFiles(root, dirs).map((file) => ({ file, sf: ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true) }));
  const where = (file: string, sf: ts.SourceFile, n: ts.Node) => `${file}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;

  for (const { file, sf } of parsed) {
    const visit = (n: ts.Node): void => {
      if (ts.isNewExpression(n) && n.expression.getText(sf) === 'DeployModelError' && n.arguments?.[0]) {
        const arg = n.arguments[0];
        const codes = literals(arg).filter((l) => CODE.test(l));
        for (const code of codes) uses.push({ code, kind: 'error', site: 'call', where: where(file, sf, n), text: textOf(n.arguments[1])?.slice(0, 160) });
        if (ts.isIdentifier(arg)) {
          let fn: ts.Node | undefined = n.parent;
          while (fn && !ts.isFunctionDeclaration(fn)) fn = fn.parent;
          const index = fn && ts.isFunctionDeclaration(fn) ? fn.parameters.findIndex((p) => p.name.getText(sf) === arg.text) : -1;
          if (fn && ts.isFunctionDeclaration(fn) && fn.name && index >= 0) passers.set(fn.name.text, index);
        }
      }
      if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
        const method = n.expression.name.text;
        const index = method === 'emit' ? 1 : IO_METHODS.has(method) ? 0 : -1;
        const arg = index >= 0 ? n.arguments[index] : undefined;
        if (arg) {
          for (const code of literals(arg).filter((l) => l.startsWith('DM_') && CODE.test(l))) {
            uses.push({ code, kind: 'message', site: 'call', where: where(file, sf, n), text: textOf(n.arguments[index + 1])?.slice(0, 160), data: n.arguments[index + 2]?.getText(sf) });
          }
          if (ts.isTemplateExpression(arg) && arg.head.text.startsWith('DM_')) templates.push(where(file, sf, n));
        }
      }
      if (ts.isPropertyAssignment(n) && n.name.getText(sf) === 'code') {
        for (const code of literals(n.initializer).filter((l) => CODE.test(l))) {
          const object = n.parent;
          const message = ts.isObjectLiteralExpression(object)
            ? object.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && ['message', 'rule', 'error'].includes(p.name.getText(sf)))
            : undefined;
          uses.push({ code, kind: code.startsWith('DM_') ? 'message' : 'error', site: 'property', where: where(file, sf, n), text: textOf(message?.initializer)?.slice(0, 160) });
        }
      }
      n.forEachChild(visit);
    };
    visit(sf);
  }
  // Second pass: literal codes handed to a function that passes its `code` parameter on.
  for (const { file, sf } of parsed) {
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n)) {
        const callee = ts.isIdentifier(n.expression) ? n.expression.text : ts.isPropertyAccessExpression(n.expression) ? n.expression.name.text : undefined;
        const index = callee === undefined ? undefined : passers.get(callee);
        const arg = index === undefined ? undefined : n.arguments[index];
        if (arg) for (const code of literals(arg).filter((l) => CODE.test(l))) uses.push({ code, kind: 'error', site: 'passed', where: where(file, sf, n), text: textOf(n.arguments[index! + 1])?.slice(0, 160) });
      }
      n.forEachChild(visit);
    };
    visit(sf);
  }
  return { uses, templates };
}
