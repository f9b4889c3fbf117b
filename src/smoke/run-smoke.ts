// The smoke test: calls a deployment and checks its answers.
import { isDeployModelError } from '../errors.js';
import type { ModelSignature } from '../model/types.js';
import { dtypeFromV2 } from '../model/dtypes.js';
import type { SmokeConfig } from '../config/schema.js';
import { compareOutputs, type OutputTolerance, type V2OutputTensor as ReferenceTensor, type WorstElement } from './compare-outputs.js';
import { readErrorBody } from './error-body.js';
import type { V2Request } from './smoke-input.js';

/** One call to a deployed endpoint: whatever the target, the answer is a v2 response or an error body. */
export interface InferenceCall {
  status: number;
  body: unknown;
  latencyMs: number;
}

export type InferenceClient = (request: V2Request) => Promise<InferenceCall>;

export interface SmokeCheck {
  name: string;
  passed: boolean;
  message: string;
  /** A golden outputs check: the largest absolute error of the output. @default - not a golden check */
  maxAbsError?: number | null;
  /** A golden outputs check: the largest relative error (over the reference's non-zero values). @default - not a golden check */
  maxRelError?: number | null;
  /** A golden outputs check: the tolerance applied. @default - not a golden check */
  tolerance?: OutputTolerance;
  /** A failed golden outputs check: the element furthest outside the tolerance. @default - none */
  element?: WorstElement;
}

export interface SmokeResult {
  status: 'passed' | 'failed';
  latencyMs: { p50: number; max: number };
  checks: SmokeCheck[];
}

interface V2OutputTensor { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown }

/**
 * Outputs the answer must match (golden outputs): given by a target that can compute them, such
 * as the web target, whose bundle holds onnxruntime-node's answer to the smoke request.
 */
