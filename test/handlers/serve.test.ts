import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { mkdir, symlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, twoPartRequest } from './_http-client.js';
import { MODELS, runDirect, signatureOf, validInput } from './_models.js';

/** handlers/server-entry.ts as the container runs it, in its own process, stopped with SIGTERM. */

let dir: string;
let signaturePath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deploy-model-serve-'));
  signaturePath = join(dir, 'signature.json');
  await writeFile(signaturePath, JSON.stringify(await signatureOf('cls')));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => res(port));
    }).on('error', rej);
  });
}

interface Child { proc: ChildProcess; stderr: () => string; exited: Promise<number | null> }

function serve(env: Record<string, string>, args = ['--import', 'tsx', 'handlers/server-entry.ts']): Child {
  const proc = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, stderr: () => err, exited };
}

async function waitFor(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  const start = Date.now();
  for (;;) {
    const m = child.stderr().match(pattern);
    if (m) return m;
    if (child.proc.exitCode !== null || Date.now() - start > timeoutMs) throw new Error(`no ${pattern} in:\n${child.stderr()}`);
    await sleep(25);
  }
}

describe('handlers/server-entry.ts', () => {
  it('serves every contract from the environment and drains on SIGTERM', async () => {
    // GIVEN the server started with Vertex AI's variables
    const port = await freePort();
    const child = serve({
      DM_MODEL_PATH: resolve(MODELS.cls.path), DM_SIGNATURE_PATH: signaturePath, DM_MODEL_NAME: 'ocr-cls',
      AIP_HTTP_PORT: String(port), PORT: '1', HOST: '127.0.0.1',
      AIP_HEALTH_ROUTE: '/health/aip', AIP_PREDICT_ROUTE: '/predict/aip',
    });
    try {
      const [, url] = await waitFor(child, /serving model "ocr-cls" on (http:\/\/\S+)/);
      expect(url).toBe(`http://127.0.0.1:${port}`);
      for (const path of ['/health/aip', '/ping', '/v2/health/ready', '/']) {
        expect((await fetch(url + path)).status).toBe(200);
      }
      const { tensors, feeds } = await validInput('cls');
      const expected = (await runDirect('cls', feeds))['softmax_0.tmp_0'].data;
      const predicted = await fetch(`${url}/predict/aip`, { method: 'POST', body: JSON.stringify({ instances: tensors }), headers: { 'content-type': 'application/json' } });
      expect(((await predicted.json()) as { predictions: { data: number[] }[] }).predictions[0].data).toEqual(expected);

      // WHEN SIGTERM arrives while a request is half uploaded
      const res = await twoPartRequest(`${url}/v2/models/ocr-cls/infer`, JSON.stringify({ inputs: tensors }), async () => {
        child.proc.kill('SIGTERM');
        await waitFor(child, /SIGTERM received/);
        // THEN new connections are refused …
        await expect(fetch(`${url}/ping`)).rejects.toThrow();
      });
      // … the request in flight is answered, and the process exits 0
      expect(res.status).toBe(200);
      expect(res.json.outputs[0].data).toEqual(expected);
      expect(await child.exited).toBe(0);
      expect(child.stderr()).toContain('deploy-model: stopped');
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  it('exits 1 with a clear message when the model is missing', async () => {
    const child = serve({ DM_MODEL_PATH: join(dir, 'missing.onnx'), DM_SIGNATURE_PATH: signaturePath, PORT: '0', HOST: '127.0.0.1' });
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toContain('deploy-model: the inference server could not start: could not load the model');
    expect(child.stderr()).toContain('missing.onnx');
  });

  it('bundles with esbuild into one serve.mjs that starts and stops', async () => {
    // GIVEN serve.ts bundled as the container target does, with onnxruntime-node beside it
    const root = join(dir, 'image');
    await mkdir(join(root, 'node_modules'), { recursive: true });
    await build({
      entryPoints: ['handlers/server-entry.ts'], outfile: join(root, 'serve.mjs'), bundle: true, platform: 'node',
      format: 'esm', target: 'node20', external: ['onnxruntime-node'], logLevel: 'silent',
    });
    await symlink(resolve('node_modules/onnxruntime-node'), join(root, 'node_modules', 'onnxruntime-node'));
    // WHEN it runs
    const child = serve({ DM_MODEL_PATH: resolve(MODELS.cls.path), DM_SIGNATURE_PATH: signaturePath, PORT: '0', HOST: '127.0.0.1' }, [join(root, 'serve.mjs')]);
    try {
      const [, url] = await waitFor(child, /serving model "model" on (http:\/\/\S+)/);
      // THEN it answers and stops cleanly on SIGTERM
      expect((await fetch(`${url}/ping`)).status).toBe(200);
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    } finally {
      child.proc.kill('SIGKILL');
    }
  });
});
