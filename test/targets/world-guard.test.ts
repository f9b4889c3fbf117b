import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutTheWorld } from './_contract/world-guard.js';

// The contract test's fence must itself refuse what it says it refuses, through the imports
// code under test uses (ESM named imports of node built-ins included).
describe('withoutTheWorld', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'dm-guard-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('refuses and records writes outside the writable folders, and allows them inside', async () => {
    const outside = path.join(os.homedir(), 'dm-guard-should-not-exist');
    const r = await withoutTheWorld(async () => {
      await writeFile(path.join(dir, 'ok.txt'), 'x');
      writeFileSync(outside, 'x');
    }, { writableDirs: [dir] });
    expect(r.error).toBeDefined();
    expect(r.touches.writes).toEqual([`writeFileSync ${outside}`]);
  });

  it('refuses connections (http, fetch) and child processes', async () => {
    const viaHttp = await withoutTheWorld(() => new Promise((resolve, reject) => http.get('http://127.0.0.1:9/', resolve).on('error', reject)));
    expect(viaHttp.error).toBeDefined();
    expect(viaHttp.touches.connections.length).toBeGreaterThan(0);
    const viaFetch = await withoutTheWorld(() => fetch('http://127.0.0.1:9/'));
    expect(viaFetch.touches.connections).toEqual(['fetch http://127.0.0.1:9/']);
    const spawned = await withoutTheWorld(() => execFile('true'));
    expect(spawned.touches.spawns).toEqual(['execFile true']);
  });

  it('puts everything back afterwards', async () => {
    await withoutTheWorld(() => undefined);
    await writeFile(path.join(dir, 'after.txt'), 'x');
    expect((await fetch('data:text/plain,ok')).ok).toBe(true);
  });
});
