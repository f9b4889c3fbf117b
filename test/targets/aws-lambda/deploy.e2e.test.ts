import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetAliasCommand, GetFunctionUrlConfigCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { encodeModel, nodeProto, onnx, tensorInfo, tinyModelBytes } from '../../_helpers/onnx-models.js';
import { signedFetch } from '../../emulators/aws/_cdk-app.js';
import { localFunctionRunner, startAwsFake, type AwsFake, type RecordedCall } from '../../emulators/aws/index.js';

// GIVEN a project whose model is the tiny `add` model (y = x + [1,2,3,4], x float32 [batch,4]),
// an aws-lambda target, and a local AWS fake that runs the deployed functions with the project's
// local executor. The CLI runs as a child process with the fake's environment, as a user's
// shell would have it (`npm run build` first).

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';
/** x = [-1, 2, -3, 4]: `add` answers [0, 4, 0, 8], the relu model [0, 2, 0, 4]. */
const X = [[-1, 2, -3, 4]];

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;
let lambda: LambdaClient;

function config(extra: { smoke?: string; target?: string } = {}): string {
  return `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}'${extra.target ?? ''} } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] }${extra.smoke ?? ''} },
  };\n`;
}

/** Variables of the developer's shell that would point the CLI elsewhere than the fake. */
const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));

/** Runs the CLI in `cwd` with the fake's environment; the fake settles at once, so poll stacks every 20 ms. */
function cli(args: string[], cwd = dir, env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(args, { cwd, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20', ...env } });
}

const names = (calls: RecordedCall[]): string[] => calls.map((c) => `${c.service}:${c.action}`);

/** The calls the fake answered while `work` ran. */
async function callsDuring<T>(work: () => Promise<T>): Promise<{ result: T; calls: RecordedCall[] }> {
  const from = fake.calls.length;
  const result = await work();
  return { result, calls: fake.calls.slice(from) };
}

async function invokeLive(functionName: string): Promise<{ version?: string; body: any; error?: string }> {
  const r = await lambda.send(new InvokeCommand({
    FunctionName: functionName, Qualifier: 'live',
    Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X.flat() }] })),
  }));
  return { version: r.ExecutedVersion, body: JSON.parse(Buffer.from(r.Payload!).toString()), error: r.FunctionError };
}

async function writeModel(bytes: Uint8Array, target = dir): Promise<void> {
  await writeFile(path.join(target, 'model.onnx'), bytes);
}

/** The artifacts `build --json` / `synth --json` report for a target (`targets` lists `{ name, type, cached, artifacts }`). */
function artifactsOf(json: { targets: Array<{ name: string; artifacts: Array<{ kind: string; file: string; sha256?: string }> }> }, target: string) {
  return json.targets.find((t) => t.name === target)!.artifacts;
}

