import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModelDir, writeAddModel } from '../_helpers/onnx-models.js';
import { REPO, runCli } from '../_helpers/run-cli.js';

const VERSION = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')).version as string;
const ORT_VERSION = JSON.parse(await readFile(path.join(REPO, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version as string;

// GIVEN a project with a local target on a tiny model, deployed
let dir: string;
beforeAll(async () => {
  dir = await makeModelDir();
  const model = await writeAddModel(dir);
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default ${JSON.stringify({ name: 'add', model: { path: model }, targets: { local: { type: 'local' } } })};\n`);
  const deploy = await runCli(['deploy', '--target', 'local', '--json'], { cwd: dir });
  expect(deploy.code, deploy.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await runCli(['destroy', '--target', 'local', '--yes'], { cwd: dir });
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('deploy-model bench, through the CLI, on the local target', () => {
  it('--json reports the duration, the machine, the versions, the settings and the histogram', async () => {
    const out = path.join(dir, 'reports');
    const run = await runCli(['bench', '--concurrency', '1,2', '--duration', '0.5', '--out', out, '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const report = run.json();
    expect(report).toMatchObject({
      target: 'local', type: 'local', model: 'add', stage: 'dev',
      machine: { cpuModel: os.cpus()[0].model.trim(), cpus: os.availableParallelism(), memoryBytes: os.totalmem(), platform: os.platform(), arch: os.arch() },
      versions: { node: process.version, deployModel: VERSION, onnxruntime: ORT_VERSION },
      settings: { concurrency: [1, 2], durationSeconds: 0.5, warmupRequests: 1, target: { type: 'local' } },
    });
    // Two runs of half a second each, plus the warm-ups.
    expect(report.durationMs).toBeGreaterThanOrEqual(1000);
    expect(report.durationMs).toBeLessThan(60_000);
    expect(report.runs.map((r: { concurrency: number }) => r.concurrency)).toEqual([1, 2]);
    // Every answer of every run is in one bin; the bins join up from the fastest answer to the slowest.
    const bins = report.histogram as Array<{ fromMs: number; toMs: number; counts: number[] }>;
    expect(bins.length).toBeGreaterThan(1);
    report.runs.forEach((r: { ok: number; latencyMs: { min: number; max: number } }, i: number) => {
      expect(r.ok).toBeGreaterThan(0);
      expect(bins.reduce((n, b) => n + b.counts[i], 0)).toBe(r.ok);
    });
    for (let i = 1; i < bins.length; i++) expect(bins[i].fromMs).toBe(bins[i - 1].toMs);
    const slowest = Math.max(...report.runs.map((r: { latencyMs: { max: number } }) => r.latencyMs.max));
    expect(bins.at(-1)!.toMs).toBeCloseTo(slowest, 1);
    // The files say the same; the JSON file also keeps every latency.
    const saved = JSON.parse(await readFile(report.files.json, 'utf8'));
    expect(saved).toMatchObject({ machine: report.machine, versions: report.versions, settings: report.settings, histogram: report.histogram, durationMs: report.durationMs });
    expect(saved.runs[0].latencies).toHaveLength(saved.runs[0].ok);
    const html = await readFile(report.files.html, 'utf8');
    expect(html).toContain(`onnxruntime-node ${ORT_VERSION}`);
  }, 120_000);

  it('prints the same in its table, with a histogram per concurrency', async () => {
    const run = await runCli(['bench', '--concurrency', '1,2', '--duration', '0.3', '--out', path.join(dir, 'reports')], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^bench {5}add \/ local \(local\) at http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/^duration {2}\d+\.\d s, started \d{4}-\d\d-\d\dT/m);
    expect(run.stdout).toContain(`machine   ${os.cpus()[0].model.trim()}, ${os.availableParallelism()} CPUs, `);
    expect(run.stdout).toContain(`versions  node ${process.version}, deploy-model ${VERSION}, onnxruntime-node ${ORT_VERSION}`);
    expect(run.stdout).toContain('settings  concurrency 1, 2; 0.3 s each after 1 warm-up request');
    expect(run.stdout).toMatch(/^target {4}type=local/m);
    expect(run.stdout).toMatch(/^CONCURRENCY +OK +FAILED +REQ\/S +P50 MS +P90 MS +P99 MS +MAX MS$/m);
    expect(run.stdout).toMatch(/^LATENCY MS +CONCURRENCY 1 +CONCURRENCY 2$/m);
    // The histogram's rows: a range, then a count and a bar per concurrency; the counts add up to the answers.
    const rows = lines.filter((l) => /^\d+(\.\d+)? - \d+(\.\d+)? /.test(l));
    expect(rows.length).toBeGreaterThan(1);
    const okRow = lines.filter((l) => /^[12] {2,}\d+ /.test(l)).map((l) => Number(l.trim().split(/\s+/)[1]));
    const counted = [0, 0];
    for (const row of rows) {
      // After the range, only counts and bars ('#') are left.
      const counts = [...row.slice(row.indexOf(' ', row.indexOf(' - ') + 3)).matchAll(/\d+/g)].map((m) => Number(m[0]));
      expect(counts, row).toHaveLength(2);
      counts.forEach((c, i) => { counted[i] += c; });
    }
    expect(counted).toEqual(okRow);
  }, 120_000);

  it('a concurrency or a duration that is not a number is a usage error naming it', async () => {
    const run = await runCli(['bench', '--concurrency', '1,x', '--duration', '0.1', '--json'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.json().error).toMatchObject({ code: 'BENCH_CONCURRENCY_INVALID', message: expect.stringContaining("'x' is not a whole number") });
    const duration = await runCli(['bench', '--duration', 'ten', '--json'], { cwd: dir });
    expect(duration.code, duration.stderr).toBe(2);
    expect(duration.json().error).toMatchObject({ code: 'BENCH_DURATION_INVALID', message: expect.stringContaining('--duration ten is not a number of seconds') });
  }, 60_000);
});
