import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { DeployModelError } from '../src/errors.js';
import { ELF_MACHINE, readElf } from './_elf.js';
import { readJsImports, type TemplateVars } from './_trace-js.js';

export type LayerArchitecture = 'x86_64' | 'arm64';

/** One file of the layer: where it is read from, where it goes in the zip. */
export interface LayerFile {
  from: string;
  /** Path in the zip, e.g. `nodejs/node_modules/onnxruntime-node/dist/index.js`. */
  to: string;
}

/** Lambda puts `/opt/nodejs/node_modules` on NODE_PATH; a layer's packages go there. */
export const LAYER_NODE_MODULES = 'nodejs/node_modules';

/** Lambda's architecture name to Node's `process.arch`. */
export const NODE_ARCH: Record<LayerArchitecture, 'x64' | 'arm64'> = { x86_64: 'x64', arm64: 'arm64' };

interface PackageJson {
  name: string;
  version: string;
  main?: string;
  exports?: unknown;
}

/**
 * The files onnxruntime-node needs at run time on Lambda (Linux) for one architecture, found by
 * following what the code loads rather than by a list of names:
 *
 * 1. start from each package's entry points (`main` and every `exports` target but types), so
 *    both `require()` and `import` of the package work;
 * 2. follow the literal `require`/`import` specifiers of each file; onnxruntime-node's loader
 *    (`dist/binding.js`) requires `../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`,
 *    evaluated here for `linux` and the architecture;
 * 3. bare specifiers pull in that package the same way (onnxruntime-common); `adm-zip` and
 *    `global-agent` are only used by the install script and so are never reached;
 * 4. for each native file, add the shared libraries it names (ELF DT_NEEDED) that sit beside it
 *    (its RUNPATH is `$ORIGIN`): `libonnxruntime.so.1`. The CUDA/TensorRT provider libraries an
 *    install may have downloaded are dlopen'ed only for those execution providers, never
 *    needed, so they stay out;
 * 5. keep every `package.json` between a kept file and its package root: `dist/cjs/package.json`
 *    (`"type": "commonjs"`) decides how Node loads the files under it.
 *
 * Type declarations, source maps, TypeScript sources, READMEs, install scripts and the binaries of
 * other platforms are never reached, so they are not in the plan. Sorted by `to`.
 */
export function planOrtLayer(pkgDir: string, architecture: LayerArchitecture): LayerFile[] {
  const arch = NODE_ARCH[architecture];
  if (!arch) {
    throw new DeployModelError('LAYER_INVALID_ARCHITECTURE', `Architecture "${String(architecture)}" is not a Lambda architecture. Use "x86_64" or "arm64".`, {
      details: { architecture },
    });
  }
  const vars: TemplateVars = { 'process.platform': 'linux', 'process.arch': arch };
  const files = new Map<string, string>(); // to -> from
  const packages = new Map<string, { dir: string; version: string }>();
  const pending: string[] = [];

  const addPackage = (dir: string): void => {
    const pkg = readPackageJson(dir);
    const seen = packages.get(pkg.name);
    if (seen) {
      if (seen.version !== pkg.version) {
        throw new DeployModelError(
          'LAYER_VERSION_CONFLICT',
          `The layer needs ${pkg.name} ${seen.version} (${seen.dir}) and ${pkg.version} (${dir}), but it has one node_modules folder. ` +
            'Install versions of onnxruntime-node and onnxruntime-common that match (npm dedupe).',
          { details: { name: pkg.name, versions: [seen.version, pkg.version] } },
        );
      }
      return;
    }
    packages.set(pkg.name, { dir, version: pkg.version });
    add(join(dir, 'package.json'));
    for (const entry of entryPoints(dir, pkg)) pending.push(entry);
  };

  const add = (file: string): boolean => {
    const owner = owningPackage(file, packages);
    const rel = relative(owner.dir, file).split(sep).join('/');
    const to = `${LAYER_NODE_MODULES}/${owner.name}/${rel}`;
    if (files.has(to)) return false;
    files.set(to, file);
    // Nested package.json files set the module type of what sits below them.
    for (let d = dirname(file); d.startsWith(owner.dir) && d !== owner.dir; d = dirname(d)) {
      const nested = join(d, 'package.json');
      if (existsSync(nested)) add(nested);
    }
    return true;
  };

  addPackage(realpathSync(pkgDir));
  const visited = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (visited.has(file)) continue;
    visited.add(file);
    add(file);
    if (file.endsWith('.node')) {
      addSharedLibraries(file, arch, add);
      continue;
    }
    if (!/\.[cm]?js$/.test(file)) continue;
    const imports = readJsImports(file, vars);
    pending.push(...imports.files);
    for (const name of imports.packages) addPackage(resolvePackageDir(name, file));
  }

  return [...files.entries()]
    .map(([to, from]) => ({ from, to }))
    .sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
}