beforeAll(async () => {
  fake = await startAwsFake({ accountId: ACCOUNT, region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  lambda = new LambdaClient({});
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-e2e-'));
  await writeModel(tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), config());
});

afterAll(async () => {
  lambda?.destroy();
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Every test runs the CLI (a child process) one to three times: minutes on a busy two-core machine.
describe('before anything is deployed: no AWS call', { timeout: 120_000 }, () => {
  it('synth writes cdk.out/<stack> without a network call, with credentials or with no AWS environment at all', async () => {
    // WHEN synth runs with the fake's endpoint and credentials in the environment
    const { result: withEnv, calls } = await callsDuring(() => cli(['synth', '--json']));
    // THEN it wrote the assembly and called nothing
    expect(withEnv.code, withEnv.stderr).toBe(0);
    expect(calls).toEqual([]);
    const template = path.join(dir, 'cdk.out', STACK, `${STACK}.template.json`);
    expect(artifactsOf(withEnv.json(), 'lambda')[0]!.file).toBe(template);
    expect(Object.keys(JSON.parse(await readFile(template, 'utf8')).Outputs).sort()).toEqual(['AliasArn', 'FunctionName', 'FunctionUrl', 'LiveVersion', 'LogGroupName', 'NewVersion']);

    // WHEN synth runs with no AWS variable at all
    const bare = Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('AWS_') || k.startsWith('CDK_')).map((k) => [k, undefined]));
    const without = await runCli(['synth'], { cwd: dir, env: { ...bare, HOME: dir } });
    // THEN it works the same
    expect(without.code, without.stderr).toBe(0);
    expect(without.stdout).toContain(`CloudFormation template (${STACK})`);
    expect(fake.calls).toEqual([]);
  });

  it('a config error and a model too large for Lambda fail before any AWS call', async () => {
    // GIVEN a config with a memory size Lambda does not have
    const badConfig = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-bad-'));
    await writeModel(tinyModelBytes('add'), badConfig);
    await writeFile(path.join(badConfig, 'deploy-model.config.mjs'), config({ target: ', memoryMb: 99999' }));
    // GIVEN a model whose external data (a sparse 260 MB file) cannot fit in 250 MB with the layer, as a zip
    const tooBig = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-big-'));
    const floats = 65_000_000;
    await writeModel(encodeModel({
      nodes: [nodeProto('Add', ['x', 'bias'], ['sum']), nodeProto('ReduceSum', ['big'], ['total']), nodeProto('Add', ['sum', 'total'], ['y'])],
      inputs: [tensorInfo('x', onnx.TensorProto.DataType.FLOAT, ['batch', 4])],
      outputs: [tensorInfo('y', onnx.TensorProto.DataType.FLOAT, ['batch', 4])],
      initializers: [
        { name: 'bias', dataType: onnx.TensorProto.DataType.FLOAT, dims: [4], floatData: [1, 2, 3, 4] },
        {
          name: 'big', dataType: onnx.TensorProto.DataType.FLOAT, dims: [floats], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: 'big.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: String(floats * 4) }],
        },
      ],
    }), tooBig);
    await writeFile(path.join(tooBig, 'big.bin'), '');
    await truncate(path.join(tooBig, 'big.bin'), floats * 4);
    // package 'zip' set: left to choose, the plan would ship this model as a container image.
    await writeFile(path.join(tooBig, 'deploy-model.config.mjs'), config({ target: ", package: 'zip'" }));
    try {
      // WHEN
      const { result: runs, calls } = await callsDuring(() => Promise.all([cli(['deploy', '--json'], badConfig), cli(['deploy', '--json'], tooBig)]));
      // THEN
      const [bad, big] = runs;
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/CONFIG_INVALID|not a valid deploy-model config/);
      expect(bad.stderr).toMatch(/memoryMb/);
      expect(big.code).toBe(1);
      expect(big.stderr).toMatch(/250 MB unzipped/);
      expect(big.stderr).toMatch(/container/);
      expect(calls).toEqual([]);
    } finally {
      await rm(badConfig, { recursive: true, force: true });
      await rm(tooBig, { recursive: true, force: true });
    }
  });
});

