// In-process onnxruntime throughput, the reference the server benchmarks are measured against.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveOrtPath } from '../../handlers/pool/resolve-ort-path.js';

/**
 * In-process onnxruntime throughput: a fresh process whose `loops` worker threads each run their
 * own session (with `intraOpThreads`, the server's sessions options) back to back for `durationMs`
 * on the same input. The reference for the server: onnxruntime with the same thread budget and
 * nothing else.
 */
const SCRIPT = String.raw`'use strict';
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const cfg = isMainThread ? JSON.parse(process.argv[2]) : workerData;
function fill(n) { const out = new Float32Array(n); let s = 3; for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 32; } return out; }
if (isMainThread) {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: cfg.loops }, () => new Worker(__filename, { workerData: { ...cfg, flag } }));
  const ready = workers.map((w) => new Promise((r) => w.once('message', r)));
  Promise.all(ready).then(async () => {
    const done = workers.map((w) => new Promise((r) => w.once('message', r)));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    workers.forEach((w) => w.postMessage('start'));
    setTimeout(() => Atomics.store(flag, 0, 1), cfg.durationMs);
    const results = await Promise.all(done);
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const latencies = results.flatMap((r) => r.latencies);
    process.stdout.write(JSON.stringify({ runs: latencies.length, seconds, cpuMs: (c.user + c.system) / 1000, latencies }));
    workers.forEach((w) => w.terminate());
  });
} else {
  const ort = require(cfg.ortPath);
  (async () => {
    const session = await ort.InferenceSession.create(cfg.modelPath, { graphOptimizationLevel: 'all', intraOpNumThreads: cfg.intraOpThreads, interOpNumThreads: 1, executionMode: 'sequential' });
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', fill(cfg.shape.reduce((a, b) => a * b, 1)), cfg.shape) };
    await session.run(feeds);
    parentPort.once('message', async () => {
      const latencies = [];
      while (Atomics.load(cfg.flag, 0) === 0) {
        const t = performance.now();
        const out = await session.run(feeds);
        latencies.push(performance.now() - t);
        for (const k in out) out[k].dispose();
      }
      parentPort.postMessage({ latencies });
    });
    parentPort.postMessage('ready');
  })();
}
`;

export interface OrtLoopResult {
  /** Runs per second over all loops. */
  throughput: number;
  /** CPU milliseconds (the whole process) per run. */
  cpuPerRun: number;
  p50: number;
  p99: number;
}

export async function runOrtLoop(options: { modelPath: string; shape: readonly number[]; loops: number; intraOpThreads: number; durationMs: number }): Promise<OrtLoopResult> {
  const dir = await mkdtemp(join(tmpdir(), 'deploy-model-bench-ort-'));
  try {
    const file = join(dir, 'ort-loop.cjs');
    await writeFile(file, SCRIPT);
    const { stdout } = await promisify(execFile)(process.execPath, [file, JSON.stringify({ ...options, ortPath: resolveOrtPath() })], { maxBuffer: 64 * 1024 * 1024 });
    const r = JSON.parse(stdout) as { runs: number; seconds: number; cpuMs: number; latencies: number[] };
    const sorted = r.latencies.sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
    return { throughput: r.runs / r.seconds, cpuPerRun: r.cpuMs / Math.max(1, r.runs), p50: at(50), p99: at(99) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ROW_COST_SCRIPT = String.raw`'use strict';
const ort = require(process.env.ORT_PATH);
const cfg = JSON.parse(process.argv[2]);
(async () => {
  const session = await ort.InferenceSession.create(cfg.modelPath, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const out = {};
  for (let round = 0; round < 3; round++) {
    for (const b of cfg.batches) {
      const shape = [b, ...cfg.shape.slice(1)];
      const n = shape.reduce((a, c) => a * c, 1);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (i % 251) / 251;
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
      for (let i = 0; i < 2; i++) await session.run(feeds);
      const runs = Math.max(3, Math.round(48 / b));
      const c0 = process.cpuUsage();
      for (let i = 0; i < runs; i++) await session.run(feeds);
      const c = process.cpuUsage(c0);
      (out[b] = out[b] || []).push((c.user + c.system) / 1000 / runs / b);
    }
  }
  for (const b of Object.keys(out)) out[b] = out[b].sort((x, y) => x - y)[1];
  process.stdout.write(JSON.stringify(out));
})();
`;

/**
 * onnxruntime's own CPU per row (one intra-op thread, median of 3 rounds) at each batch size: the
 * most dynamic batching can gain on a model is its per-row cost alone over its per-row cost in a
 * batch.
 */
export async function ortRowCost(modelPath: string, shape: readonly number[], batches: readonly number[]): Promise<Record<number, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'deploy-model-bench-rows-'));
  try {
    const file = join(dir, 'row-cost.cjs');
    await writeFile(file, ROW_COST_SCRIPT);
    const { stdout } = await promisify(execFile)(process.execPath, [file, JSON.stringify({ modelPath, shape, batches })], { env: { ...process.env, ORT_PATH: resolveOrtPath() } });
    return JSON.parse(stdout) as Record<number, number>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
