/**
 * The traffic steps of a canary or linear rollout, run by the rollout core on every target whose
 * platform can split traffic: give the new version a share, let it serve, then smoke-test it
 * (golden outputs included) and probe the split endpoint against the alarms. The first step that
 * fails stops the rollout, naming the step, the check and what was measured.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrafficPlan } from '../config/rollout-schema.js';
import type { InferenceClient, SmokeCheck, SmokeResult } from '../smoke/run-smoke.js';
import type { V2Request } from '../smoke/smoke-input.js';
import { isDeployModelError } from '../errors.js';
import type { Candidate, TargetContext, TargetDriver } from '../targets/driver.js';
import type { Smoke } from './rollout.js';

/** What one step measured. */
export interface TrafficStepReport {
  step: number;
  percent: number;
  /** Milliseconds from the start of the traffic steps to the start of this one. */
  startedAtMs: number;
  /** Milliseconds the step took: the shift, the wait and the checks. */
  durationMs: number;
  smoke: SmokeResult['status'];
  probe: { requests: number; errors: number; errorRate: number; p99Ms: number };
  passed: boolean;
}

export interface TrafficStepsResult {
  steps: TrafficStepReport[];
  /** The check that stopped the rollout, when one did. */
  failure?: SmokeCheck;
  /** The failed step's smoke result, when its smoke test failed. */
  smoke?: SmokeResult;
}

/** Sends `count` requests through the split endpoint: the share that failed and the p99 latency. */
async function probe(client: InferenceClient, request: V2Request, count: number): Promise<TrafficStepReport['probe'] & { firstError?: string }> {
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    try {
      const call = await client(request);
      latencies.push(call.latencyMs);
      if (call.status !== 200) {
        errors++;
        firstError ??= `HTTP ${call.status}: ${JSON.stringify(call.body)?.slice(0, 200)}`;
      }
    } catch (e) {
      // A coded fault of the cloud service (credentials, throttling) is no verdict on the version.
      if (isDeployModelError(e)) throw e;
      errors++;
      firstError ??= (e as Error).message;
    }
  }
  const sorted = latencies.sort((a, b) => a - b);
  const p99Ms = sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! * 10) / 10 : 0;
  return { requests: count, errors, errorRate: errors / count, p99Ms, ...(firstError ? { firstError } : {}) };
}

export async function runTrafficSteps(options: {
  ctx: TargetContext; driver: TargetDriver; candidate: Candidate; traffic: TrafficPlan; smoke: Smoke; request: V2Request; signal?: AbortSignal;
}): Promise<TrafficStepsResult> {
  const { ctx, driver, candidate, traffic, smoke, request, signal } = options;
  const { alarms } = traffic;
  const began = performance.now();
  const steps: TrafficStepReport[] = [];
  for (const [i, percent] of traffic.percents.entries()) {
    const started = performance.now();
    const step = i + 1;
    const name = `traffic step ${step} of ${traffic.percents.length} (${percent} %)`;
    ctx.io.info('DM_ROLLOUT_STEP', `${ctx.targetName}: ${name}: giving version ${candidate.version} ${percent} % of the requests, version ${candidate.previous} the rest`, { step, percent, version: candidate.version, previous: candidate.previous });
    await driver.rollout.shift!(ctx, candidate, percent);
    if (traffic.intervalSeconds > 0) await sleep(traffic.intervalSeconds * 1000, undefined, signal ? { signal } : {}).catch(() => undefined);
    // The alarms first (what users met through the split), then the new version's own smoke test.
    const measured = await probe(candidate.liveClient!, request, alarms.probeRequests);
    const result = await smoke(candidate.client, candidate.reference);
    const { firstError, ...probeReport } = measured;
    const report = (passed: boolean): TrafficStepReport => ({ step, percent, startedAtMs: Math.round(started - began), durationMs: Math.round(performance.now() - started), smoke: result.status, probe: probeReport, passed });
    let failure: SmokeCheck | undefined;
    if (measured.errorRate > alarms.maxErrorRate) {
      failure = { name, passed: false, message: `error rate alarm: ${measured.errorRate} (${measured.errors} of ${measured.requests} probe requests through the split endpoint) > maxErrorRate ${alarms.maxErrorRate}; first error: ${firstError}` };
    } else if (alarms.maxP99LatencyMs !== undefined && measured.p99Ms > alarms.maxP99LatencyMs) {
      failure = { name, passed: false, message: `p99 latency alarm: ${measured.p99Ms} ms over ${measured.requests} probe requests through the split endpoint > maxP99LatencyMs ${alarms.maxP99LatencyMs}` };
    } else if (result.status !== 'passed') {
      const failed = result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`);
      failure = { name, passed: false, message: `the smoke test of version ${candidate.version} failed at ${percent} %: ${failed.join('; ')}` };
    }
    steps.push(report(!failure));
    ctx.io.info('DM_ROLLOUT_STEP_DONE', `${ctx.targetName}: ${name}: ${failure ? `failed: ${failure.message}` : `passed (smoke ${result.status}, error rate ${measured.errorRate}, p99 ${measured.p99Ms} ms)`}`, steps[steps.length - 1]);
    if (failure) return { steps, failure, ...(result.status !== 'passed' ? { smoke: result } : {}) };
    if (signal?.aborted) return { steps, failure: { name, passed: false, message: `the deploy was interrupted after ${percent} %` } };
  }
  return { steps };
}
