/**
 * Cold start by model size: a fresh process running the Lambda function's files (handler bundle,
 * model with its external data, signature, the onnxruntime layer on NODE_PATH, laid out as Lambda
 * lays out an unzipped package) to its first answer, vs a fresh process doing only node start,
 * require('onnxruntime-node'), session create and one run on the same file, at three generated
 * model sizes (10 MB, 200 MB, 1 GB; BENCH_SIZES_MB=10,200 to choose).
 *
 * The model sums its weights, which sit in external data (bench/_lib/sized-model.ts), so its
 * cold start is the cost of loading and touching that many bytes. The function's files are laid out
 * from a folder with the zip's layout rather than from the zip: deflating 1 GB takes minutes, and
 * Lambda unzips before init anyway. Past 250 MB Lambda refuses such a package.
 *
 * A third side, S3 at init (aws-lambda `weights: 's3'`): the same function files without the model,
 * whose handler fetches the weights at init from an S3 stand-in on loopback (a plain HTTP server in
 * this process streaming the files; no network, no signature check), checks their sha256 and
 * writes them to a fresh /tmp folder before loading them. Not measured: a container image's start
 * (its pull is Lambda's), and anything of Lambda's own (code download, image pulls, S3's bandwidth).
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildOrtLayer } from '../layers/build-layer.js';
import { FUNCTION_LAYOUT, signatureJson } from '../src/bundling/build-function-artifact.js';
import { sha256File } from '../src/bundling/hash.js';
import { bundleHandler } from '../src/bundling/bundle-handler.js';
import { layoutFunction } from '../src/lambda-emulator/layout-function.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { hostArchitecture } from '../src/targets/local/plan.js';
import { SIZED_MODEL_WIDTH, writeSizedModel } from './_lib/sized-model.js';
import { median, ms, QUICK, ratio, table } from './_lib/stats.js';

const SIZES_MB = (process.env.BENCH_SIZES_MB ?? (QUICK ? '10,200' : '10,200,1000')).split(',').map(Number);
const ROUNDS = QUICK ? 2 : 5;

const ARTIFACT_RUNNER = `import { readFileSync } from 'node:fs';
const start = performance.now();
const { handler } = await import(process.env.BENCH_HANDLER_URL);
const init = performance.now();
const res = await handler(JSON.parse(readFileSync(process.env.BENCH_EVENT, 'utf8')));
const answer = performance.now();
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ status: res.statusCode, steps: { init: init - start, 'first answer': answer - init }, total: answer, cpu: (cpu.user + cpu.system) / 1000 }) + '\\n');
`;

const RAW_RUNNER = `'use strict';
const start = performance.now();
const ort = require('onnxruntime-node');
(async () => {
  const session = await ort.InferenceSession.create(process.env.BENCH_MODEL, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const created = performance.now();
  await session.run({ x: new ort.Tensor('float32', new Float32Array(${SIZED_MODEL_WIDTH}), [${SIZED_MODEL_WIDTH}]) });
  const answer = performance.now();
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ status: 200, steps: { 'require + session create': created - start, 'first run': answer - created }, total: answer, cpu: (cpu.user + cpu.system) / 1000 }) + '\\n');
})();
`;

interface Run { wallMs: number; cpu: number; steps: Record<string, number> }

function runProcess(file: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let wallMs: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // The answer's line, not a log line the handler printed at init.
      if (out.includes('{"status"')) wallMs ??= performance.now() - t0;
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const line = JSON.parse(out.trim().split('\n').find((l) => l.startsWith('{"status"'))!) as { status: number; cpu: number; steps: Record<string, number> };
        if (code !== 0 || line.status !== 200) throw new Error(`exit ${code}, status ${line.status}`);
        resolve({ wallMs: wallMs!, cpu: line.cpu, steps: line.steps });
      } catch (e) {
        reject(new Error(`${file} failed (${(e as Error).message}):\n${out}\n${err}`));
      }
    });
  });
}

/** The S3 stand-in: GET /<bucket>/<key> streams the file `objects` maps the key to. */
const objects = new Map<string, string>();
const s3 = createServer((req, res) => {
  const file = objects.get(decodeURIComponent((req.url ?? '').replace(/^\/weights\//, '')));
  if (!file) {
    res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
    return;
  }
  res.writeHead(200, { 'content-type': 'binary/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise<void>((r) => s3.listen(0, '127.0.0.1', r));
const s3Endpoint = `http://127.0.0.1:${(s3.address() as AddressInfo).port}`;

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-size-'));
try {
  const layer = await buildOrtLayer({ architecture: hostArchitecture(), outDir: join(work, 'layer') });
  const handler = await bundleHandler({ outfile: join(work, 'handler', FUNCTION_LAYOUT.handler) });
  const artifactRunner = join(work, 'artifact-runner.mjs');
  const rawRunner = join(work, 'raw-runner.cjs');
  await writeFile(artifactRunner, ARTIFACT_RUNNER);
  await writeFile(rawRunner, RAW_RUNNER);
  const rows: string[][] = [];
  const ratios: string[] = [];
  const stepRows: string[][] = [];
  for (const sizeMb of SIZES_MB) {
    // GIVEN the function's files for a model of this size, laid out as Lambda would
    const dir = join(work, `${sizeMb}mb`);
    const modelDir = join(dir, 'src');
    const codeDir = join(dir, 'code');
    await mkdir(modelDir, { recursive: true });
    await mkdir(join(codeDir, FUNCTION_LAYOUT.modelDir), { recursive: true });
    const modelFile = await writeSizedModel(modelDir, sizeMb * 1e6);
    const signature = await inspectModel(modelFile);
    await copyFile(handler.file, join(codeDir, FUNCTION_LAYOUT.handler));
    await copyFile(modelFile, join(codeDir, FUNCTION_LAYOUT.model));
    for (const data of signature.externalData) await copyFile(join(modelDir, data), join(codeDir, FUNCTION_LAYOUT.modelDir, data));
    await writeFile(join(codeDir, FUNCTION_LAYOUT.signature), signatureJson(signature));
    await rm(modelDir, { recursive: true });
    const layout = await layoutFunction({ codeDir, layers: [layer.zip.file], workDir: join(dir, 'fn') });
    // The S3 side's function: the same files less the model, which the stand-in serves.
    const s3CodeDir = join(dir, 's3-code');
    await mkdir(join(s3CodeDir, FUNCTION_LAYOUT.modelDir), { recursive: true });
    await copyFile(handler.file, join(s3CodeDir, FUNCTION_LAYOUT.handler));
    await writeFile(join(s3CodeDir, FUNCTION_LAYOUT.signature), signatureJson(signature));
    const weights = join(dir, 'weights');
    await mkdir(weights, { recursive: true });
    const modelObjects: Array<{ uri: string; file: string; sha256: string; bytes: number }> = [];
    for (const name of ['model.onnx', ...signature.externalData]) {
      const file = join(weights, name);
      await copyFile(join(codeDir, FUNCTION_LAYOUT.modelDir, name), file);
      objects.set(`${sizeMb}mb/${name}`, file);
      modelObjects.push({ uri: `s3://weights/${sizeMb}mb/${name}`, file: name, sha256: await sha256File(file), bytes: (await stat(file)).size });
    }
    const s3Layout = await layoutFunction({ codeDir: s3CodeDir, layers: [layer.zip.file], workDir: join(dir, 's3-fn') });
    await rm(s3CodeDir, { recursive: true });
    await rm(codeDir, { recursive: true });
    const s3Tmp = join(dir, 's3-tmp');
    const nodePath = join(layout.optDir, 'nodejs', 'node_modules');
    const eventFile = join(dir, 'event.json');
    const path = '/v2/models/sized/infer';
    await writeFile(eventFile, JSON.stringify({
      version: '2.0', rawPath: path, headers: { 'content-type': 'application/json' }, requestContext: { http: { method: 'POST', path } },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [SIZED_MODEL_WIDTH], datatype: 'FP32', data: new Array(SIZED_MODEL_WIDTH).fill(0) }] }), isBase64Encoded: false,
    }));
    const artifact = () => runProcess(artifactRunner, {
      LAMBDA_TASK_ROOT: layout.taskRoot, NODE_PATH: nodePath, DM_MODEL_NAME: 'sized',
      BENCH_HANDLER_URL: pathToFileURL(join(layout.taskRoot, FUNCTION_LAYOUT.handler)).href, BENCH_EVENT: eventFile,
    });
    const raw = () => runProcess(rawRunner, { NODE_PATH: nodePath, BENCH_MODEL: join(layout.taskRoot, FUNCTION_LAYOUT.model) });
    // Each S3 run is a new execution environment: an empty /tmp, so the weights are fetched again.
    const fromS3 = async () => {
      await rm(s3Tmp, { recursive: true, force: true });
      return runProcess(artifactRunner, {
        LAMBDA_TASK_ROOT: s3Layout.taskRoot, NODE_PATH: nodePath, DM_MODEL_NAME: 'sized', DM_WEIGHTS_DIR: s3Tmp,
        DM_MODEL_OBJECTS: JSON.stringify(modelObjects), AWS_ENDPOINT_URL_S3: s3Endpoint, AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: 'bench',
        BENCH_HANDLER_URL: pathToFileURL(join(s3Layout.taskRoot, FUNCTION_LAYOUT.handler)).href, BENCH_EVENT: eventFile,
      });
    };

    // WHEN both run in fresh processes, alternating (one warm-up each: the files enter the page cache)
    await artifact();
    await raw();
    await fromS3();
    const runs = { artifact: [] as Run[], raw: [] as Run[], s3: [] as Run[] };
    const sides = { artifact, raw, s3: fromS3 };
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of r % 2 === 0 ? (['artifact', 'raw', 's3'] as const) : (['s3', 'raw', 'artifact'] as const)) {
        runs[side].push(await sides[side]());
      }
    }
    for (const name of ['model.onnx', ...signature.externalData]) objects.delete(`${sizeMb}mb/${name}`);
    await rm(dir, { recursive: true, force: true });

    // THEN
    const wall = (side: keyof typeof runs) => median(runs[side].map((x) => x.wallMs));
    const cpu = (side: keyof typeof runs) => median(runs[side].map((x) => x.cpu));
    const label = `${sizeMb} MB`;
    rows.push([label, ms(wall('artifact'), 0), ms(wall('s3'), 0), ms(wall('raw'), 0), ratio(wall('artifact') / wall('raw')), ratio(wall('s3') / wall('raw')), ms(cpu('artifact'), 0), ms(cpu('s3'), 0), ms(cpu('raw'), 0), ratio(cpu('artifact') / cpu('raw')), ratio(cpu('s3') / cpu('raw'))]);
    for (const side of ['artifact', 's3', 'raw'] as const) {
      for (const step of Object.keys(runs[side][0]!.steps)) stepRows.push([label, side, step, ms(median(runs[side].map((x) => x.steps[step]!)), 0)]);
    }
    ratios.push(`${label} zip ${ratio(wall('artifact') / wall('raw'))} s3 ${ratio(wall('s3') / wall('raw'))}`);
  }
  console.log(`Cold start by model size (a sum over weights kept in external data), ${ROUNDS} alternating fresh processes per side, medians\n`);
  console.log(table([['model', 'zip files: spawn to answer', 'S3 at init', 'bare', 'zip / bare', 'S3 / bare', 'zip CPU', 'S3 CPU', 'bare CPU', 'zip CPU ratio', 'S3 CPU ratio'], ...rows]));
  console.log(`\nsteps:\n${table([['model', 'side', 'step', 'median'], ...stepRows])}`);
  console.log("\nnot measured here: a container image's start (the same files under /var/task and /opt: its first answer is the zip side's once the image is pulled, and the pull is Lambda's); S3's own bandwidth (the stand-in is on loopback); Lambda's code download.");
  console.log(`\nratio cold start function files/bare by size: ${ratios.join(', ')}`);
} finally {
  s3.close();
  await rm(work, { recursive: true, force: true });
}
