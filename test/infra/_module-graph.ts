import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/**
 * Walks the static import graph of an ES module the way Node's ESM loader resolves it (relative
 * files, and packages through `exports` with the `node`/`import`/`default` conditions), and lists
 * every top-level `await` (and `for await`) in the ES modules it reaches. CommonJS files end the
 * walk: they cannot hold top-level await. `require()` of an ES module refuses a graph with one
 * (ERR_REQUIRE_ASYNC_MODULE), so this tells whether CommonJS callers can load the entry, on any Node.
 */
export function topLevelAwaits(entry: string): { awaits: string[]; esmFiles: number } {
  const seen = new Set<string>();
  const awaits: string[] = [];
  let esmFiles = 0;
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!isEsm(file)) return;
    esmFiles++;
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
    const walk = (node: ts.Node) => {
      if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
      if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier)) {
        awaits.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`);
      }
      node.forEachChild(walk);
    };
    source.forEachChild(walk);
    for (const statement of source.statements) {
      if ((ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
        const target = resolveImport(statement.moduleSpecifier.text, file);
        if (target) visit(target);
      }
    }
  };
  visit(realpathSync(entry));
  return { awaits, esmFiles };
}

const CONDITIONS = new Set(['node', 'import', 'module-sync', 'default']);

function resolveImport(specifier: string, from: string): string | undefined {
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined;
  if (specifier.startsWith('.') || specifier.startsWith('/')) return resolveFile(path.resolve(path.dirname(from), specifier));
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const subpath = `.${specifier.slice(name.length)}`;
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const pkgDir = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { exports?: unknown; main?: string };
      const target = pkg.exports !== undefined ? exportTarget(pkg.exports, subpath) : subpath === '.' ? pkg.main ?? 'index.js' : subpath;
      if (!target) throw new Error(`${name} does not export ${subpath} (imported by ${from})`);
      return resolveFile(realpathSync(path.resolve(pkgDir, target)));
    }
    if (path.dirname(dir) === dir) throw new Error(`cannot resolve ${specifier} from ${from}`);
  }
}

function exportTarget(exports: unknown, subpath: string): string | undefined {
  if (typeof exports === 'string' || Array.isArray(exports)) return subpath === '.' ? conditional(exports) : undefined;
  const map = exports as Record<string, unknown>;
  if (!Object.keys(map).some((k) => k.startsWith('.'))) return subpath === '.' ? conditional(map) : undefined;
  if (subpath in map) return conditional(map[subpath]);
  for (const [key, value] of Object.entries(map)) {
    const star = key.indexOf('*');
    if (star >= 0 && subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1))) {
      const match = subpath.slice(star, subpath.length - (key.length - star - 1));
      return conditional(value)?.replace('*', match);
    }
  }
  return undefined;
}

function conditional(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(conditional).find((v) => v !== undefined);
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (!CONDITIONS.has(key)) continue;
      const found = conditional(inner);
      if (found) return found;
    }
  }
  return undefined;
}

function resolveFile(p: string): string {
  for (const candidate of [p, `${p}.js`, `${p}.mjs`, `${p}.cjs`, path.join(p, 'index.js')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return realpathSync(candidate);
  }
  if (existsSync(path.join(p, 'package.json'))) {
    const main = (JSON.parse(readFileSync(path.join(p, 'package.json'), 'utf8')) as { main?: string }).main;
    if (main) return resolveFile(path.join(p, main));
  }
  throw new Error(`cannot resolve ${p}`);
}

function isEsm(file: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs') || !file.endsWith('.js')) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    // The nearest package.json decides, as in Node.
    if (existsSync(pkg)) return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
    if (path.dirname(dir) === dir) return false;
  }
}
