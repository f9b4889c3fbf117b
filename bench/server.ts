/**
 * 4. Server throughput and p50/p99 latency at concurrency 1, 8 and 32 vs in-process onnxruntime
 * with the same thread budget; and dynamic batching on vs off.
 *
 * The server is handlers/server-entry.ts bundled as the container target bundles it, in its own process.
 * The load comes from autocannon in this process, over keep-alive connections, with the input in
 * the v2 binary tensor format and the outputs asked for in binary. The reference is a fresh
 * process whose worker threads (as many as the server's workers that the concurrency can keep
 * busy, with the same session options) run their own sessions back to back on the same input.
 * Server and reference alternate, per concurrency, for several rounds; figures are medians over
 * rounds. CPU time is read per thread from /proc, to show where a request's CPU goes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poolSize } from '../handlers/pool/pool-size.js';
import { load, type LoadResult } from './_lib/autocannon.js';
import { writeMlpModel } from './_lib/mlp-model.js';
import { BENCH_MODELS, elements, floats, type BenchModel } from './_lib/models.js';
import { ortRowCost, runOrtLoop, type OrtLoopResult } from './_lib/ort-loop.js';
import { bundleServer, startServerProcess, type ServerProcess } from './_lib/serve-process.js';
import { median, QUICK, ratio, table } from './_lib/stats.js';

const SECONDS = QUICK ? 2 : 4;
const ROUNDS = QUICK ? 1 : 3;
const CONCURRENCY = [1, 8, 32];
const BATCH = 16;
const size = poolSize();

function binaryBody(model: BenchModel): { body: Buffer; headers: Record<string, string> } {
  const data = floats(elements(model.shape), 3);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: model.input, shape: model.shape, datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
    parameters: { binary_data_output: true },
  }));
  return { body: Buffer.concat([header, Buffer.from(data.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
}

/** CPU (user + system) used so far, ms: the process's main thread, and all its other threads. */
function serverCpuMs(pid: number): { main: number; others: number } {
  const ticks = (file: string) => {
    const f = readFileSync(file, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, 100 Hz
  };
  let all = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) all += ticks(`/proc/${pid}/task/${tid}/stat`);
  const main = ticks(`/proc/${pid}/task/${pid}/stat`);
  return { main, others: all - main };
}

interface Drive extends LoadResult {
  throughput: number;
  /** CPU per answered request, ms: the server's main thread (HTTP, codec, queue), its workers (onnxruntime), the load generator. */
  cpu: { main: number; workers: number; client: number };
}

async function drive(server: ServerProcess, model: BenchModel, connections: number, seconds = SECONDS): Promise<Drive> {
  const { body, headers } = binaryBody(model);
  const s0 = serverCpuMs(server.proc.pid!);
  const c0 = process.cpuUsage();
  const r = await load({ url: `${server.url}/v2/models/${model.name}/infer`, connections, duration: seconds, method: 'POST', headers, body });
  const c = process.cpuUsage(c0);
  const s1 = serverCpuMs(server.proc.pid!);
  if (r.non2xx || r.errors) throw new Error(`the server answered ${r.non2xx} non-2xx and ${r.errors} errors at concurrency ${connections}`);
  const n = Math.max(1, r['2xx']);
  return { ...r, throughput: r['2xx'] / seconds, cpu: { main: (s1.main - s0.main) / n, workers: (s1.others - s0.others) / n, client: (c.user + c.system) / 1000 / n } };
}

/** Server and reference, alternating, `ROUNDS` times. */
async function compare(server: ServerProcess, model: BenchModel, connections: number, loops: number, intraOpThreads: number) {
  const s: Drive[] = [];
  const o: OrtLoopResult[] = [];
  const ref = () => runOrtLoop({ modelPath: model.path, shape: model.shape, loops, intraOpThreads, durationMs: SECONDS * 1000 });
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) { s.push(await drive(server, model, connections)); o.push(await ref()); } else { o.push(await ref()); s.push(await drive(server, model, connections)); }
  }
  const server_ = median(s.map((x) => x.throughput));
  const inProcess = median(o.map((x) => x.throughput));
  // Requests per CPU-second of the server process vs runs per CPU-second of the reference: what
  // the throughput ratio would be with the CPUs to themselves (no neighbours, no load generator).
  const cpuRatio = median(o.map((x) => x.cpuPerRun)) / median(s.map((x) => x.cpu.main + x.cpu.workers));
  return {
    ratio: server_ / inProcess,
    cpuRatio,
    row: [model.name, connections, server_.toFixed(1), `${median(s.map((x) => x.latency.p50))} ms`, `${median(s.map((x) => x.latency.p99))} ms`,
      inProcess.toFixed(1), `${median(o.map((x) => x.p50)).toFixed(1)} ms`, `${median(o.map((x) => x.p99)).toFixed(1)} ms`, ratio(server_ / inProcess), ratio(cpuRatio)],
    cpu: (['main', 'workers', 'client'] as const).map((k) => median(s.map((x) => x.cpu[k]))),
  };
}

