/** Makes onnxruntime-node loadable beside deploy-model without its install script: from the npm registry into the cache. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultCacheDir } from './cache-dir.js';
import { DeployModelError } from './errors.js';
import { packageRoot } from './package-root.js';

/**
 * The onnxruntime-node release deploy-model runs and ships in its Lambda layer. It is not an npm
 * dependency of the published package: its install script downloads CUDA libraries from outside
 * the npm registry (and fails where only the registry is reachable), while the CPU binaries every
 * target uses are in the npm package itself. The repository's own devDependency has the same version.
 */
export const ONNXRUNTIME_NODE_VERSION = '1.30.0';

export interface OnnxRuntimeNodeLocation {
  /** The package folder (real path) that `import 'onnxruntime-node'` from deploy-model loads. */
  dir: string;
  version: string;
  /** `installed`: found by Node's resolution (the project installed it); `cache`: fetched into the cache and linked. */
  source: 'installed' | 'cache';
  /** Set when this call fetched it from the registry. */
  fetched?: boolean;
}

export interface EnsureOnnxRuntimeNodeOptions {
  /** @default - `$XDG_CACHE_HOME/deploy-model` (or `~/.cache/deploy-model`) */
  cacheDir?: string;
  /** Folder of the deploy-model package whose `node_modules/` gets the link. @default - this package */
  packageRoot?: string;
  /** @default ONNXRUNTIME_NODE_VERSION */
  version?: string;
  /** The npm command. @default 'npm' */
  npm?: string;
  /** Told before a fetch starts (the only slow path: a 110 MB download from the registry, once per cache). */
  onFetch?: (message: string) => void;
}

function resolveFrom(root: string): string | undefined {
  try {
    return path.dirname(createRequire(path.join(root, 'package.json')).resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

const versionIn = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> });

/** The line that says why: npm's own `npm error` line when npm failed, else the message's first line. */
function reason(cause: unknown): string {
  const stderr = String((cause as { stderr?: unknown }).stderr ?? '');
  return stderr.split('\n').find((l) => /^npm (error|ERR!)/.test(l))?.trim() ?? String((cause as Error).message).split('\n')[0];
}

/** `npm pack NAME@VERSION` (no install script runs) unpacked as `<into>/NAME`; returns that folder. */
function packInto(npm: string, spec: string, name: string, into: string): string {
  const out = execFileSync(npm, ['pack', spec, '--pack-destination', into, '--json', '--silent'], {
    cwd: into, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32',
  });
  const { filename } = (JSON.parse(out) as Array<{ filename: string }>)[0];
  const unpack = mkdtempSync(path.join(into, '.unpack-'));
  execFileSync('tar', ['xzf', path.join(into, filename), '-C', unpack], { stdio: 'ignore' });
  rmSync(path.join(into, filename), { force: true });
  const target = path.join(into, name);
  renameSync(path.join(unpack, 'package'), target);
  rmSync(unpack, { recursive: true, force: true });
  return target;
}

/**
 * Where `onnxruntime-node` comes from for deploy-model: the copy Node's resolution finds (the
 * project's, when it installed one), else `<cacheDir>/onnxruntime-node/<version>/node_modules/`
 * (onnxruntime-node and the onnxruntime-common it requires, fetched with `npm pack`, so no install
 * script runs), linked as `<packageRoot>/node_modules/onnxruntime-node` so that every import and
 * require of deploy-model (the CLI, the layer builder, worker threads) finds it. Synchronous, so
 * a CDK synth can call it too. Idempotent: the second call is one resolution.
 */
export function ensureOnnxRuntimeNode(options: EnsureOnnxRuntimeNodeOptions = {}): OnnxRuntimeNodeLocation {
  const root = options.packageRoot ?? packageRoot();
  const installed = resolveFrom(root);
  if (installed) return { dir: installed, version: versionIn(installed).version, source: 'installed' };

  const version = options.version ?? ONNXRUNTIME_NODE_VERSION;
  const npm = options.npm ?? (process.platform === 'win32' ? 'npm.cmd' : 'npm');
  const home = path.join(options.cacheDir ?? defaultCacheDir(), 'onnxruntime-node', version);
  const modules = path.join(home, 'node_modules');
  const cached = path.join(modules, 'onnxruntime-node');
  let fetched = false;
  if (!existsSync(path.join(cached, 'package.json'))) {
    options.onFetch?.(`fetching onnxruntime-node ${version} from the npm registry into ${home} (once; its install script, which downloads GPU libraries from outside the registry, is not run)`);
    let work: string | undefined;
    try {
      mkdirSync(home, { recursive: true });
      work = mkdtempSync(path.join(home, '.fetch-'));
      const ort = packInto(npm, `onnxruntime-node@${version}`, 'onnxruntime-node', work);
      const common = versionIn(ort).dependencies?.['onnxruntime-common'] ?? version;
      packInto(npm, `onnxruntime-common@${common}`, 'onnxruntime-common', work);
      // Moved into place whole, so a process that finds onnxruntime-node there finds both.
      const staged = path.join(work, 'node_modules');
      mkdirSync(staged);
      renameSync(ort, path.join(staged, 'onnxruntime-node'));
      renameSync(path.join(work, 'onnxruntime-common'), path.join(staged, 'onnxruntime-common'));
      // A folder left half-made by an interrupted run is replaced.
      if (existsSync(modules) && !existsSync(path.join(cached, 'package.json'))) rmSync(modules, { recursive: true, force: true });
      try {
        renameSync(staged, modules);
      } catch (cause) {
        // Another process put it there first.
        if (!existsSync(path.join(cached, 'package.json'))) throw cause;
      }
      fetched = true;
    } catch (cause) {
      throw new DeployModelError('ONNXRUNTIME_FETCH_FAILED', `Could not fetch onnxruntime-node@${version} from the npm registry into ${home}: ${reason(cause)}. Check that npm reaches its registry (\`npm view onnxruntime-node@${version} version\`), or install it in your project with its GPU download skipped: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${version}.`, {
        cause, details: { package: `onnxruntime-node@${version}`, cacheDir: home },
      });
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }

  const link = path.join(root, 'node_modules', 'onnxruntime-node');
  const real = realpathSync(cached);
  try {
    mkdirSync(path.dirname(link), { recursive: true });
    rmSync(link, { force: true });
    symlinkSync(cached, link, 'junction');
  } catch (cause) {
    if (resolveFrom(root) !== real) {
      throw new DeployModelError('ONNXRUNTIME_LINK_FAILED', `onnxruntime-node ${version} is in ${home}, but it could not be linked into ${path.dirname(link)} (${reason(cause)}), so deploy-model cannot load it. Install deploy-model where you can write (a project's node_modules rather than a read-only global prefix), or install onnxruntime-node in your project: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${version}.`, {
        cause, details: { link, cacheDir: home },
      });
    }
  }
  const dir = resolveFrom(root);
  if (dir !== real) {
    throw new DeployModelError('ONNXRUNTIME_LINK_FAILED', `${link} links onnxruntime-node ${version} from ${home}, but Node resolves onnxruntime-node from deploy-model to ${dir ?? 'nothing'}. Remove ${link} and run again, or install onnxruntime-node in your project: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${version}.`, {
      details: { link, resolved: dir },
    });
  }
  return { dir: real, version, source: 'cache', ...(fetched ? { fetched } : {}) };
}
