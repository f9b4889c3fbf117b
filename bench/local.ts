/**
 * 6. The local target's overhead: an HTTP request to a local deployment vs `session.run` in this
 * process, on a tiny model, one request at a time.
 *
 * The deployment is what the local target runs: the function zip and the pruned layer as
 * `deploy-model build` makes them, under the project's Lambda emulator (its Runtime API, the
 * managed-runtime stand-in, the Function URL server), started with `startLocalFunction`. The client
 * sends the v2 request over one keep-alive connection and waits for each answer before the next.
 * The reference runs the same model in this process with the same session options (one intra-op
 * thread on both sides). The figure is the difference of the medians (p50) of the two sides'
 * per-request latencies, alternating in blocks. To show where the time goes, two more rungs are
 * measured between them: `invoke()` of the local function from this process (the emulator and
 * the runtime, without the Function URL's HTTP), and the Lambda handler called in this process
 * with the Function URL event (the adapter alone).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildOrtLayer } from '../layers/build-layer.js';
import { createInferenceCore } from '../handlers/core/create-inference-core.js';
import { createLambdaHandler } from '../handlers/lambda/create-lambda-handler.js';
import { buildFunctionArtifact } from '../src/bundling/build-function-artifact.js';
import { startLocalFunction } from '../src/lambda-emulator/index.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { writeMlpModel } from './_lib/mlp-model.js';
import { floats, elements } from './_lib/models.js';
import { median, ms, percentile, QUICK, ratio, table } from './_lib/stats.js';

const ROUNDS = QUICK ? 4 : 10;
const PER_BLOCK = QUICK ? 25 : 60;
const AIM_MS = 1;

/** One POST on a keep-alive connection; resolves with the status once the whole answer is in. */
function post(agent: http.Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU time (user + system) a process has used, in ms; 0 where /proc cannot tell. */
function processCpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

async function latencies(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-local-'));
try {
  // GIVEN a tiny dense model, deployed as the local target deploys it
  const modelPath = join(work, 'tiny.onnx');
  const shape = await writeMlpModel(modelPath, 256, 512);
  const signature = await inspectModel(modelPath);
  const fnZip = await buildFunctionArtifact({ modelPath, signature, outDir: join(work, 'function') });
  const layer = await buildOrtLayer({ architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64', outDir: join(work, 'layer'), cacheDir: join(tmpdir(), 'deploy-model-bench-layers') });
  const env = { DM_MODEL_NAME: 'tiny', DM_INTRA_OP_THREADS: '1' };
  const fn = await startLocalFunction({
    functionName: 'bench-local', handler: 'index.handler', codeZip: fnZip.zip.file, layers: [layer.zip.file],
    env, memoryMb: 1024, timeoutSeconds: 30, functionUrlAuthType: 'NONE', workDir: join(work, 'fn'),
  });
  const values = floats(elements(shape), 5);
  const body = JSON.stringify({ inputs: [{ name: 'x', shape, datatype: 'FP32', data: Array.from(values) }] });
  const url = new URL('/v2/models/tiny/infer', fn.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const event = {
    version: '2.0', rawPath: url.pathname, rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' }, stage: '$default' },
    body, isBase64Encoded: false,
  };

  // The in-process sides: the same model and session options.
  const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const feeds = { x: new ort.Tensor('float32', values, shape) };
  const core = await createInferenceCore({ modelPath, signature, modelName: 'tiny', intraOpThreads: 1, log: () => {} });
  const handler = createLambdaHandler(core);

  const sides = {
    http: async () => { const s = await post(agent, url, body); if (s !== 200) throw new Error(`the local deployment answered ${s}`); },
    invoke: async () => { const r = await fn.invoke(event); if (r.functionError) throw new Error(r.rawPayload.toString()); },
    handler: async () => { const r = await handler(JSON.parse(JSON.stringify(event))) as { statusCode: number }; if (r.statusCode !== 200) throw new Error(String(r.statusCode)); },
    run: async () => { const out = await session.run(feeds); for (const t of Object.values(out)) t.dispose(); },
  };
  type Side = keyof typeof sides;
  const order: Side[] = ['http', 'invoke', 'handler', 'run'];
  for (const side of order) await latencies(20, sides[side]);

  // WHEN the sides alternate in blocks of sequential requests
  const times: Record<Side, number[]> = { http: [], invoke: [], handler: [], run: [] };
  const runtimePid = fn.stats().pid;
  const cpu = { self: 0, runtime: 0, requests: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of r % 2 === 0 ? order : [...order].reverse()) {
      const c0 = process.cpuUsage();
      const t0 = processCpuMs(runtimePid);
      times[side].push(...await latencies(PER_BLOCK, sides[side]));
      if (side !== 'http') continue;
      const c = process.cpuUsage(c0);
      cpu.self += (c.user + c.system) / 1000;
      cpu.runtime += processCpuMs(runtimePid) - t0;
      cpu.requests += PER_BLOCK;
    }
  }
  const stats = fn.stats();
  agent.destroy();
  await fn.stop();
  await session.release();
  await core.close();

  // THEN
  const p50 = (side: Side) => median(times[side]);
  const labels: Record<Side, string> = {
    http: 'HTTP request to the local deployment',
    invoke: 'invoke() of the local function (no Function URL)',
    handler: 'Lambda handler in this process (event in, result out)',
    run: 'session.run in this process',
  };
  console.log(`Local target vs in-process run, tiny model (${shape.join('x')} input), ${ROUNDS} alternating blocks of ${PER_BLOCK} sequential requests\n`);
  console.log(table([
    ['', 'p50', 'p90', 'p99', 'p50 − run p50'],
    ...order.map((side) => [labels[side], ms(p50(side), 3), ms(percentile(times[side], 90), 3), ms(percentile(times[side], 99), 3), ms(p50(side) - p50('run'), 3)]),
  ]));
  console.log(`\nwhere the overhead goes: Function URL HTTP front ${ms(p50('http') - p50('invoke'), 3)}, emulator and runtime hop ${ms(p50('invoke') - p50('handler'), 3)}, Lambda adapter ${ms(p50('handler') - p50('run'), 3)}`);
  console.log(`CPU per HTTP request: ${ms(cpu.self / cpu.requests, 3)} in this process (client, Function URL server, emulator), ${ms(cpu.runtime / cpu.requests, 3)} in the runtime process (bootstrap, handler, run); 100 Hz ticks, so a rough figure`);
  console.log(`runtime's node: ${stats.runtimeNode ? JSON.stringify(stats.runtimeNode) : 'unknown'}`);
  const overhead = p50('http') - p50('run');
  console.log(`\nratio local/in-process p50: ${ratio(p50('http') / p50('run'))} (overhead ${ms(overhead, 2)}, aim ≤ ${AIM_MS} ms)`);
} finally {
  await rm(work, { recursive: true, force: true });
}
