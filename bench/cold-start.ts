/**
 * 2. Cold start: a fresh process running the bundled Lambda artifact to its first answer, vs a
 * fresh process doing only node start, require('onnxruntime-node'), session create and one run.
 *
 * The artifact is built as `deploy-model` builds it (function zip and pruned layer) and laid out
 * as Lambda lays it out (code in the task root, the layer on NODE_PATH), outside any project so it
 * loads only what the deployed function would. Its process imports `index.mjs` (which loads the
 * model at init) and calls the handler once with a Function URL event; the bare process does the
 * minimum. The same model, input values and session options on both sides. Processes alternate;
 * times are from spawn to the answer on stdout, medians over rounds, and each process reports
 * its own steps.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildOrtLayer } from '../layers/build-layer.js';
import { encodeBase64Tensor } from '../handlers/core/base64.js';
import { buildFunctionArtifact } from '../src/bundling/build-function-artifact.js';
import { layoutFunction } from '../src/lambda-emulator/layout-function.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { hostArchitecture } from '../src/targets/local/plan.js';
import { BENCH_MODELS, elements, floats } from './_lib/models.js';
import { median, ms, QUICK, ratio, table } from './_lib/stats.js';

const ROUNDS = QUICK ? 4 : 10;
const model = BENCH_MODELS.small;

// Both runners fill the input the same way (the LCG of _lib/models.ts), so the runs are the same.
const FILL = `function fill(n) { const out = new Float32Array(n); let s = 3; for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; out[i] = s / 2 ** 32; } return out; }`;

const ARTIFACT_RUNNER = `import { readFileSync } from 'node:fs';
const start = performance.now();
const { handler } = await import(process.env.BENCH_HANDLER_URL);
const init = performance.now();
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT, 'utf8'));
const res = await handler(event);
const answer = performance.now();
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ status: res.statusCode, steps: { 'node start': start, 'import index.mjs (require onnxruntime, read signature, create session)': init - start, 'first answer (handler)': answer - init }, total: answer, cpu: (cpu.user + cpu.system) / 1000 }) + '\\n');
`;

const RAW_RUNNER = `'use strict';
${FILL}
const start = performance.now();
const ort = require('onnxruntime-node');
const required = performance.now();
(async () => {
  const session = await ort.InferenceSession.create(process.env.BENCH_MODEL, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const created = performance.now();
  const shape = JSON.parse(process.env.BENCH_SHAPE);
  await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', fill(shape.reduce((a, b) => a * b, 1)), shape) });
  const answer = performance.now();
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ status: 200, steps: { 'node start': start, "require('onnxruntime-node')": required - start, 'session create': created - required, 'first run': answer - created }, total: answer, cpu: (cpu.user + cpu.system) / 1000 }) + '\\n');
})();
`;

interface Run { wallMs: number; total: number; cpu: number; steps: Record<string, number> }

function runProcess(file: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let wallMs: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      if (wallMs === undefined) wallMs = performance.now() - t0;
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const line = JSON.parse(out.trim().split('\n')[0]) as { status: number; total: number; cpu: number; steps: Record<string, number> };
        if (code !== 0 || line.status !== 200) throw new Error(`exit ${code}, status ${line.status}`);
        resolve({ wallMs: wallMs!, total: line.total, cpu: line.cpu, steps: line.steps });
      } catch (e) {
        reject(new Error(`${file} failed (${(e as Error).message}):\n${out}\n${err}`));
      }
    });
  });
}

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-cold-'));
try {
  // GIVEN the artifact exactly as deploy builds it, laid out as Lambda would
  const signature = await inspectModel(model.path);
  const fn = await buildFunctionArtifact({ modelPath: model.path, signature, outDir: join(work, 'build', 'function') });
  const layer = await buildOrtLayer({ architecture: hostArchitecture(), outDir: join(work, 'build', 'layer') });
  const layout = await layoutFunction({ codeZip: fn.zip.file, layers: [layer.zip.file], workDir: join(work, 'fn') });
  const nodePath = join(layout.optDir, 'nodejs', 'node_modules');
  const body = JSON.stringify({ inputs: [{ name: model.input, shape: model.shape, datatype: 'FP32', data: encodeBase64Tensor(floats(elements(model.shape), 3)), parameters: { content_encoding: 'base64' } }] });
  const eventFile = join(work, 'event.json');
  await writeFile(eventFile, JSON.stringify({
    version: '2.0', rawPath: `/v2/models/${model.name}/infer`, headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: `/v2/models/${model.name}/infer` } }, body, isBase64Encoded: false,
  }));
  const artifactRunner = join(work, 'artifact-runner.mjs');
  const rawRunner = join(work, 'raw-runner.cjs');
  await writeFile(artifactRunner, ARTIFACT_RUNNER);
  await writeFile(rawRunner, RAW_RUNNER);

  const artifact = () => runProcess(artifactRunner, {
    LAMBDA_TASK_ROOT: layout.taskRoot, NODE_PATH: nodePath, DM_MODEL_NAME: model.name,
    BENCH_HANDLER_URL: pathToFileURL(join(layout.taskRoot, 'index.mjs')).href, BENCH_EVENT: eventFile,
  });
  const raw = () => runProcess(rawRunner, { NODE_PATH: nodePath, BENCH_MODEL: join(layout.taskRoot, 'model', 'model.onnx'), BENCH_SHAPE: JSON.stringify(model.shape) });
  const empty = join(work, 'empty.cjs');
  await writeFile(empty, `const c = process.cpuUsage(); process.stdout.write(JSON.stringify({ status: 200, steps: {}, total: performance.now(), cpu: (c.user + c.system) / 1000 }) + '\\n');`);

  // WHEN both run in fresh processes, alternating
  await artifact();
  await raw();
  const runs = { artifact: [] as Run[], raw: [] as Run[], empty: [] as Run[] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['artifact', 'raw'] as const) : (['raw', 'artifact'] as const);
    for (const side of order) runs[side].push(await (side === 'artifact' ? artifact() : raw()));
    runs.empty.push(await runProcess(empty, {}));
  }

  // THEN
  const wall = (side: keyof typeof runs) => median(runs[side].map((x) => x.wallMs));
  const steps = (side: 'artifact' | 'raw') => Object.keys(runs[side][0].steps).map((k) => [`  ${k}`, ms(median(runs[side].map((x) => x.steps[k])), 1)]);
  console.log(`Cold start of ${model.name} (${(signature.bytes / 1e6).toFixed(1)} MB), ${ROUNDS} alternating fresh processes each, medians\n`);
  const cpu = (side: keyof typeof runs) => median(runs[side].map((x) => x.cpu));
  console.log(table([
    ['', 'spawn to first answer', 'process start to answer', 'CPU to answer'],
    ['bundled artifact (index.mjs + layer)', ms(wall('artifact'), 1), ms(median(runs.artifact.map((x) => x.total)), 1), ms(cpu('artifact'), 1)],
    ['bare node + require + create + run', ms(wall('raw'), 1), ms(median(runs.raw.map((x) => x.total)), 1), ms(cpu('raw'), 1)],
    ['empty node process (for scale)', ms(wall('empty'), 1), ms(median(runs.empty.map((x) => x.total)), 1), ms(cpu('empty'), 1)],
  ]));
  console.log(`\nsteps, bundled artifact:\n${table([['step', 'median'], ...steps('artifact')])}`);
  console.log(`\nsteps, bare process:\n${table([['step', 'median'], ...steps('raw')])}`);
  console.log(`\nhandler bundle ${fn.handlerBytes} bytes; layer ${(layer.zip.bytes / 1e6).toFixed(1)} MB zipped`);
  console.log(`\nratio cold start artifact/bare: ${ratio(wall('artifact') / wall('raw'))} (spawn to first answer; CPU ${ratio(cpu('artifact') / cpu('raw'))})`);
} finally {
  await rm(work, { recursive: true, force: true });
}
