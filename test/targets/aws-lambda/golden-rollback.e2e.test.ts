// aws-lambda through the CLI against the AWS fake: golden outputs catch another model version before the alias moves, and `rollback` puts the previous version back.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { adderModel as adder } from '../../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN a project whose model is y = x + bias (x float32 [batch, 4]); version A has bias
// [1, 2, 3, 4], version B [1, 2, 3, 5]: the same signature, another answer in y[..., 3].
const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';
const MODEL_A = adder([1, 2, 3, 4]);
const MODEL_B = adder([1, 2, 3, 5]);
const X = [-1, 2, -3, 4];

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;
let lambda: LambdaClient;

const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' } });

async function invokeLive(functionName: string): Promise<{ version?: string; y: number[] }> {
  const r = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }] })) }));
  return { version: r.ExecutedVersion, y: JSON.parse(Buffer.from(r.Payload!).toString()).outputs[0].data };
}

function outputsOfStack(): Record<string, string> {
  const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted)!;
  return Object.fromEntries(stack.outputs.map((o: { OutputKey: string; OutputValue: string }) => [o.OutputKey, o.OutputValue]));
}

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  lambda = new LambdaClient({});
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-golden-'));
  await writeFile(path.join(dir, 'model.onnx'), MODEL_A);
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}' } },
    smoke: { requests: 2, golden: './golden.json' },
  };\n`);
});

afterAll(async () => {
  lambda?.destroy();
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('aws-lambda: golden outputs and rollback through the CLI', { timeout: 240_000 }, () => {
  let functionName: string;

  it('golden records onnxruntime-node answers; a deploy checks version 1 against them and reports the errors', async () => {
    // WHEN the golden outputs are recorded from model A, and A is deployed
    const golden = await cli(['golden', '--json']);
    expect(golden.code, golden.stderr).toBe(0);
    expect(golden.json()).toMatchObject({ file: path.join(dir, 'golden.json'), producer: { runtime: 'onnxruntime-node', version: expect.stringMatching(/^\d+\.\d+\.\d+/) }, cases: [{ case: 1, outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4] }] }] });
    const file = JSON.parse(await readFile(path.join(dir, 'golden.json'), 'utf8'));
    expect(file.cases[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const run = await cli(['deploy', '--json']);
    // THEN version 1 passed the golden check, with its measured errors in --json
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, version: '1' });
    expect(t.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'y matches golden outputs', passed: true, maxAbsError: 0, maxRelError: 0, tolerance: { abs: 1e-5, rel: 1e-4 } })]));
    functionName = t.details.functionName;
    // THEN the first deploy records no previous version: there is nothing to roll back to
    expect(outputsOfStack().PreviousVersion).toBeUndefined();
    const none = await cli(['rollback', '--target', 'lambda', '--json']);
    expect(none.code).toBe(1);
    expect(none.json().targets[0]).toMatchObject({ name: 'lambda', status: 'failed', error: { code: 'ROLLBACK_NO_PREVIOUS', message: expect.stringContaining('serves version 1') } });
  });

  it('another model version fails the golden check before the alias moves: the failure names the output, the element, both values and the tolerance', async () => {
    // GIVEN model B in the project, the golden outputs still A's
    await writeFile(path.join(dir, 'model.onnx'), MODEL_B);
    // WHEN
    const run = await cli(['deploy']);
    // THEN
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/GOLDEN MAX ERROR/);
    expect(run.stdout).toMatch(/lambda: smoke test failed \(version 1 keeps serving\)/);
    expect(run.stdout).toMatch(/- y matches golden outputs: element \[0, 3\] is [\d.]+, the reference has [\d.]+: outside the tolerance \(abs 0\.00001 \+ rel 0\.0001\); 1 of 4 values outside; max abs error 1\.00e\+0/);
    expect(run.stderr).toContain('were recorded from another model');
    expect(await invokeLive(functionName)).toEqual({ version: '1', y: [0, 4, 0, 8] });
  });

  it('with golden outputs recorded from B, B is promoted; rollback puts version 1 back, and a second rollback refuses', async () => {
    // GIVEN golden outputs recorded from B, and B deployed as version 2
    expect((await cli(['golden'])).code).toBe(0);
    const deploy = await cli(['deploy', '--json']);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.json().targets[0]).toMatchObject({ status: 'passed', version: '2', previousVersion: '1' });
    expect(await invokeLive(functionName)).toEqual({ version: '2', y: [0, 4, 0, 9] });
    expect(outputsOfStack()).toMatchObject({ LiveVersion: '2', PreviousVersion: '1' });
    expect((await cli(['status', '--json'])).json().targets[0]).toMatchObject({ state: 'running', version: '2', details: { previousVersion: '1' } });
    // WHEN
    const back = await cli(['rollback', '--target', 'lambda', '--json']);
    // THEN the alias serves version 1 again, and the report says what moved
    expect(back.code, back.stderr).toBe(0);
    expect(back.json().targets).toEqual([expect.objectContaining({ name: 'lambda', type: 'aws-lambda', status: 'rolled-back', from: '2', to: '1', smoke: expect.objectContaining({ status: 'passed' }) })]);
    expect(await invokeLive(functionName)).toEqual({ version: '1', y: [0, 4, 0, 8] });
    expect(outputsOfStack().LiveVersion).toBe('1');
    expect(outputsOfStack().PreviousVersion).toBeUndefined();
    // THEN the table says it too, and a second rollback does not go forward again
    const again = await cli(['rollback', '--target', 'lambda']);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(/TARGET\s+TYPE\s+STATUS\s+FROM\s+TO\s+SMOKE\s+ENDPOINT/);
    expect(again.stdout).toMatch(/ROLLBACK_NO_PREVIOUS: Target 'lambda' has no earlier version to roll back to: stack adder-dev-lambda serves version 1/);
    // THEN a deploy goes forward again: version 2 passes B's golden outputs and takes the alias
    const forward = await cli(['deploy', '--json']);
    expect(forward.code, forward.stderr).toBe(0);
    expect(forward.json().targets[0]).toMatchObject({ status: 'passed', version: '2', previousVersion: '1' });
    expect(await invokeLive(functionName)).toEqual({ version: '2', y: [0, 4, 0, 9] });
  });

  it('rollback without --target is a usage error', async () => {
    const run = await cli(['rollback']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ROLLBACK_TARGET_REQUIRED');
  });
});
