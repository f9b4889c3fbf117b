/**
 * 4. Server throughput and p50/p99 latency at concurrency 1, 8 and 32 vs in-process onnxruntime
 * with the same thread budget; and dynamic batching on vs off.
 *
 * The server is handlers/serve.ts bundled as the container target bundles it, in its own process,
 * with its defaults (a worker pool sized to the CPUs, one intra-op thread per session). The load
 * comes from autocannon in this process, over keep-alive connections, with the input in the v2
 * binary tensor format and the outputs asked for in binary. The reference is a fresh process
 * whose worker threads (as many as the server's workers that the concurrency can keep busy) run
 * their own sessions back to back on the same input. Server and reference alternate, per
 * concurrency, for several rounds; figures are medians over rounds.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poolSize } from '../handlers/pool/pool-size.js';
import { load, type LoadResult } from './_lib/autocannon.js';
import { writeMlpModel } from './_lib/mlp-model.js';
import { BENCH_MODELS, elements, floats, type BenchModel } from './_lib/models.js';
import { runOrtLoop } from './_lib/ort-loop.js';
import { bundleServer, startServerProcess } from './_lib/serve-process.js';
import { median, QUICK, ratio, table } from './_lib/stats.js';

const SECONDS = QUICK ? 2 : 4;
const ROUNDS = QUICK ? 1 : 3;
const CONCURRENCY = [1, 8, 32];
const size = poolSize();
const BATCH = 16;

function binaryBody(model: BenchModel): { body: Buffer; headers: Record<string, string> } {
  const data = floats(elements(model.shape), 3);
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: model.input, shape: model.shape, datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }],
    parameters: { binary_data_output: true },
  }));
  return { body: Buffer.concat([header, Buffer.from(data.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in 100 Hz ticks
}

interface Drive extends LoadResult {
  throughput: number;
  /** CPU per answered request, ms: in session.run, the rest of the server process, the load generator. */
  cpu: { compute: number; server: number; client: number };
}

async function computeNs(url: string, model: BenchModel): Promise<number> {
  const stats = await (await fetch(`${url}/v2/models/${model.name}/stats`)).json() as { model_stats: { inference_stats: { compute_infer: { ns: number } } }[] };
  return stats.model_stats[0].inference_stats.compute_infer.ns;
}

async function drive(server: { url: string; proc: { pid?: number } }, model: BenchModel, connections: number, seconds = SECONDS): Promise<Drive> {
  const { body, headers } = binaryBody(model);
  const [serverCpu0, client0, compute0] = [processCpuMs(server.proc.pid!), process.cpuUsage(), await computeNs(server.url, model)];
  const r = await load({ url: `${server.url}/v2/models/${model.name}/infer`, connections, duration: seconds, method: 'POST', headers, body });
  const client = process.cpuUsage(client0);
  const compute = ((await computeNs(server.url, model)) - compute0) / 1e6;
  const serverCpu = processCpuMs(server.proc.pid!) - serverCpu0;
  if (r.non2xx || r.errors) throw new Error(`the server answered ${r.non2xx} non-2xx and ${r.errors} errors at concurrency ${connections}`);
  const n = Math.max(1, r['2xx']);
  return { ...r, throughput: r['2xx'] / seconds, cpu: { compute: compute / n, server: Math.max(0, serverCpu - compute) / n, client: (client.user + client.system) / 1000 / n } };
}

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-server-'));
const bundle = await bundleServer(work);
const summary: string[] = [];
console.log(`Server vs in-process onnxruntime, ${size.workers} workers × ${size.intraOpThreads} thread on ${size.cpus} CPUs, ${ROUNDS} rounds of ${SECONDS} s per side, medians; binary tensors\n`);
try {
  const rows: (string | number)[][] = [['model', 'conc.', 'server req/s', 'p50', 'p99', 'in-process runs/s', 'p50', 'p99', 'ratio']];
  const cpuRows: (string | number)[][] = [['model', 'session.run', 'rest of the server', 'load generator', 'share of the CPU left to onnxruntime']];
  for (const model of [BENCH_MODELS.small, BENCH_MODELS.large]) {
    const server = await startServerProcess(bundle, model.path, model.name);
    try {
      await drive(server, model, 8, 1);
      for (const c of CONCURRENCY) {
        const loops = Math.min(c, size.workers);
        const s: Drive[] = [];
        const o: Awaited<ReturnType<typeof runOrtLoop>>[] = [];
        for (let r = 0; r < ROUNDS; r++) {
          const ref = () => runOrtLoop({ modelPath: model.path, shape: model.shape, loops, intraOpThreads: size.intraOpThreads, durationMs: SECONDS * 1000 });
          if (r % 2 === 0) { s.push(await drive(server, model, c)); o.push(await ref()); } else { o.push(await ref()); s.push(await drive(server, model, c)); }
        }
        const st = median(s.map((x) => x.throughput));
        const ot = median(o.map((x) => x.throughput));
        rows.push([model.name, c, st.toFixed(1), `${median(s.map((x) => x.latency.p50))} ms`, `${median(s.map((x) => x.latency.p99))} ms`,
          ot.toFixed(1), `${median(o.map((x) => x.p50)).toFixed(1)} ms`, `${median(o.map((x) => x.p99)).toFixed(1)} ms`, ratio(st / ot)]);
        if (c === 32) {
          summary.push(`server/in-process ${model.name} ${ratio(st / ot)}`);
          const cpu = (k: keyof Drive['cpu']) => median(s.map((x) => x.cpu[k]));
          const total = cpu('compute') + cpu('server') + cpu('client');
          cpuRows.push([model.name, `${cpu('compute').toFixed(2)} ms`, `${cpu('server').toFixed(2)} ms`, `${cpu('client').toFixed(2)} ms`, `${(cpu('compute') / total).toFixed(2)}`]);
        }
      }
    } finally {
      await server.stop();
    }
  }
  console.log(table(rows));
  console.log(`\nCPU per request at concurrency 32 (server process from /proc, session.run from its statistics, autocannon from process.cpuUsage).\nOn ${size.cpus} CPUs shared by all three, the ratio cannot exceed the share left to onnxruntime:`);
  console.log(table(cpuRows));

  // Batching: the same load, merged into batches or not, on models with a dynamic batch dim.
  const mlpPath = join(work, 'mlp.onnx');
  const mlp: BenchModel = { name: 'mlp', path: mlpPath, input: 'x', shape: await writeMlpModel(mlpPath) };
  const batchRows: (string | number)[][] = [['model', 'batching on req/s', 'p99', 'mean batch', 'batching off req/s', 'p99', 'ratio']];
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
      batchRows.push([model.name, ta.toFixed(1), `${median(a.map((x) => x.latency.p99))} ms`, (merged / runs).toFixed(1), tb.toFixed(1), `${median(b.map((x) => x.latency.p99))} ms`, ratio(ta / tb)]);
      summary.push(`batching on/off ${model.name} ${ratio(ta / tb)}`);
    } finally {
      await Promise.all([on.stop(), off.stop()]);
    }
  }
  console.log(`\nDynamic batching at concurrency 32 (DM_MAX_BATCH_SIZE=${BATCH}, DM_MAX_QUEUE_DELAY_MS=2); mlp is a 1024-2048-1024 dense model, cls the OCR classifier:`);
  console.log(table(batchRows));
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`\nratio at concurrency 32: ${summary.join('; ')}`);
