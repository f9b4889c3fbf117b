import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { benchHistogram, benchMachine, benchTarget, benchVersions, writeBenchReport } from '../../src/bench/bench-target.js';
import { latencyHistogram, renderHistogramSvg } from '../../src/bench/latency-histogram.js';
import { runLoad, summarizeLatencies } from '../../src/bench/run-load.js';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import { httpInferenceClient } from '../../src/smoke/http-client.js';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { makeModelDir, removeModelDir, writeAddModel } from '../_helpers/onnx-models.js';

describe('runLoad', () => {
  let dir: string;
  let srv: StartedServer;
  beforeAll(async () => {
    dir = await makeModelDir();
    const model = await writeAddModel(dir);
    srv = await startServer({ modelPath: model, signature: await inspectModel(model), modelName: 'add', port: 0, host: '127.0.0.1', workers: 1 });
  });
  afterAll(async () => {
    await srv.close();
    await removeModelDir(dir);
  });

  const request = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

  it('keeps `concurrency` requests in flight for the duration and summarises the latencies', async () => {
    const run = await runLoad({ client: httpInferenceClient(`${srv.url}/v2/models/add/infer`), request, concurrency: 4, durationMs: 400 });
    expect(run.ok).toBeGreaterThan(4);
    expect(run.failed).toEqual({});
    expect(run.latencies).toHaveLength(run.ok);
    expect(run.throughput).toBeGreaterThan(0);
    expect(run.latencyMs.p50).toBeLessThanOrEqual(run.latencyMs.p99);
    expect(run.latencyMs.p99).toBeLessThanOrEqual(run.latencyMs.max);
  });

  it('counts answers that are not 200 by status, and calls that throw as errors', async () => {
    const notFound = await runLoad({ client: httpInferenceClient(`${srv.url}/v2/models/other/infer`), request, concurrency: 2, durationMs: 100, warmupRequests: 0 });
    expect(notFound.ok).toBe(0);
    expect(notFound.failed['404']).toBeGreaterThan(0);
    const down = await runLoad({ client: async () => { throw new Error('connection refused'); }, request, concurrency: 1, durationMs: 20, warmupRequests: 0 });
    expect(down.failed.error).toBeGreaterThan(0);
  });
});