export interface SmokeReference {
  /** What computed the outputs, for the checks' names, e.g. `onnxruntime-node`. */
  source: string;
  /** The request the outputs answer: a smoke test that sends another request cannot use them. */
  request: V2Request;
  outputs: ReferenceTensor[];
  /**
   * A number: the largest absolute difference accepted for every value. A function: each
   * output's tolerance (`abs + rel * |expected|`; integer and bool outputs exact).
   */
  tolerance: number | ((output: ReferenceTensor) => OutputTolerance);
  /**
   * Send `request` itself when it is not the smoke request (a golden case of its own); otherwise
   * a reference to another request fails its check.
   * @default false
   */
  sendRequest?: boolean;
  /** The check names' suffix, e.g. `golden outputs (case 2)`. @default - `source` */
  label?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * Sends the smoke request `smoke.requests` times and checks the answer against the signature:
 * status, output names, dtypes, shapes, finite floats, expected shapes, the reference outputs when
 * the target gives them, median latency. Every check says what differed.
 */
export async function runSmoke(options: { signature: ModelSignature; smoke: SmokeConfig; request: V2Request; client: InferenceClient; reference?: SmokeReference; golden?: SmokeReference[] }): Promise<SmokeResult> {
  const { signature, smoke, request, client } = options;
  const checks: SmokeCheck[] = [];
  const latencies: number[] = [];
  let last: InferenceCall | undefined;
  for (let i = 0; i < smoke.requests; i++) {
    try {
      last = await client(request);
    } catch (e) {
      // A coded failure of the call itself (credentials, throttling, a fault of the cloud service)
      // is no verdict on the model: it ends the smoke test as an error that says what to do.
      if (isDeployModelError(e)) throw e;
      checks.push({ name: 'request', passed: false, message: `the request failed: ${(e as Error).message}` });
      return { status: 'failed', latencyMs: { p50: 0, max: 0 }, checks };
    }
    latencies.push(last.latencyMs);
    if (last.status !== 200) break;
  }
  const call = last!;
  const statusOk = call.status === 200;
  const error = readErrorBody(call.body);
  checks.push({
    name: 'status',
    passed: statusOk,
    message: statusOk ? 'HTTP 200' : `HTTP ${call.status}: ${error ? `${error.code ? `${error.code} ` : ''}${error.message}` : JSON.stringify(call.body)?.slice(0, 300)}`,
  });
  // The first request warms the session up (TensorRT engines, lazy allocations): it is not counted
  // when there are others.
  const counted = latencies.length > 1 ? latencies.slice(1) : latencies;
  const sorted = [...counted].sort((a, b) => a - b);
  const latencyMs = { p50: round(percentile(sorted, 50)), max: round(sorted[sorted.length - 1] ?? 0) };
  if (!statusOk) return { status: 'failed', latencyMs, checks };

  const outputs = (call.body as { outputs?: V2OutputTensor[] } | undefined)?.outputs;
  if (!Array.isArray(outputs)) {
    checks.push({ name: 'outputs', passed: false, message: `the response has no outputs array: ${JSON.stringify(call.body)?.slice(0, 200)}` });
    return { status: 'failed', latencyMs, checks };
  }
  const got = new Map(outputs.map((o) => [String(o.name), o]));
  const expectedNames = signature.outputs.map((o) => o.name);
  const missing = expectedNames.filter((n) => !got.has(n));
  const extra = [...got.keys()].filter((n) => !expectedNames.includes(n));
  checks.push({
    name: 'output names',
    passed: missing.length === 0 && extra.length === 0,
    message: missing.length || extra.length
      ? `${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `unexpected ${extra.join(', ')}` : ''}`
      : expectedNames.join(', '),
  });

  for (const spec of signature.outputs) {
    const out = got.get(spec.name);
    if (!out) continue;
    const dtype = typeof out.datatype === 'string' ? dtypeFromV2(out.datatype) : undefined;
    checks.push({
      name: `${spec.name} dtype`,
      passed: dtype === spec.dtype,
      message: dtype === spec.dtype ? String(out.datatype) : `expected ${spec.dtype}, got ${String(out.datatype)}`,
    });
    const shape = Array.isArray(out.shape) ? (out.shape as number[]) : [];
    let shapeProblem: string | undefined;
    if (spec.shape) {
      if (shape.length !== spec.shape.length) shapeProblem = `rank ${shape.length}, the model says ${spec.shape.length} ([${spec.shape.join(', ')}])`;
      else {
        const bad = spec.shape.findIndex((d, i) => typeof d === 'number' && d !== shape[i]);
        if (bad >= 0) shapeProblem = `dim ${bad} is ${shape[bad]}, the model fixes it to ${spec.shape[bad]}`;
      }
    }
    checks.push({ name: `${spec.name} shape`, passed: !shapeProblem, message: shapeProblem ?? `[${shape.join(', ')}]` });
    const expected = smoke.expectShapes?.[spec.name];
    if (expected) {
      const ok = expected.length === shape.length && expected.every((d, i) => d === null || d === shape[i]);
      checks.push({ name: `${spec.name} expected shape`, passed: ok, message: ok ? `[${shape.join(', ')}]` : `expected [${expected.map((d) => d ?? '*').join(', ')}], got [${shape.join(', ')}]` });
    }
    if (spec.dtype.startsWith('float') || spec.dtype === 'bfloat16') {
      const data = Array.isArray(out.data) ? (out.data as unknown[]) : [];
      const firstBad = data.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      checks.push({
        name: `${spec.name} finite`,
        passed: firstBad < 0,
        message: firstBad < 0 ? `${data.length} finite values` : `element ${firstBad} is ${JSON.stringify(data[firstBad])}`,
      });
    }
  }
  for (const name of Object.keys(smoke.expectShapes ?? {})) {
    if (!signature.outputs.some((o) => o.name === name)) {
      checks.push({ name: `${name} expected shape`, passed: false, message: `smoke.expectShapes names '${name}', which is not an output of the model` });
    }
  }
  if (options.reference) checks.push(...referenceChecks(options.reference, request, outputs));
  for (const golden of options.golden ?? []) checks.push(...(await goldenChecks(golden, request, outputs, client)));
  const fast = latencyMs.p50 <= smoke.maxLatencyMs;
  checks.push({ name: 'latency', passed: fast, message: `p50 ${latencyMs.p50} ms ${fast ? '<=' : '>'} maxLatencyMs ${smoke.maxLatencyMs}` });
  return { status: checks.every((c) => c.passed) ? 'passed' : 'failed', latencyMs, checks };
}

/**
 * A golden case: compared with the smoke request's answer when it is that request, else sent once
 * on its own. A call that fails is the case's failed check, with what came back.
 */
async function goldenChecks(reference: SmokeReference, request: V2Request, outputs: V2OutputTensor[], client: InferenceClient): Promise<SmokeCheck[]> {
  if (JSON.stringify(reference.request) === JSON.stringify(request)) return referenceChecks(reference, request, outputs);
  const name = `outputs match ${reference.label ?? reference.source}`;
  let call: InferenceCall;
  try {
    call = await client(reference.request);
  } catch (e) {
    if (isDeployModelError(e)) throw e;
    return [{ name, passed: false, message: `the request failed: ${(e as Error).message}` }];
  }
  const answer = (call.body as { outputs?: V2OutputTensor[] } | undefined)?.outputs;
  if (call.status !== 200 || !Array.isArray(answer)) {
    const error = readErrorBody(call.body);
    return [{ name, passed: false, message: `HTTP ${call.status}: ${error ? error.message : JSON.stringify(call.body)?.slice(0, 300)}` }];
  }
  return referenceChecks(reference, reference.request, answer);
}

/** One check per reference output: the answer's values within the tolerance of the reference's, with the errors measured. */
function referenceChecks(reference: SmokeReference, request: V2Request, outputs: V2OutputTensor[]): SmokeCheck[] {
  const label = reference.label ?? reference.source;
  if (JSON.stringify(reference.request) !== JSON.stringify(request) && !reference.sendRequest) {
    return [{ name: `outputs match ${label}`, passed: false, message: `the reference outputs answer another request than the smoke request (smoke.input or model.inputs changed since the build): build again with DEPLOY_MODEL_NO_BUILD_CACHE=1` }];
  }
  const actual = outputs.map((o) => ({ name: String(o.name), datatype: String(o.datatype), shape: Array.isArray(o.shape) ? (o.shape as number[]) : [], data: Array.isArray(o.data) ? o.data : [] }));
  return compareOutputs({ outputs: reference.outputs }, { outputs: actual }, reference.tolerance)
    .map((c) => ({
      name: `${c.name} matches ${label}`, passed: c.passed, message: c.message,
      ...(c.maxRelDiff !== undefined ? { maxAbsError: finiteOrNull(c.maxAbsDiff), maxRelError: finiteOrNull(c.maxRelDiff) } : {}),
      ...(c.tolerance && typeof reference.tolerance !== 'number' ? { tolerance: c.tolerance } : {}),
      ...(c.worst ? { element: c.worst } : {}),
    }));
}

/** JSON has no Infinity: an error without a finite size (a shape or NaN mismatch) is null. */
const finiteOrNull = (n: number | null): number | null => (n !== null && Number.isFinite(n) ? n : null);
