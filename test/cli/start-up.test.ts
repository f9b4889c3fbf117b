import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, REPO } from '../_helpers/run-cli.js';

// The loader hook bench/cli-start.ts counts modules with: ES modules through a hook, CommonJS through require's cache.
const MODULE_LOG = path.join(REPO, 'bench/_lib/module-log.mjs');

/** Libraries that only some commands need, each of which takes tens to hundreds of modules (or a native binary) to load. */
const HEAVY = [
  'kubernetes-models', '@kubernetes-models', 'esbuild', '@aws-sdk', '@smithy', '@aws-cdk', 'aws-cdk-lib', 'cdk-nag', 'constructs',
  '@google-cloud', '@grpc', 'google-auth-library', '@azure', 'onnxruntime-node', 'onnxruntime-web', 'playwright-core', 'zod', 'yaml',
];

const work = mkdtempSync(path.join(os.tmpdir(), 'dm-start-up-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The files a `node` process loaded, and its output. */
function loadedBy(args: string[]): { files: string[]; stdout: string; status: number | null } {
  const log = path.join(work, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const run = spawnSync(process.execPath, ['--import', MODULE_LOG, ...args], { cwd: REPO, env: { ...process.env, DEPLOY_MODEL_MODULE_LOG: log, NO_COLOR: '1' }, encoding: 'utf8' });
  const files = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  return { files, stdout: run.stdout, status: run.status };
}

/** The packages under node_modules that `files` come from (`@scope/name` or `name`). */
function packagesOf(files: string[]): string[] {
  const names = files.map((f) => /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(f)?.[1]?.replace('\\', '/')).filter((n): n is string => Boolean(n));
  return [...new Set(names)].sort();
}

const heavyIn = (packages: string[]) => packages.filter((p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`)));

describe('CLI start-up', () => {
  it('the module log sees heavy libraries, loaded as ES modules and through require', () => {
    // GIVEN a process that imports an ES-only library and requires a CommonJS one
    const run = loadedBy(['--input-type=module', '-e', "import 'kubernetes-models/v1/Service'; import { createRequire } from 'node:module'; createRequire(import.meta.url)('esbuild');"]);
    // THEN both are in its log
    expect(run.status).toBe(0);
    expect(heavyIn(packagesOf(run.files))).toEqual(expect.arrayContaining(['kubernetes-models', 'esbuild']));
  });

  it.each([['--version'], ['-v']])('deploy-model %s answers from package.json before the CLI loads', (flag) => {
    const run = loadedBy([BIN, flag]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version}\n`);
    // the bin script alone: no dist module, no package
    expect(run.files.filter((f) => f.startsWith(REPO) && !f.includes(`${path.sep}bench${path.sep}`))).toEqual([BIN]);
    expect(packagesOf(run.files)).toEqual([]);
  });

  it('deploy-model --help loads commander and none of the heavy libraries', () => {
    const run = loadedBy([BIN, '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Usage: deploy-model/);
    const packages = packagesOf(run.files);
    expect(packages).toContain('commander');
    expect(run.files.some((f) => f.endsWith(path.join('cli', 'main.js')))).toBe(true);
    expect(heavyIn(packages)).toEqual([]);
  });

  it("a command's --help loads none of them either", () => {
    for (const command of ['deploy', 'plan', 'permissions', 'bench']) {
      const run = loadedBy([BIN, command, '--help']);
      expect(run.stdout).toContain(`Usage: deploy-model ${command}`);
      expect(heavyIn(packagesOf(run.files))).toEqual([]);
    }
  });
});
