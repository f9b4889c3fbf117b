// Lays a function's code and layers out as Lambda does.
import fs from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DeployModelError } from '../errors.js';
import { unzip } from '../bundling/zip.js';

export interface LayoutFunctionOptions {
  /** The function's deployment package. Exactly one of codeZip and codeDir. */
  codeZip?: string;
  codeDir?: string;
  /** Layers in order, each a zip or a folder. @default [] */
  layers?: string[];
  /** Receives `task/` (LAMBDA_TASK_ROOT), `opt/` (what Lambda mounts at /opt) and `runtime/`. */
  workDir: string;
}

export interface FunctionLayout {
  workDir: string;
  /** LAMBDA_TASK_ROOT: the unpacked function code. */
  taskRoot: string;
  /** Stands in for `/opt`: the layers, merged in order. */
  optDir: string;
  /** LAMBDA_RUNTIME_DIR: holds the runtime bootstrap. */
  runtimeDir: string;
  /** The runtime bootstrap, plain ESM that `node` runs without a loader. */
  bootstrap: string;
  /** Stands in for `/tmp`: TMPDIR of the function, emptied for every new execution environment. */
  tmpDir: string;
  /**
   * HOME of the function: a path below a plain file, so nothing can be created there, as the
   * sandbox user's home cannot be on Lambda's read-only file system.
   */
  homeDir: string;
}

/**
 * Lays a function out as Lambda does: code in the task root, layers merged into /opt (later ones
 * overwrite earlier ones), the Node runtime next to them, an empty /tmp and a HOME that cannot be
 * written. Any earlier layout is replaced.
 */
export async function layoutFunction(options: LayoutFunctionOptions): Promise<FunctionLayout> {
  const { codeZip, codeDir, layers = [] } = options;
  if ((codeZip === undefined) === (codeDir === undefined)) {
    throw new DeployModelError('LOCAL_CODE_MISSING', 'A local function needs exactly one of codeZip or codeDir. Pass the built deployment package (zip) or its folder.', {
      details: { codeZip, codeDir },
      kind: 'internal',
    });
  }
  const workDir = path.resolve(options.workDir);
  assertNoNodeModulesAbove(workDir);
  const layout: FunctionLayout = {
    workDir,
    taskRoot: path.join(workDir, 'task'),
    optDir: path.join(workDir, 'opt'),
    runtimeDir: path.join(workDir, 'runtime'),
    bootstrap: path.join(workDir, 'runtime', 'bootstrap.mjs'),
    tmpDir: path.join(workDir, 'tmp'),
    homeDir: path.join(workDir, 'no-home', 'sbx_user1051'),
  };
  for (const dir of [layout.taskRoot, layout.optDir, layout.runtimeDir, layout.tmpDir]) {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
  }
  await fs.rm(path.dirname(layout.homeDir), { recursive: true, force: true });
  await fs.writeFile(path.dirname(layout.homeDir), 'Lambda\'s file system is read-only outside /tmp: nothing can be written to HOME.\n');
  await unpack(codeZip ?? (codeDir as string), layout.taskRoot, 'function code');
  for (const layer of layers) await unpack(layer, layout.optDir, 'layer');
  await fs.writeFile(layout.bootstrap, await bootstrapSource());
  return layout;
}

async function unpack(source: string, dest: string, what: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch (cause) {
    throw new DeployModelError('LOCAL_CODE_NOT_FOUND', `The ${what} ${source} does not exist. Build the artifacts first (deploy-model build).`, {
      cause,
      details: { path: source },
    });
  }
  if (isDir) await fs.cp(source, dest, { recursive: true, force: true, verbatimSymlinks: true });
  else await unzip(source, dest);
}

/**
 * Node resolves bare imports by walking up through every `node_modules` above the importing file.
 * On Lambda nothing sits above /var/task, so a task root below a project would let a handler load
 * packages that the deployed function would not find.
 */
function assertNoNodeModulesAbove(workDir: string): void {
  for (let dir = workDir; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'node_modules'))) {
      throw new DeployModelError('LOCAL_WORKDIR_UNSAFE', `The local function folder ${workDir} lies below ${path.join(dir, 'node_modules')}, so the handler could load packages the real function would not have. Use a folder outside any project (the default is under the system temp folder).`, {
        details: { workDir, nodeModules: path.join(dir, 'node_modules') },
      });
    }
    if (path.dirname(dir) === dir) return;
  }
}

let bundled: Promise<string> | undefined;

/**
 * The runtime bootstrap is written in TypeScript next to this file (`_bootstrap.ts`, or the
 * compiled `_bootstrap.js` in the package); esbuild turns it into one plain ESM file once per
 * process, so the child runs it with bare `node`, from source checkouts and packages alike. The
 * aws-lambda target's container image carries the same file as its ENTRYPOINT.
 */
export function bootstrapSource(): Promise<string> {
  bundled ??= (async () => {
    const here = fileURLToPath(import.meta.url);
    const entry = path.join(path.dirname(here), `_bootstrap${path.extname(here)}`);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
    });
    return result.outputFiles[0].text;
  })();
  bundled.catch(() => { bundled = undefined; });
  return bundled;
}