describe('aws-lambda through the CLI against the AWS fake', { timeout: 120_000 }, () => {
  let functionName: string;
  let endpoint: string;

  it('deploy: creates the stack, smoke-tests version 1 through Invoke, reports the IAM-authenticated Function URL', async () => {
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t, JSON.stringify(t.error)).toMatchObject({ name: 'lambda', type: 'aws-lambda', status: 'passed', promoted: true, version: '1' });
    expect(t.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['status', 'y shape', 'y expected shape', 'latency']));
    functionName = t.details.functionName;
    endpoint = t.endpoint;
    expect(endpoint).toMatch(new RegExp(`^${fake.endpoint}/lambda-url/[0-9a-f]+/$`));
    // the stack was created with the alias on version 1, version 1 was smoke-tested by number,
    // then the alias was pinned to '1' so that an unchanged redeploy is a no-op
    const order = names(fake.calls).filter((n) => n === 'cloudformation:ExecuteChangeSet' || n === 'lambda:Invoke');
    expect(order).toEqual(['cloudformation:ExecuteChangeSet', 'lambda:Invoke', 'lambda:Invoke', 'cloudformation:ExecuteChangeSet']);
    expect(fake.calls.filter((c) => c.action === 'Invoke').map((c) => c.params.Qualifier)).toEqual(['1', '1']);
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted)!;
    expect(stack.status).toBe('UPDATE_COMPLETE');
    expect([...stack.resources.values()].map((r) => r.type).sort()).toEqual([
      'AWS::IAM::Role', 'AWS::Lambda::Alias', 'AWS::Lambda::Function', 'AWS::Lambda::LayerVersion',
      'AWS::Lambda::Url', 'AWS::Lambda::Version', 'AWS::Logs::LogGroup',
    ]);
    expect(fake.state.cloudformation.unmodelled).toEqual([]);
    expect(fake.internalErrors).toEqual([]);

    // THEN the Function URL refuses unsigned requests and answers SigV4-signed ones
    const url = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: functionName, Qualifier: 'live' }));
    expect(url).toMatchObject({ AuthType: 'AWS_IAM', FunctionUrl: endpoint });
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X.flat() }] });
    const unsigned = await fetch(`${endpoint}v2/models/adder/infer`, { method: 'POST', body });
    expect(unsigned.status).toBe(403);
    const credentials = { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! };
    const signed = await signedFetch(`${endpoint}v2/models/adder/infer`, { method: 'POST', body }, credentials, REGION);
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ model_name: 'adder', outputs: [{ name: 'y', shape: [1, 4], data: [0, 4, 0, 8] }] });
  });

  it('deploying again unchanged is a no-op for CloudFormation and smoke-tests the live version; the table names the endpoint', async () => {
    // WHEN
    const { result: run, calls } = await callsDuring(() => cli(['deploy']));
    // THEN
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/TARGET\s+TYPE\s+ENDPOINT\s+STATUS\s+P50/);
    expect(run.stdout).toMatch(new RegExp(`lambda\\s+aws-lambda\\s+${endpoint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+passed\\s+[\\d.]+ ms`));
    expect(run.stderr).toContain('Nothing changed: smoke-testing the live version 1');
    expect(names(calls)).not.toContain('cloudformation:CreateChangeSet');
    expect(calls.filter((c) => c.action === 'Invoke').map((c) => c.params.Qualifier)).toEqual(['1', '1']);
  });

  it('plan prints the resolved plan without AWS; diff finds nothing to change and exits 0, executing nothing', async () => {
    // WHEN
    const { result: [plan, diff], calls } = await callsDuring(() => Promise.all([cli(['plan', '--json']), cli(['diff', '--json'])]));
    // THEN
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.json().targets).toEqual([expect.objectContaining({ type: 'aws-lambda', targetName: 'lambda', stackName: STACK, region: REGION, memoryMb: 1024, runtime: 'nodejs22.x' })]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.json().targets).toEqual([{ name: 'lambda', type: 'aws-lambda', supported: true, unchanged: true, changes: [], text: expect.stringContaining('There were no differences') }]);
    expect(names(calls)).toContain('cloudformation:CreateChangeSet');
    expect(names(calls)).not.toContain('cloudformation:ExecuteChangeSet');
  });

  it('smoke, invoke and status read the deployment from AWS (no local state)', async () => {
    // GIVEN no local state: the project's state folder is gone
    await rm(path.join(dir, '.deploy-model', 'state'), { recursive: true, force: true });
    // WHEN
    const [smoke, invoke, status] = await Promise.all([
      cli(['smoke', '--json']),
      writeFile(path.join(dir, 'input.json'), JSON.stringify({ x: X })).then(() => cli(['invoke', '--target', 'lambda', '--input', 'input.json', '--json'])),
      cli(['status', '--json']),
    ]);
    // THEN
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(smoke.json().targets[0]).toMatchObject({ status: 'passed', endpoint, version: '1' });
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(invoke.json()).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', shape: [1, 4], data: [0, 4, 0, 8] }] } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().targets[0]).toMatchObject({ name: 'lambda', type: 'aws-lambda', state: 'running', endpoint, version: '1', details: { stackName: STACK, stackStatus: 'UPDATE_COMPLETE', functionName } });
    expect(fake.calls.filter((c) => c.action === 'Invoke').slice(-3).map((c) => c.params.Qualifier)).toEqual(['live', 'live', 'live']);
  });

  it('a changed model is published as version 2, smoke-tested by number, then the alias moves; version 1 is kept', async () => {
    // GIVEN y = relu(x), same signature
    await writeModel(tinyModelBytes('unnamed-dim'));
    // WHEN
    const { result: run, calls } = await callsDuring(() => cli(['deploy', '--json']));
    // THEN
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets[0]).toMatchObject({ status: 'passed', promoted: true, version: '2', endpoint, details: { newVersion: '2', liveVersion: '2' } });
    // two stack updates: publish with the alias on 1, smoke version 2, then move the alias
    const order = names(calls).filter((n) => n === 'cloudformation:ExecuteChangeSet' || n === 'lambda:Invoke');
    expect(order).toEqual(['cloudformation:ExecuteChangeSet', 'lambda:Invoke', 'lambda:Invoke', 'cloudformation:ExecuteChangeSet']);
    expect(calls.filter((c) => c.action === 'Invoke').map((c) => c.params.Qualifier)).toEqual(['2', '2']);
    expect(await invokeLive(functionName)).toMatchObject({ version: '2', body: { outputs: [{ data: [0, 2, 0, 4] }] } });
    const v1 = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: '1', Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X.flat() }] })) }));
    expect(JSON.parse(Buffer.from(v1.Payload!).toString())).toMatchObject({ outputs: [{ data: [0, 4, 0, 8] }] });
  });

  it('a new version that fails its smoke test is not promoted: exit 1, the alias stays on version 2', async () => {
    // GIVEN a model answering y [1, 2] where smoke.expectShapes wants [1, 4]
    await writeModel(tinyModelBytes('identity-float32'));
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN
    expect(run.code).toBe(1);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'failed', promoted: false, version: '3', details: { newVersion: '3', liveVersion: '2' } });
    expect(t.checks.find((c: { name: string }) => c.name === 'y expected shape')).toMatchObject({ passed: false, message: 'expected [1, 4], got [1, 2]' });
    expect((await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }))).FunctionVersion).toBe('2');
    expect(await invokeLive(functionName)).toMatchObject({ version: '2', body: { outputs: [{ data: [0, 2, 0, 4] }] } });
    const status = (await cli(['status', '--json'])).json().targets[0];
    expect(status).toMatchObject({ state: 'running', version: '2', details: { unpromotedVersion: '3' } });
  });

  it('a new version that fails to start is not promoted, and the function error reads as one', async () => {
    // GIVEN the add model again (a new version), and every start of the function fails in init
    await writeModel(tinyModelBytes('add'));
    fake.faults.initFailure(functionName, 'Cannot load model: simulated');
    let run: CliRun;
    try {
      // WHEN
      run = await cli(['deploy', '--json']);
    } finally {
      fake.faults.clearInitFailure(functionName);
    }
    // THEN
    expect(run.code).toBe(1);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'failed', promoted: false, version: '4', details: { liveVersion: '2' } });
    expect(t.checks[0]).toMatchObject({ name: 'status', passed: false, message: 'HTTP 502: Runtime.InitError Cannot load model: simulated' });
    expect(await invokeLive(functionName)).toMatchObject({ version: '2' });
  });

  it('throttled calls are retried', async () => {
    // GIVEN the config names the model version 2 serves again (its golden outputs are the config
    // model's: against another model `smoke` would report that the live version answers otherwise)
    await writeModel(tinyModelBytes('unnamed-dim'));
    fake.faults.throttle('lambda', 'Invoke', 1);
    fake.faults.throttle('cloudformation', 'DescribeStacks', 1);
    // WHEN
    const { result: run, calls } = await callsDuring(() => cli(['smoke', '--json']));
    // THEN
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets[0]).toMatchObject({ status: 'passed', version: '2' });
    expect(calls.filter((c) => c.action === 'DescribeStacks').map((c) => c.status)).toEqual([400, 200]);
    expect(calls.filter((c) => c.action === 'Invoke').map((c) => c.status)).toEqual([429, 200, 200]);
  });

  it('destroy removes the stack; then status says not-deployed and smoke says NOT_DEPLOYED', async () => {
    // WHEN
    const run = await cli(['destroy', '--yes', '--json']);
    // THEN
    expect(run.code, run.stderr).toBe(0);
    // The log group stays (DeletionPolicy: Retain), and destroy says so with the command that deletes it.
    expect(run.json().targets).toEqual([{
      name: 'lambda', removed: true,
      retained: [{ type: 'AWS::Logs::LogGroup', logicalId: expect.stringMatching(/^ModelLogGroup/), physicalId: expect.any(String), deleteWith: expect.stringMatching(/^aws logs delete-log-group --log-group-name \S+ --region us-east-1$/) }],
    }]);
    expect(run.stderr).toMatch(/Log group \S+ is kept \(DeletionPolicy: Retain\)/);
    await expect(new CloudFormationClient({}).send(new DescribeStacksCommand({ StackName: STACK }))).rejects.toThrow(`Stack with id ${STACK} does not exist`);
    expect(fake.state.lambda.functions.size).toBe(0);
    const [status, smoke, again] = await Promise.all([cli(['status', '--json']), cli(['smoke', '--json']), cli(['destroy', '--yes', '--json'])]);
    expect(status.json().targets[0]).toMatchObject({ name: 'lambda', state: 'not-deployed' });
    expect(smoke.code).toBe(1);
    expect(smoke.json().targets[0].error.code).toBe('NOT_DEPLOYED');
    expect(again.json().targets).toEqual([{ name: 'lambda', removed: false }]);
    expect(fake.internalErrors).toEqual([]);
  });

  it('a first deploy whose smoke test fails says there was no version to keep and exits 1', async () => {
    // GIVEN a fresh stack (another stage) with the model that fails smoke.expectShapes
    await writeModel(tinyModelBytes('identity-float32'));
    // WHEN
    const run = await cli(['deploy', '--stage', 'first']);
    // THEN
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('This was the first deploy of adder-first-lambda, so there was no previous version to keep');
    expect(run.stdout).toMatch(/lambda: smoke test failed \(there was no previous version to keep: it serves\)\n/);
    expect(run.stdout).toContain('y expected shape: expected [1, 4], got [1, 2]');
    const destroyed = await cli(['destroy', '--stage', 'first', '--yes']);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'cdk.out', 'adder-first-lambda'))).toBe(true);
  });
});
