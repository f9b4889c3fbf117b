/**
 * 1. The Lambda handler end to end vs raw `session.run` on the same input.
 *
 * Handler side: what Lambda's runtime does around the handler included, i.e. the Function URL
 * event as JSON text is parsed, `handler(event)` runs (routing, JSON body parsing, validation,
 * tensor decoding, the run, output encoding, the 6 MB response check), and its result is
 * serialised. Raw side: `session.run` of an InferenceSession created with the same options, fed the
 * same values as typed arrays. Both in this process, alternating in rounds; the figure is the
 * median over rounds of each round's median. JSON is the v2 JSON body; base64 sends the input and
 * asks for the outputs as base64 raw bytes (the Lambda adapter's compact path).
 *
 * Also measured, in the same rounds: what Lambda's runtime does around any handler (parse the
 * event, serialise the result) on these very events and results. No handler can go below
 * (raw + that) / raw, printed as the floor.
 */
import * as ort from 'onnxruntime-node';
import { createInferenceCore } from '../handlers/core/create-inference-core.js';
import { encodeBase64Tensor } from '../handlers/core/base64.js';
import { createLambdaHandler } from '../handlers/lambda/create-lambda-handler.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { BENCH_MODELS, elements, floats, type BenchModel } from './_lib/models.js';
import { median, ms, QUICK, ratio, table, timeBlock } from './_lib/stats.js';

const ROUNDS = QUICK ? 4 : 12;
// One intra-op thread on both sides: on a shared 2-core machine, onnxruntime's default (a thread
// per core, spinning while idle) makes every figure swing with the neighbours' load.
const THREADS = 1;

function functionUrlEvent(modelName: string, body: string): string {
  return JSON.stringify({
    version: '2.0', rawPath: `/v2/models/${modelName}/infer`, rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: `/v2/models/${modelName}/infer`, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' }, stage: '$default' },
    body, isBase64Encoded: false,
  });
}

interface Case { label: string; model: BenchModel; encoding: 'json' | 'base64' }

interface Measured { raw: number; handler: number; rawCpu: number; handlerCpu: number; runtimeCpu: number }

async function measure(c: Case, perRound: number): Promise<Measured> {
  const signature = await inspectModel(c.model.path);
  const core = await createInferenceCore({ modelPath: c.model.path, signature, modelName: c.model.name, intraOpThreads: THREADS, log: () => {} });
  const handler = createLambdaHandler(core);
  const session = await ort.InferenceSession.create(c.model.path, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: THREADS });
  const data = floats(elements(c.model.shape), 3);
  const tensor = c.encoding === 'json'
    ? { name: c.model.input, shape: c.model.shape, datatype: 'FP32', data: Array.from(data) }
    : { name: c.model.input, shape: c.model.shape, datatype: 'FP32', data: encodeBase64Tensor(data), parameters: { content_encoding: 'base64' } };
  const body = JSON.stringify({ inputs: [tensor], ...(c.encoding === 'base64' ? { parameters: { output_encoding: 'base64' } } : {}) });
  const event = functionUrlEvent(c.model.name, body);
  const feeds = { [c.model.input]: new ort.Tensor('float32', data, c.model.shape) };

  const runHandler = async () => {
    const result = (await handler(JSON.parse(event))) as { statusCode: number; body: string };
    if (result.statusCode !== 200) throw new Error(`the handler answered ${result.statusCode}: ${result.body.slice(0, 300)}`);
    return JSON.stringify(result);
  };
  const runRaw = async () => {
    const out = await session.run(feeds);
    for (const t of Object.values(out)) t.dispose();
  };
  for (let i = 0; i < 3; i++) { await runHandler(); await runRaw(); }
  // What Lambda's runtime does around any handler, on this handler's result: the floor of the ratio.
  const result = await handler(JSON.parse(event));
  const runtimeOnly = () => { JSON.parse(event); return JSON.stringify(result); };

  // Short alternating blocks, so both sides see the same machine; per-block medians.
  const raw: { wall: number; cpu: number }[] = [];
  const handled: { wall: number; cpu: number }[] = [];
  const runtime: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) { raw.push(await timeBlock(perRound, runRaw)); handled.push(await timeBlock(perRound, runHandler)); } else { handled.push(await timeBlock(perRound, runHandler)); raw.push(await timeBlock(perRound, runRaw)); }
    runtime.push(await timeBlock(perRound, runtimeOnly));
  }
  await session.release();
  await core.close();
  const m = (xs: { wall: number; cpu: number }[], k: 'wall' | 'cpu') => median(xs.map((x) => x[k]));
  return { raw: m(raw, 'wall'), handler: m(handled, 'wall'), rawCpu: m(raw, 'cpu'), handlerCpu: m(handled, 'cpu'), runtimeCpu: m(runtime, 'cpu') };
}

const cases: Case[] = [
  { label: `small (${BENCH_MODELS.small.name}), JSON`, model: BENCH_MODELS.small, encoding: 'json' },
  { label: `small (${BENCH_MODELS.small.name}), base64`, model: BENCH_MODELS.small, encoding: 'base64' },
  { label: `large (${BENCH_MODELS.large.name}), JSON`, model: BENCH_MODELS.large, encoding: 'json' },
  { label: `large (${BENCH_MODELS.large.name}), base64`, model: BENCH_MODELS.large, encoding: 'base64' },
];

const rows: (string | number)[][] = [['case', 'raw wall', 'handler wall', 'ratio', 'raw CPU', 'handler CPU', 'CPU ratio', 'runtime CPU', 'floor']];
const results: Record<string, number> = {};
for (const c of cases) {
  const r = await measure(c, c.model === BENCH_MODELS.small ? (QUICK ? 10 : 25) : (QUICK ? 3 : 6));
  rows.push([c.label, ms(r.raw), ms(r.handler), ratio(r.handler / r.raw), ms(r.rawCpu), ms(r.handlerCpu), ratio(r.handlerCpu / r.rawCpu), ms(r.runtimeCpu), ratio((r.rawCpu + r.runtimeCpu) / r.rawCpu)]);
  results[c.label] = r.handlerCpu / r.rawCpu;
}
console.log(`Lambda handler vs raw session.run (one intra-op thread), ${ROUNDS} alternating blocks per case, medians per call\n`);
console.log(table(rows));
console.log('\nCPU time (this process, all threads) is the steadier figure on a shared machine; wall time moves with the neighbours.');
console.log('"runtime CPU" is what Lambda\'s runtime itself does around any handler (JSON.parse of the event, JSON.stringify of the result);');
console.log('"floor" is (raw + runtime) / raw, the ratio a handler that did nothing else would have.');
console.log(`\nratio handler/raw (CPU time): ${cases.map((c) => `${c.label} ${ratio(results[c.label])}`).join('; ')}`);