describe('the report', () => {
  const run = (concurrency: number, latencies: number[]) => ({ concurrency, durationMs: 1000, ok: latencies.length, failed: {}, throughput: latencies.length, latencyMs: summarizeLatencies(latencies), latencies });

  it('bins latencies on a log scale, every request counted once', () => {
    const latencies = [1, 2, 2, 3, 10, 100];
    const bins = latencyHistogram(latencies, 5);
    expect(bins).toHaveLength(5);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(latencies.length);
    expect(bins[0].from).toBeCloseTo(1);
    expect(bins[4].to).toBeCloseTo(100);
    expect(summarizeLatencies(latencies)).toMatchObject({ min: 1, p50: 2, p99: 100, max: 100 });
  });

  it('draws one curve per concurrency in a well-formed SVG, and writes JSON beside the HTML', async () => {
    const svg = renderHistogramSvg([run(1, [1, 1.5, 2, 2.5]), run(8, [5, 8, 9, 30])]);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('concurrency 8');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dm-bench-report-'));
    try {
      const runs = [run(1, [1, 2])];
      const report = {
        target: 'local', type: 'local', endpoint: 'http://127.0.0.1:1/', model: 'm', stage: 'dev', startedAt: '2026-01-02T03:04:05.000Z', durationMs: 1234,
        machine: { cpuModel: 'Test CPU 9000', cpus: 3, memoryBytes: 2 * 1024 ** 3, platform: 'linux', arch: 'x64' },
        versions: { node: 'v20.0.0', deployModel: '0.0.1', onnxruntime: '1.2.3' },
        settings: { concurrency: [1], durationSeconds: 1, warmupRequests: 1, target: { type: 'local', port: 8080 } },
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], runs, histogram: benchHistogram(runs),
      };
      const files = await writeBenchReport(report, dir);
      expect(JSON.parse(await readFile(files.json, 'utf8'))).toEqual(report);
      const html = await readFile(files.html, 'utf8');
      expect(html).toContain('<svg');
      expect(html).toContain('<td>1</td><td>2</td>');
      for (const text of ['took 1.2 s', 'Test CPU 9000, 3 CPUs, 2.0 GiB', 'node v20.0.0', 'deploy-model 0.0.1', 'onnxruntime-node 1.2.3', '&quot;port&quot;:8080']) expect(html).toContain(text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the histogram', () => {
  const run = (concurrency: number, latencies: number[]) => ({ concurrency, latencies, latencyMs: summarizeLatencies(latencies) } as Parameters<typeof renderHistogramSvg>[0][number]);
  /** Every x of every polyline and marker line, with the frame's left and right edges. */
  const xs = (svg: string) => {
    const frame = /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
    const points = [...svg.matchAll(/points="([^"]+)"/g)].flatMap((m) => m[1].trim().split(/\s+/).map((p) => Number(p.split(',')[0])));
    const lines = [...svg.matchAll(/<line x1="([\d.]+)"/g)].map((m) => Number(m[1]));
    return { left: Number(frame[1]), right: Number(frame[1]) + Number(frame[2]), all: [...points, ...lines] };
  };

  it('keeps the slowest bins inside the frame, also when every latency is the same or below 0.01 ms', () => {
    for (const runs of [[run(1, [5, 5, 5])], [run(1, [0.001, 0.5, 2]), run(8, [3, 90])], [run(1, [1, 2]), run(2, [1, 2]), run(4, [2, 3]), run(8, [3, 4]), run(16, [4, 9]), run(32, [8, 20])]]) {
      const { left, right, all } = xs(renderHistogramSvg(runs));
      expect(all.length).toBeGreaterThan(runs.length * 4);
      for (const x of all) {
        expect(x).toBeGreaterThanOrEqual(left);
        expect(x).toBeLessThanOrEqual(right);
      }
    }
  });

  it('counts every run over the same bins, each answer once, from the fastest answer to the slowest', () => {
    // 4 bins on a log scale from 1 to 100 ms: edges 1, 3.16, 10, 31.6, 100
    const bins = benchHistogram([{ latencies: [1, 2, 3] }, { latencies: [30, 100] }], 4);
    expect(bins).toHaveLength(4);
    expect(bins[0].fromMs).toBe(1);
    expect(bins[3].toMs).toBe(100);
    expect(bins.map((b) => b.counts)).toEqual([[3, 0], [0, 0], [0, 1], [0, 1]]);
    expect(benchHistogram([{ latencies: [] }])).toEqual([]);
  });

  it('names the machine and the versions', () => {
    const machine = benchMachine();
    expect(machine.cpus).toBe(os.availableParallelism());
    expect(machine.cpuModel).toBe(os.cpus()[0].model.trim());
    expect(machine.memoryBytes).toBe(os.totalmem());
    expect(benchVersions()).toEqual({ node: process.version, deployModel: JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version, onnxruntime: JSON.parse(readFileSync(path.join(__dirname, '../../node_modules/onnxruntime-node/package.json'), 'utf8')).version });
  });
});

describe('benchTarget', () => {
  let dir: string;
  let toolkit: Toolkit;
  let host: RecordingIoHost;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-bench-'));
    const models = await makeModelDir();
    const model = await writeAddModel(models);
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default ${JSON.stringify({ name: 'add', model: { path: model }, targets: { local: { type: 'local' } } })};\n`);
    host = new RecordingIoHost();
    toolkit = new Toolkit({ ioHost: host });
  });
  afterAll(async () => {
    const project = await toolkit.load({ configFile: path.join(dir, 'deploy-model.config.mjs') });
    await toolkit.destroy(project, ['local']);
    await rm(dir, { recursive: true, force: true });
  });

  it('a target that is not deployed is NOT_DEPLOYED', async () => {
    const project = await toolkit.load({ configFile: path.join(dir, 'deploy-model.config.mjs') });
    await expect(benchTarget(toolkit, project, 'local', { concurrency: [1], durationSeconds: 0.1 })).rejects.toMatchObject({ code: 'NOT_DEPLOYED' });
    await expect(benchTarget(toolkit, project, 'local', { concurrency: [0] })).rejects.toMatchObject({ code: 'BENCH_CONCURRENCY_INVALID' });
  });

  it('loads a deployed local target through its driver and reports each concurrency', async () => {
    // GIVEN the local target deployed
    const project = await toolkit.load({ configFile: path.join(dir, 'deploy-model.config.mjs') });
    expect((await toolkit.deploy(project, ['local'])).targets[0].status).toBe('passed');
    // WHEN it is benchmarked
    const report = await benchTarget(toolkit, project, 'local', { concurrency: [1, 2], durationSeconds: 0.5 });
    // THEN every concurrency has answers, the request is the smoke test's, and progress went to the IoHost
    expect(report).toMatchObject({ target: 'local', type: 'local', model: 'add', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }] });
    expect(report.runs.map((r) => r.concurrency)).toEqual([1, 2]);
    for (const r of report.runs) {
      expect(r.ok).toBeGreaterThan(0);
      expect(r.failed).toEqual({});
    }
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_BENCH_START', 'DM_BENCH_RUN']));
    // and the report says how long it took, with what, and how the answers spread
    expect(report.durationMs).toBeGreaterThanOrEqual(1000);
    expect(report.settings).toEqual({ concurrency: [1, 2], durationSeconds: 0.5, warmupRequests: 1, target: project.loaded.config.targets.local });
    expect(report.histogram.map((b) => b.counts.length)).toEqual(report.histogram.map(() => 2));
    report.runs.forEach((r, i) => expect(report.histogram.reduce((n, b) => n + b.counts[i], 0)).toBe(r.ok));
  });
});