const HEAD = ['model', 'conc.', 'server req/s', 'p50', 'p99', 'in-process runs/s', 'p50', 'p99', 'ratio', 'per CPU-s'];
const CPU_HEAD = ['model', 'server main thread', 'server workers', 'load generator', 'workers\' share'];
const cpuRow = (name: string, [main, workers, client]: number[]) => [name, `${main.toFixed(2)} ms`, `${workers.toFixed(2)} ms`, `${client.toFixed(2)} ms`, (workers / (main + workers + client)).toFixed(2)];

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-server-'));
const bundle = await bundleServer(work);
const summary: string[] = [];
console.log(`Server vs in-process onnxruntime on ${size.cpus} CPUs, ${ROUNDS} rounds of ${SECONDS} s per side, medians; binary tensors in and out\n`);
try {
  const models = [BENCH_MODELS.small, BENCH_MODELS.large];

  // A. The server's defaults: a worker per CPU, one intra-op thread each.
  const rows: (string | number)[][] = [HEAD];
  const cpuRows: (string | number)[][] = [CPU_HEAD];
  for (const model of models) {
    const server = await startServerProcess(bundle, model.path, model.name);
    try {
      await drive(server, model, 8, 1);
      for (const c of CONCURRENCY) {
        const r = await compare(server, model, c, Math.min(c, size.workers), size.intraOpThreads);
        rows.push(r.row);
        if (c === 32) {
          summary.push(`server/in-process ${model.name} ${ratio(r.ratio)} (per CPU-second ${ratio(r.cpuRatio)})`);
          cpuRows.push(cpuRow(model.name, r.cpu));
        }
      }
    } finally {
      await server.stop();
    }
  }
  console.log(`A. Defaults: ${size.workers} workers × ${size.intraOpThreads} thread; the reference runs min(concurrency, ${size.workers}) sessions.\n   "per CPU-s": server requests per CPU-second of the server process / reference runs per CPU-second`);
  console.log(table(rows));
  console.log('\nCPU per request at concurrency 32. The load generator and the server\'s main thread share the same CPUs as the workers,\nso the ratio cannot exceed the workers\' share:');
  console.log(table(cpuRows));

  // B. One worker, one thread: onnxruntime's budget is one CPU on both sides, the rest is left to HTTP and the load generator.
  if (size.cpus > 1) {
    const rowsB: (string | number)[][] = [HEAD];
    const cpuB: (string | number)[][] = [CPU_HEAD];
    for (const model of models) {
      const server = await startServerProcess(bundle, model.path, model.name, { DM_WORKERS: '1', DM_INTRA_OP_THREADS: '1' });
      try {
        await drive(server, model, 8, 1);
        const r = await compare(server, model, 32, 1, 1);
        rowsB.push(r.row);
        cpuB.push(cpuRow(model.name, r.cpu));
        summary.push(`one worker ${model.name} ${ratio(r.ratio)} (per CPU-second ${ratio(r.cpuRatio)})`);
      } finally {
        await server.stop();
      }
    }
    console.log('\nB. DM_WORKERS=1: one onnxruntime thread on both sides, the other CPU free for HTTP and the load generator');
    console.log(table(rowsB));
    console.log(table(cpuB));
  }

  // C. Batching: the same load, merged into batches or not, on models with a dynamic batch dim.
  const mlpPath = join(work, 'mlp.onnx');
  const mlp: BenchModel = { name: 'mlp', path: mlpPath, input: 'x', shape: await writeMlpModel(mlpPath) };
  const batchRows: (string | number)[][] = [['model', 'batching on req/s', 'p99', 'mean batch', 'batching off req/s', 'p99', 'ratio', 'per CPU-s', 'onnxruntime alone']];
  for (const model of [mlp, BENCH_MODELS.small]) {
    const off = await startServerProcess(bundle, model.path, model.name);
    const on = await startServerProcess(bundle, model.path, model.name, { DM_MAX_BATCH_SIZE: String(BATCH), DM_MAX_QUEUE_DELAY_MS: '2' });
    try {
      await drive(off, model, 8, 1);
      await drive(on, model, 8, 1);
      const a: Drive[] = [];
      const b: Drive[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        if (r % 2 === 0) { a.push(await drive(on, model, 32)); b.push(await drive(off, model, 32)); } else { b.push(await drive(off, model, 32)); a.push(await drive(on, model, 32)); }
      }
      const stats = await (await fetch(`${on.url}/v2/models/${model.name}/stats`)).json() as { deploy_model: { batches: { batch_size: number; runs: number }[] } };
      const runs = stats.deploy_model.batches.reduce((n, x) => n + x.runs, 0);
      const merged = stats.deploy_model.batches.reduce((n, x) => n + x.runs * x.batch_size, 0);
      const [ta, tb] = [median(a.map((x) => x.throughput)), median(b.map((x) => x.throughput))];
      const serverCpu = (xs: Drive[]) => median(xs.map((x) => x.cpu.main + x.cpu.workers));
      const cpuRatio = serverCpu(b) / serverCpu(a);
      // What onnxruntime itself gains from batches of this size: the bound on the ratio, beside
      // the per-request costs (HTTP, thread hops) that batching does not remove.
      const meanBatch = Math.max(1, Math.round(merged / runs));
      const rowCost = await ortRowCost(model.path, model.shape, [1, meanBatch]);
      const ortGain = rowCost[1] / rowCost[meanBatch];
      batchRows.push([model.name, ta.toFixed(1), `${median(a.map((x) => x.latency.p99))} ms`, (merged / runs).toFixed(1), tb.toFixed(1), `${median(b.map((x) => x.latency.p99))} ms`, ratio(ta / tb), ratio(cpuRatio), ratio(ortGain)]);
      summary.push(`batching on/off ${model.name} ${ratio(ta / tb)} (per CPU-second ${ratio(cpuRatio)}; onnxruntime alone at batch ${meanBatch} ${ratio(ortGain)})`);
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
  }
  console.log(`\nC. Dynamic batching at concurrency 32 (DM_MAX_BATCH_SIZE=${BATCH}, DM_MAX_QUEUE_DELAY_MS=2), default workers; mlp is a dense 1024-2048-1024 model, cls the OCR classifier.\n   "onnxruntime alone": its CPU per row at batch 1 over its CPU per row at the mean batch (one thread, in a process of its own), the gain batching can pass on`);
  console.log(table(batchRows));
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`\nratio at concurrency 32: ${summary.join('; ')}`);
