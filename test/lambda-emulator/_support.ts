import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { writeDeterministicZip, zipDirectory } from '../../src/bundling/zip.js';
import { startLocalFunction } from '../../src/lambda-emulator/local-function.js';
import { ensureLambdaNode } from '../../src/lambda-emulator/lambda-node.js';
import type { LocalFunction, LocalFunctionSpec } from '../../src/lambda-emulator/types.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../_fixtures/lambda-handlers', import.meta.url));
const OWN_FIXTURES = fileURLToPath(new URL('./_fixtures', import.meta.url));

/** A handler fixture folder under test/_fixtures/lambda-handlers. */
export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

/** A handler fixture of the emulator's own tests, under test/lambda-emulator/_fixtures. */
export function emulatorFixture(name: string): string {
  return path.join(OWN_FIXTURES, name);
}

let lambdaNode: Promise<string> | undefined;

/**
 * The Node of nodejs22.x, fetched once from the npm registry into the toolkit's cache, so the
 * tests run functions on the Node that Lambda would.
 */
export function lambdaNodeBinary(): Promise<string> {
  lambdaNode ??= ensureLambdaNode().then((n) => n.binary);
  return lambdaNode;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** A fresh folder under the system temp folder, removed after the file's tests. */
export async function tempDir(prefix = 'dm-local-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a function that is stopped after the file's tests. */
export async function started(spec: Partial<LocalFunctionSpec> & { functionName: string }): Promise<LocalFunction> {
  const fn = await startLocalFunction({ handler: 'index.handler', memoryMb: 256, timeoutSeconds: 5, nodeBinary: await lambdaNodeBinary(), ...spec });
  cleanups.push(() => fn.stop());
  return fn;
}

/** Zips a fixture folder as a function's deployment package. */
export async function zipFixture(name: string, dir: string): Promise<string> {
  return (await zipDirectory(fixture(name), path.join(dir, `${name}.zip`))).file;
}

/** A layer zip holding `layer-greeting` where Lambda's Node runtime looks: nodejs/node_modules. */
export async function greetingLayerZip(dir: string, extra: Array<{ path: string; data: string; mode?: number }> = []): Promise<string> {
  const src = fixture('layer-greeting');
  const result = await writeDeterministicZip([
    { path: 'nodejs/node_modules/layer-greeting/index.js', file: path.join(src, 'index.js') },
    { path: 'nodejs/node_modules/layer-greeting/package.json', file: path.join(src, 'package.json') },
    ...extra,
  ], path.join(dir, 'greeting-layer.zip'));
  return result.file;
}

export { alive as isAlive } from '../_helpers/processes.js';
