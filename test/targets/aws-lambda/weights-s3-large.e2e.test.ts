// A model too large for a Lambda zip (220 MB of external data, generated) deployed as a zip with its weights in S3, end to end against the AWS fake.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSizedModel } from '../../../bench/_lib/sized-model.js';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN y = ReduceSum(table) + x with a 220 MB table in model.onnx.data: with the 46 MB
// onnxruntime layer it passes Lambda's 250 MB limit for a zip and its layers.
const REGION = 'us-east-1';
let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;

const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' }, timeoutMs: 600_000 });
const config = (weights: string) => `export default {
  name: 'large',
  model: { path: './model.onnx' },
  targets: { lambda: { type: 'aws-lambda', region: '${REGION}'${weights} } },
  // Three requests: the first pays the cold start (220 MB fetched and loaded), the median does not.
  smoke: { requests: 3 },
};\n`;

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-large-'));
  await writeSizedModel(dir, 220e6);
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a model too large for the zip, with its weights in S3', { timeout: 600_000 }, () => {
  it('left to choose, the plan ships it as an image; with weights in S3, as a zip', async () => {
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config(''));
    const chosen = await cli(['plan', '--json']);
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(chosen.json().targets[0]).toMatchObject({ package: 'image', packageReason: expect.stringContaining("pass Lambda's 250 MB limit") });
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config(", weights: 's3'"));
    const apart = await cli(['plan', '--json']);
    expect(apart.json().targets[0]).toMatchObject({ package: 'zip', weights: 's3' });
  });

  it('deploys: a zip of the handler and the signature, 220 MB fetched from S3 at init, the smoke test passed against the golden outputs', async () => {
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, version: '1' });
    expect(t.checks.some((c: { maxAbsError?: number; passed: boolean }) => c.maxAbsError !== undefined && c.passed)).toBe(true);
    const fn = [...fake.state.lambda.functions.values()][0]!;
    const code = fn.versions.get('1')!;
    expect(code.zip.length).toBeLessThan(1e6);
    const objects = JSON.parse(code.env.DM_MODEL_OBJECTS!) as Array<{ file: string; bytes: number }>;
    expect(objects.map((o) => o.file)).toEqual(['model.onnx', 'model.onnx.data']);
    expect(objects[1]!.bytes).toBe((await stat(path.join(dir, 'model.onnx.data'))).size);
    console.info(`220 MB model with weights in S3: deploy ${t.durationMs} ms, zip ${code.zip.length} bytes, smoke p50 ${t.latencyMs.p50} ms`);
  });
});
