// aws-lambda linear rollout through the CLI against the AWS fake: alias routing weights step by step, checked at each step; an alarm at the second step moves all traffic back.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN y = x + bias models (three versions), an aws-lambda target with a linear rollout of two
// steps (10 %, then 50 % of the requests on the new version), golden outputs recorded at build,
// and the AWS fake, whose alias routes requests by its RoutingConfig weights as Lambda does.
const REGION = 'us-east-1';

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;
let lambda: LambdaClient;
let functionName: string;

const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' }, timeoutMs: 300_000 });

/** The `live` alias as the fake holds it: its version and routing weights, sampled every 5 ms while `work` runs. */
async function watchAlias<R>(work: () => Promise<R>): Promise<{ result: R; seen: Array<{ version: string; weights: Record<string, number> }> }> {
  const seen: Array<{ version: string; weights: Record<string, number> }> = [];
  const sample = () => {
    const alias = fake.state.lambda.functions.get(functionName)?.aliases.get('live');
    if (!alias) return;
    const entry = { version: alias.functionVersion, weights: { ...alias.routingConfig?.AdditionalVersionWeights } };
    const last = seen[seen.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(entry)) seen.push(entry);
  };
  const timer = setInterval(sample, 5);
  try {
    const result = await work();
    sample();
    return { result, seen };
  } finally {
    clearInterval(timer);
  }
}

async function invokeLive(): Promise<string | undefined> {
  const r = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] })) }));
  return r.ExecutedVersion;
}

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  lambda = new LambdaClient({});
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-canary-'));
  await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 4]));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}', rollout: { strategy: 'linear', steps: [10, 50], intervalSeconds: 0, alarms: { probeRequests: 20 } } } },
    smoke: { requests: 2, golden: 'auto' },
  };\n`);
});

afterAll(async () => {
  lambda?.destroy();
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('aws-lambda linear rollout through alias routing weights', { timeout: 600_000 }, () => {
  it('plan shows the steps; a first deploy has no version to split with and takes all the traffic', async () => {
    const plan = await cli(['plan', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    const rollout = plan.json().targets[0].rollout;
    expect(rollout).toMatchObject({ strategy: 'linear', traffic: { percents: [10, 50], intervalSeconds: 0, alarms: { maxErrorRate: 0, probeRequests: 20 } } });
    expect(rollout.steps.map((s: { action: string }) => s.action)).toEqual(expect.arrayContaining([expect.stringContaining('routing 10 % of requests to the new version'), expect.stringContaining('routing 50 % of requests')]));
    const first = await cli(['deploy', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const t = first.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, version: '1' });
    expect(t.details.rollout).toBeUndefined();
    functionName = t.details.functionName;
  });

  it('a new version passes both steps and is promoted: 10 %, then 50 %, then all, with the old version primary until the end', async () => {
    await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 5]));
    const { result: run, seen } = await watchAlias(() => cli(['deploy', '--json']));
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, version: '2', previousVersion: '1' });
    expect(t.details.rollout).toMatchObject({ strategy: 'linear', steps: [
      { step: 1, percent: 10, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
      { step: 2, percent: 50, passed: true, smoke: 'passed', probe: { requests: 20, errors: 0, errorRate: 0 } },
    ] });
    console.info(`aws-lambda linear rollout, 2 promoted: ${JSON.stringify(t.details.rollout.steps.map(({ step, percent, startedAtMs, durationMs, probe }: Record<string, unknown>) => ({ step, percent, startedAtMs, durationMs, p99Ms: (probe as { p99Ms: number }).p99Ms })))}; deploy ${t.durationMs} ms`);
    // THEN the alias went 1 → 1 + 10 % of 2 → 1 + 50 % of 2 → 2, never anything else
    expect(seen).toEqual([{ version: '1', weights: {} }, { version: '1', weights: { 2: 0.1 } }, { version: '1', weights: { 2: 0.5 } }, { version: '2', weights: {} }]);
    expect(await invokeLive()).toBe('2');
  });

  it("a version whose error alarm fires at the second step is rolled back: the report names the step, the check and what was measured; version 2 served throughout", async () => {
    // GIVEN version 3 starts failing once it gets half of the traffic (its error alarm would fire)
    await writeFile(path.join(dir, 'model.onnx'), adder([1, 2, 3, 6]));
    const arm = setInterval(() => {
      const weights = fake.state.lambda.functions.get(functionName)?.aliases.get('live')?.routingConfig?.AdditionalVersionWeights ?? {};
      if (weights['3'] === 0.5) fake.faults.versionFailure(functionName, '3', 'connection pool exhausted under load');
    }, 2);
    try {
      const { result: run, seen } = await watchAlias(() => cli(['deploy', '--json']));
      // THEN
      expect(run.code).toBe(1);
      const t = run.json().targets[0];
      expect(t).toMatchObject({ status: 'failed', promoted: false, version: '3', previousVersion: '2' });
      expect(t.details.rollout).toMatchObject({ failedStep: 2, steps: [{ step: 1, percent: 10, passed: true }, { step: 2, percent: 50, passed: false }] });
      console.info(`aws-lambda linear rollout, 3 rolled back: ${JSON.stringify(t.details.rollout.steps.map(({ step, percent, startedAtMs, durationMs, probe }: Record<string, unknown>) => ({ step, percent, startedAtMs, durationMs, probe })))}; deploy ${t.durationMs} ms`);
      const failed = t.checks.filter((c: { passed: boolean }) => !c.passed);
      // the alarm stopped it; the step's smoke test of version 3, run after the probes, failed too
      expect(failed[failed.length - 1]).toEqual({ name: 'traffic step 2 of 2 (50 %)', passed: false, message: expect.stringMatching(/^error rate alarm: 0\.\d+ \(\d+ of 20 probe requests through the split endpoint\) > maxErrorRate 0; first error: HTTP 502: .*connection pool exhausted under load/) });
      expect(failed.slice(0, -1)).toEqual([{ name: 'status', passed: false, message: 'HTTP 502: Error connection pool exhausted under load' }]);
      // THEN version 2 stayed the alias's version throughout, and serves alone again
      expect(seen.every((s) => s.version === '2')).toBe(true);
      expect(seen.map((s) => s.weights)).toEqual([{}, { 3: 0.1 }, { 3: 0.5 }, {}]);
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }));
      expect(alias.FunctionVersion).toBe('2');
      expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
      for (let i = 0; i < 5; i++) expect(await invokeLive()).toBe('2');
    } finally {
      clearInterval(arm);
      fake.faults.clearVersionFailure(functionName, '3');
    }
  });
});
