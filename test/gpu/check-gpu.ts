/**
 * GPU check for the Triton + TensorRT path, for a machine with an NVIDIA GPU. Not a vitest file:
 * CI has no GPU and the test suite never depends on this. Run it from the package folder:
 *
 *   npx tsx test/gpu/check-gpu.ts [--model cls|det|rec|<path.onnx>] [--precision fp16|fp32] [--iterations 50]
 *
 * It builds the Triton model repository and the SageMaker model.tar.gz for a real model with the
 * project's own code, then checks what this machine allows and prints its figures:
 *
 * - the GPU, driver and compute capability (nvidia-smi);
 * - onnxruntime-node with the TensorRT, CUDA and CPU providers, each alone: session creation,
 *   first run (TensorRT builds its engine there), a second session (reads the engine cache),
 *   p50/p90 latency, and the largest difference from the CPU result. onnxruntime-node ships its
 *   GPU providers only when installed without `ONNXRUNTIME_NODE_INSTALL=skip` (its postinstall
 *   downloads them for CUDA 12); the node binding takes TensorRT options from ORT_TENSORRT_*
 *   environment variables only, which this script sets;
 * - Triton, when `tritonserver` is on PATH (e.g. inside nvcr.io/nvidia/tritonserver:<release>-py3
 *   with Node added) or named by TRITONSERVER: time until the model is ready (warmup builds the
 *   engines), the v2 inference latency and the answer's difference from the CPU result.
 *
 * Exit code: 0 when every check that could run passed, 1 when one failed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { inspectModel } from '../../src/model/inspect-model.js';
import { dtypeFromV2, ortType } from '../../src/model/dtypes.js';
import { generateSmokeRequest, type V2Request } from '../../src/smoke/smoke-input.js';
import { buildTritonRepository, packTritonRepository, planTritonConfig, tritonOptionsSchema } from '../../src/kits/triton/index.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const modelArg = args.get('model') ?? 'cls';
const modelPath = (REAL_MODELS as Record<string, string>)[modelArg] ?? path.resolve(modelArg);
const precision = (args.get('precision') ?? 'fp16') as 'fp16' | 'fp32';
const iterations = Number(args.get('iterations') ?? 50);

let failed = false;
const line = (label: string, value: string) => console.log(`${label.padEnd(34)} ${value}`);
const ms = (n: number) => `${n.toFixed(1)} ms`;
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

function gpuFacts(): boolean {
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,compute_cap', '--format=csv,noheader'], { encoding: 'utf8' });
  if (smi.status !== 0 || !smi.stdout.trim()) {
    line('GPU', 'none (nvidia-smi not found or failed): the GPU checks below will report their providers missing');
    return false;
  }
  for (const gpu of smi.stdout.trim().split('\n')) line('GPU', gpu.trim());
  return true;
}

function feeds(request: V2Request): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const t of request.inputs) {
    const type = ortType(dtypeFromV2(t.datatype)!) as ort.Tensor.Type;
    out[t.name] = new ort.Tensor(type, t.data as never, t.shape);
  }
  return out;
}

function flatOutputs(results: Record<string, { data: unknown }>): number[] {
  return Object.values(results).flatMap((t) => Array.from(t.data as ArrayLike<number>, Number));
}

const maxDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] ?? Number.NaN))), 0);

/** One provider alone: no fallback, so a missing provider shows as an error rather than CPU figures. */
async function checkProvider(provider: 'tensorrt' | 'cuda' | 'cpu', input: Record<string, ort.Tensor>, reference: number[] | undefined, cacheDir: string): Promise<number[] | undefined> {
  if (provider === 'tensorrt') {
    process.env.ORT_TENSORRT_ENGINE_CACHE_ENABLE = '1';
    process.env.ORT_TENSORRT_CACHE_PATH = cacheDir;
    process.env.ORT_TENSORRT_FP16_ENABLE = precision === 'fp16' ? '1' : '0';
  }
  const label = `onnxruntime ${provider}${provider === 'tensorrt' ? ` ${precision}` : ''}`;
  try {
    let t = performance.now();
    const session = await ort.InferenceSession.create(modelPath, { executionProviders: [provider], graphOptimizationLevel: 'all' });
    const create = performance.now() - t;
    t = performance.now();
    const first = flatOutputs(await session.run(input) as never);
    const firstRun = performance.now() - t;
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      t = performance.now();
      await session.run(input);
      times.push(performance.now() - t);
    }
    await session.release();
    line(label, `create ${ms(create)}, first run ${ms(firstRun)}, p50 ${ms(percentile(times, 50))}, p90 ${ms(percentile(times, 90))} over ${iterations}`);
    if (reference) line(`  max |${provider} - cpu|`, maxDiff(first, reference).toExponential(2));
    if (provider === 'tensorrt') {
      const cached = existsSync(cacheDir) ? readdirSync(cacheDir) : [];
      line('  engine cache files', cached.length ? cached.join(', ') : 'none (the binding did not take ORT_TENSORRT_CACHE_PATH)');
      t = performance.now();
      const again = await ort.InferenceSession.create(modelPath, { executionProviders: [provider] });
      await again.run(input);
      line('  second session, first run', `${ms(performance.now() - t)} (engine ${cached.length ? 'read from the cache' : 'built again'})`);
      await again.release();
    }
    return first;
  } catch (e) {
    line(label, `unavailable: ${(e as Error).message.split('\n')[0]}`);
    if (provider !== 'cpu') line('', 'GPU providers need onnxruntime-node installed without ONNXRUNTIME_NODE_INSTALL=skip, and CUDA 12 / TensorRT libraries on LD_LIBRARY_PATH');
    else failed = true;
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Triton serving the generated repository, when a tritonserver binary is available. */
async function checkTriton(repoRoot: string, modelName: string, request: V2Request, reference: number[] | undefined): Promise<void> {
  const binary = process.env.TRITONSERVER ?? (spawnSync('which', ['tritonserver'], { encoding: 'utf8' }).stdout.trim() || undefined);
  if (!binary) {
    line('triton', 'skipped: no tritonserver on PATH (set TRITONSERVER, or run inside the NGC Triton image)');
    return;
  }
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const started = performance.now();
  const server: ChildProcess = spawn(binary, [`--model-repository=${repoRoot}`, `--http-port=${http}`, `--grpc-port=${grpc}`, `--metrics-port=${metrics}`, '--log-verbose=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr!.on('data', (d) => { log = (log + d).slice(-4000); });
  try {
    const base = `http://127.0.0.1:${http}`;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`tritonserver exited with ${server.exitCode}:\n${log}`);
      const ready = await fetch(`${base}/v2/models/${modelName}/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (performance.now() - started > 30 * 60_000) throw new Error(`not ready after 30 minutes:\n${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    line('triton ready (warmup + TensorRT)', ms(performance.now() - started));
    const times: number[] = [];
    let body: { outputs?: Array<{ data: number[] }>; error?: string } = {};
    for (let i = 0; i < iterations; i++) {
      const t = performance.now();
      const res = await fetch(`${base}/v2/models/${modelName}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
      body = await res.json() as typeof body;
      times.push(performance.now() - t);
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
    }
    line('triton v2 JSON request', `p50 ${ms(percentile(times, 50))}, p90 ${ms(percentile(times, 90))} over ${iterations} (HTTP, JSON encoding included)`);
    if (reference) line('  max |triton - cpu|', maxDiff(body.outputs!.flatMap((o) => o.data), reference).toExponential(2));
  } catch (e) {
    failed = true;
    line('triton', `FAILED: ${(e as Error).message}`);
  } finally {
    server.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  console.log(`deploy-model GPU check: ${path.basename(modelPath)}, precision ${precision}, node ${process.version}, ${os.cpus().length} CPUs\n`);
  gpuFacts();
  const work = await mkdtemp(path.join(os.tmpdir(), 'dm-gpu-check-'));
  try {
    const signature = await inspectModel(modelPath);
    const request = generateSmokeRequest(signature);
    const name = 'model';
    const options = tritonOptionsSchema.parse({ precision });

    // The repository exactly as the SageMaker target ships it, and its archive.
    const t = performance.now();
    const sagemaker = planTritonConfig({ signature, modelName: name, host: 'aws-sagemaker', options });
    const shipped = await buildTritonRepository({ signature, config: sagemaker, outDir: path.join(work, 'sagemaker'), engineCacheDir: 'trt_engine_cache' });
    const archive = await packTritonRepository(shipped.root, path.join(work, 'model.tar.gz'));
    line('repository + model.tar.gz', `${ms(performance.now() - t)}, ${(archive.bytes / 1e6).toFixed(2)} MB, sha256 ${archive.sha256.slice(0, 12)}`);

    // The same configuration served here: only the engine cache moves to a local folder.
    const local = planTritonConfig({ signature, modelName: name, host: 'container', options: { ...options, engineCachePath: path.join(work, 'triton-engines') } });
    const repo = await buildTritonRepository({ signature, config: local, outDir: path.join(work, 'local') });

    const input = feeds(request);
    const reference = await checkProvider('cpu', input, undefined, '');
    await checkProvider('cuda', input, reference, '');
    await checkProvider('tensorrt', input, reference, path.join(work, 'ort-engines'));
    await checkTriton(repo.root, name, request, reference);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
