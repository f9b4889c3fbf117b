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
 */
import * as ort from 'onnxruntime-node';
import { createInferenceCore } from '../handlers/core/create-inference-core.js';
import { encodeBase64Tensor } from '../handlers/core/base64.js';
import { createLambdaHandler } from '../handlers/lambda/create-lambda-handler.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { BENCH_MODELS, elements, floats, type BenchModel } from './_lib/models.js';
import { median, ms, QUICK, ratio, table, timeEach } from './_lib/stats.js';

const ROUNDS = QUICK ? 3 : 8;
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

async function measure(c: Case, perRound: number): Promise<{ raw: number; handler: number; ratio: number }> {
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
  await runHandler();
  await runRaw();

  const raws: number[] = [];
  const handlers: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const first = r % 2 === 0;
    if (first) raws.push(median(await timeEach(perRound, runRaw)));
    handlers.push(median(await timeEach(perRound, runHandler)));
    if (!first) raws.push(median(await timeEach(perRound, runRaw)));
  }
  await session.release();
  await core.close();
  const raw = median(raws);
  const h = median(handlers);
  return { raw, handler: h, ratio: h / raw };
}

const cases: Case[] = [
  { label: `small (${BENCH_MODELS.small.name}), JSON`, model: BENCH_MODELS.small, encoding: 'json' },
  { label: `small (${BENCH_MODELS.small.name}), base64`, model: BENCH_MODELS.small, encoding: 'base64' },
  { label: `large (${BENCH_MODELS.large.name}), JSON`, model: BENCH_MODELS.large, encoding: 'json' },
  { label: `large (${BENCH_MODELS.large.name}), base64`, model: BENCH_MODELS.large, encoding: 'base64' },
];

const rows: (string | number)[][] = [['case', 'raw session.run', 'handler end to end', 'ratio']];
const results: Record<string, number> = {};
for (const c of cases) {
  const r = await measure(c, c.model === BENCH_MODELS.small ? (QUICK ? 10 : 20) : (QUICK ? 3 : 5));
  rows.push([c.label, ms(r.raw), ms(r.handler), ratio(r.ratio)]);
  results[c.label] = r.ratio;
}
console.log(`Lambda handler vs raw session.run, ${ROUNDS} interleaved rounds, median of medians\n`);
console.log(table(rows));
console.log(`\nratio handler/raw: ${cases.map((c) => `${c.label} ${ratio(results[c.label])}`).join('; ')}`);
