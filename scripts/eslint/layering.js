// The project's own layering rules, as a local ESLint plugin (see eslint.config.js and src/targets/README.md).
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** The repository-relative path an import specifier points at, or undefined for a package. */
function resolved(context, spec) {
  if (!spec.startsWith('.')) return undefined;
  const from = path.dirname(context.filename);
  return path.relative(ROOT, path.resolve(from, spec)).replace(/\\/g, '/').replace(/\.js$/, '.ts');
}

function specifiers(node) {
  if (node.type === 'ImportDeclaration' || node.type === 'ExportNamedDeclaration' || node.type === 'ExportAllDeclaration') return node.source ? [node.source] : [];
  if (node.type === 'ImportExpression' && node.source.type === 'Literal') return [node.source];
  return [];
}

function importRule(meta, check) {
  return {
    meta: { type: 'problem', schema: [], ...meta },
    create(context) {
      const file = path.relative(ROOT, context.filename).replace(/\\/g, '/');
      const visit = (node) => {
        for (const source of specifiers(node)) {
          const target = typeof source.value === 'string' ? resolved(context, source.value) : undefined;
          if (!target) continue;
          const message = check(file, target);
          if (message) context.report({ node: source, message });
        }
      };
      return { ImportDeclaration: visit, ExportNamedDeclaration: visit, ExportAllDeclaration: visit, ImportExpression: visit };
    },
  };
}

const targetOf = (p) => /^src\/targets\/([^/]+)\//.exec(p)?.[1];
const TARGET_KITS = new Set(['driver.ts', 'target-module.ts', 'registry.ts', 'resource-name.ts', 'base-plan.ts']);

export default {
  rules: {
    /** A `_` file is private to its folder. */
    'no-private-import': importRule({ docs: { description: "no import of a '_' file from another folder" } }, (file, target) => {
      if (!path.basename(target).startsWith('_')) return undefined;
      return path.dirname(target) === path.dirname(file) ? undefined : `${target} is private to ${path.dirname(target)}/ (its name starts with '_'): import what that folder exports instead`;
    }),
    /** Target types stand side by side: none imports another; shared code lives in src/kits. */
    'no-cross-target-import': importRule({ docs: { description: 'no target folder imports another' } }, (file, target) => {
      const from = targetOf(file);
      const to = targetOf(target);
      if (!from || !to || from === to || TARGET_KITS.has(target.slice('src/targets/'.length))) return undefined;
      return `the ${from} target imports the ${to} target (${target}): move what both need to src/kits/`;
    }),
    /** The layers: handlers run in the cloud, kits serve targets and infra, infra stays off target internals. */
    'layers': importRule({ docs: { description: 'imports follow the layering of DESIGN.md' } }, (file, target) => {
      if (file.startsWith('handlers/') && target.startsWith('src/') && !/^src\/model\/(types|dtypes)\.ts$/.test(target)) {
        return `handlers/ is the runtime shipped into the cloud and may use only src/model/types.ts and dtypes.ts from src/, not ${target}`;
      }
      if (file.startsWith('src/kits/') && (target.startsWith('src/targets/') || target.startsWith('src/toolkit/') || target.startsWith('src/cli/'))) {
        return `src/kits/ is shared by targets and infra, so it may not import ${target}: pass what it needs as parameters`;
      }
      if (file.startsWith('infra/') && target.startsWith('src/targets/') && !/^src\/targets\/[^/]+\/index\.ts$/.test(target)) {
        return `infra/ may use a target only through its index.ts, not ${target}: move shared code to src/kits/`;
      }
      if (!file.startsWith('src/cli/') && target.startsWith('src/cli/')) return `only the CLI imports src/cli/ (${target})`;
      if ((file.startsWith('src/') && !file.startsWith('src/cli/') && !file.startsWith('src/toolkit/') && !file.startsWith('src/bench/') && file !== 'src/index.ts') && target.startsWith('src/toolkit/')) {
        return `${file} is below the toolkit and may not import ${target}`;
      }
      return undefined;
    }),
  },
};
