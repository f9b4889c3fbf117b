// Bundles the container server and starts it in a process of its own for the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { defaultOrtPackageDir } from '../../layers/build-layer.js';
import { inspectModel } from '../../src/model/inspect-model.js';

/**
 * Bundles handlers/server-entry.ts as the container target does (one ESM file, onnxruntime-node beside
 * it in node_modules) into `dir`; returns the bundle's path.
 */
export async function bundleServer(dir: string): Promise<string> {
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  const outfile = join(dir, 'serve.mjs');
  await build({
    entryPoints: [new URL('../../handlers/server-entry.ts', import.meta.url).pathname], outfile, bundle: true, platform: 'node',
    format: 'esm', target: 'node20', external: ['onnxruntime-node'], logLevel: 'silent',
  });
  await symlink(defaultOrtPackageDir(), join(dir, 'node_modules', 'onnxruntime-node')).catch(() => {});
  return outfile;
}

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the bundled server for `modelPath` with extra DM_* variables; resolves once it listens. */
export async function startServerProcess(bundle: string, modelPath: string, modelName: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
  const signaturePath = join(dirname(bundle), `${modelName}.signature.json`);
  await writeFile(signaturePath, JSON.stringify(await inspectModel(modelPath)));
  const proc = spawn(process.execPath, [...nodeArgs, bundle], {
    env: { PATH: process.env.PATH ?? '', DM_MODEL_PATH: modelPath, DM_SIGNATURE_PATH: signaturePath, DM_MODEL_NAME: modelName, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving model "[^"]+" on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${stderr}`)));
  });
  return {
    url,
    proc,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
