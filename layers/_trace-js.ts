import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { DeployModelError } from '../src/errors.js';

/** What one JavaScript file loads, read from its text. */
export interface JsImports {
  /** Relative specifiers (`./backend`, `../bin/x.node`), resolved to files. */
  files: string[];
  /** Bare package names (`onnxruntime-common`), Node built-ins left out. */
  packages: string[];
}

/**
 * Substitutions for the template-literal requires native loaders use, e.g. onnxruntime-node's
 * `require(`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`)`.
 */
export type TemplateVars = Record<string, string>;

const builtins = new Set(builtinModules);

// Literal specifiers only; the packages traced here are compiled output without computed requires
// other than the template literals handled below.
const LITERAL_PATTERNS = [
  /\brequire\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g,
  /\bfrom\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*(['"])([^'"\n]+)\1/g,
];
const TEMPLATE_PATTERN = /\b(?:require|import)\(\s*`([^`]*)`\s*\)/g;

export function readJsImports(file: string, vars: TemplateVars): JsImports {
  const text = stripComments(readFileSync(file, 'utf8'));
  const specifiers: string[] = [];
  for (const pattern of LITERAL_PATTERNS) for (const m of text.matchAll(pattern)) specifiers.push(m[2]);
  for (const m of text.matchAll(TEMPLATE_PATTERN)) specifiers.push(expandTemplate(file, m[1], vars));

  const files: string[] = [];
  const packages: string[] = [];
  for (const spec of specifiers) {
    if (spec.startsWith('.') || spec.startsWith('/')) files.push(resolveRelative(file, spec));
    else if (!spec.startsWith('node:') && !builtins.has(spec)) packages.push(packageName(spec));
  }
  return { files, packages };
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function expandTemplate(file: string, template: string, vars: TemplateVars): string {
  const expanded = template.replace(/\$\{\s*([\w.]+)\s*\}/g, (whole, name: string) => vars[name] ?? whole);
  if (expanded.includes('${')) {
    throw new DeployModelError(
      'LAYER_UNTRACEABLE_REQUIRE',
      `"${file}" loads \`${template}\`, a path the layer builder cannot work out. This onnxruntime-node release loads its ` +
        'files differently from the ones deploy-model knows: update deploy-model, or pin the onnxruntime-node version it supports.',
      { details: { file, template } },
    );
  }
  return expanded;
}

/** CommonJS resolution of a relative specifier; ESM specifiers are exact and so match the first try. */
function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  const candidates = [base, `${base}.js`, `${base}.cjs`, `${base}.mjs`, `${base}.json`, `${base}.node`, join(base, 'index.js')];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!found) {
    throw new DeployModelError(
      'LAYER_FILE_MISSING',
      `"${from}" loads "${spec}", which is not in the installed package (looked for ${base}). ` +
        'The package is incomplete for this platform: reinstall onnxruntime-node.',
      { details: { from, spec } },
    );
  }
  return found;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
