/**
 * AWS's own runtime interface client (`aws-lambda-ric`, the npm package Lambda's container images
 * run for Node), built from the npm registry once per version into the toolkit's cache. Its
 * install builds curl and aws-lambda-cpp from the sources it ships, then its native addon with
 * node-gyp against the runtime's Node: it needs cmake, make, g++, autoconf, automake and libtool.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RuntimeNode } from '../../../src/lambda-emulator/lambda-node.js';

const run = promisify(execFile);

/** The versions checked: the last of the 3.x line and the current 4.x. */
export const RIC_VERSIONS = ['3.3.0', '4.0.2'] as const;

/** Debian packages that the install's build needs, by the command each provides. */
const BUILD_TOOLS: Record<string, string> = { cmake: 'cmake', make: 'make', 'g++': 'g++', autoreconf: 'autoconf', automake: 'automake', libtoolize: 'libtool' };

/** Why aws-lambda-ric cannot be built here, or undefined when it can. */
export function ricBuildToolsMissing(): string | undefined {
  const missing = Object.entries(BUILD_TOOLS).filter(([cmd]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  }).map(([, pkg]) => pkg);
  return missing.length ? `building aws-lambda-ric needs ${missing.join(', ')} (apt-get install -y ${[...new Set(missing)].join(' ')})` : undefined;
}

export interface InstalledRic {
  version: string;
  /** The script its `aws-lambda-ric` bin runs. */
  entry: string;
}

/**
 * Installs `aws-lambda-ric@version` under `<cacheDir>/aws-lambda-ric/<version>-node<major>/`,
 * built for `node`, unless it is there already.
 */
export async function installAwsLambdaRic(version: string, node: RuntimeNode, cacheDir: string): Promise<InstalledRic> {
  const major = /^v(\d+)/.exec(node.version)?.[1];
  const dir = path.join(cacheDir, 'aws-lambda-ric', `${version}-node${major}`);
  const pkgDir = path.join(dir, 'node_modules', 'aws-lambda-ric');
  const built = () => existsSync(path.join(pkgDir, 'package.json')) && (existsSync(path.join(pkgDir, 'rapid-client.node')) || existsSync(path.join(pkgDir, 'dist', 'rapid-client.node')));
  if (!built()) {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'aws-lambda-ric-reference', private: true }));
    const prefix = path.dirname(path.dirname(node.binary));
    // npm and node-gyp run on the runtime's Node, and build against its headers (the npm
    // package ships them), so nothing is fetched but packages from the npm registry.
    await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `aws-lambda-ric@${version}`], {
      cwd: dir,
      env: { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`, npm_config_nodedir: prefix },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    if (!built()) throw new Error(`aws-lambda-ric@${version} installed into ${dir} without its native client (rapid-client.node)`);
  }
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string; bin: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['aws-lambda-ric'];
  return { version: pkg.version, entry: path.join(pkgDir, bin) };
}