/** `main` and every string target of `exports` except type declarations. */
function entryPoints(dir: string, pkg: PackageJson): string[] {
  const targets = new Set<string>();
  const walk = (node: unknown, key?: string): void => {
    if (key === 'types' || key === 'typings') return;
    if (typeof node === 'string') {
      if (node.includes('*')) {
        throw new DeployModelError('LAYER_UNSUPPORTED_EXPORTS', `${pkg.name} exports a subpath pattern ("${node}"), which the layer builder does not expand. Update deploy-model.`, {
          details: { package: pkg.name },
        });
      }
      if (!node.endsWith('.d.ts')) targets.add(node);
    } else if (Array.isArray(node)) node.forEach((n) => walk(n));
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  walk(pkg.exports);
  if (pkg.main !== undefined || pkg.exports === undefined) targets.add(pkg.main ?? 'index.js');
  return [...targets].sort().map((t) => resolveEntry(dir, t, pkg.name));
}

function resolveEntry(dir: string, target: string, name: string): string {
  const base = join(dir, target);
  const found = [base, `${base}.js`, join(base, 'index.js')].find((c) => existsSync(c) && statSync(c).isFile());
  if (!found) {
    throw new DeployModelError('LAYER_FILE_MISSING', `${name} names "${target}" as an entry point, but ${base} does not exist. Reinstall ${name}.`, {
      details: { package: name, target },
    });
  }
  return found;
}

function addSharedLibraries(binary: string, arch: 'x64' | 'arm64', add: (file: string) => boolean): void {
  const queue = [binary];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    const elf = readElf(file);
    if (elf.machine !== ELF_MACHINE[arch]) {
      throw new DeployModelError('LAYER_BINARY_WRONG_ARCH', `"${file}" is built for ELF machine ${elf.machine}, not ${arch} (${ELF_MACHINE[arch]}). Reinstall onnxruntime-node.`, {
        details: { file, machine: elf.machine, arch },
      });
    }
    for (const lib of elf.needed) {
      const beside = join(dirname(file), lib);
      // Anything else (libc, libstdc++, libm, libgcc_s) comes from Amazon Linux.
      if (existsSync(beside) && add(beside)) queue.push(beside);
    }
  }
}

function resolvePackageDir(name: string, fromFile: string): string {
  let entry: string;
  try {
    entry = createRequire(fromFile).resolve(name);
  } catch (cause) {
    throw new DeployModelError('LAYER_DEPENDENCY_MISSING', `"${fromFile}" loads the package "${name}", which is not installed. Reinstall onnxruntime-node.`, {
      cause,
      details: { name, from: fromFile },
    });
  }
  for (let d = dirname(entry); ; d = dirname(d)) {
    const file = join(d, 'package.json');
    if (existsSync(file) && readPackageJson(d).name === name) return d;
    if (dirname(d) === d) throw new DeployModelError('LAYER_DEPENDENCY_MISSING', `Cannot find the package.json of "${name}" above ${entry}.`, { details: { name } });
  }
}

function owningPackage(file: string, packages: Map<string, { dir: string }>): { name: string; dir: string } {
  let best: { name: string; dir: string } | undefined;
  for (const [name, { dir }] of packages) {
    if ((file === join(dir, 'package.json') || file.startsWith(dir + sep)) && (!best || dir.length > best.dir.length)) best = { name, dir };
  }
  if (!best) throw new DeployModelError('LAYER_FILE_OUTSIDE_PACKAGE', `"${file}" lies outside every package in the layer.`, { details: { file }, kind: 'internal' });
  return best;
}

export function readPackageJson(dir: string): PackageJson {
  const file = join(dir, 'package.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch (cause) {
    throw new DeployModelError('LAYER_PACKAGE_NOT_FOUND', `Cannot read "${file}". Pass the folder of an installed onnxruntime-node package.`, {
      cause,
      details: { file },
    });
  }
}
