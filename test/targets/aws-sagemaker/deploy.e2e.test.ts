import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { tinyModelBytes, type TinyModelKind } from '../../_helpers/onnx-models.js';
import { startAwsFake, type AwsFake, type RecordedCall } from '../../emulators/aws/index.js';
import { PING_HEALTH_CHECK_FAILURE, sageMakerFake, type SageMakerFake } from '../../emulators/aws/sagemaker.js';

// GIVEN a project whose model is the tiny `add` model (y = x + [1,2,3,4], x float32 [batch,4]),
// an aws-sagemaker target, and the local AWS fake with its SageMaker service, which serves each
// endpoint config that goes into service from the uploaded model.tar.gz with the project's Node
// runtime. The CLI runs as a child process with the fake's environment (`npm run build` first).

const REGION = 'us-east-1';
const STACK = 'adder-dev-sagemaker';
const ENDPOINT = STACK;
const URL = `https://runtime.sagemaker.${REGION}.amazonaws.com/endpoints/${ENDPOINT}/invocations`;
/** x = [-1, 2, -3, 4]: `add` answers [0, 4, 0, 8], relu [0, 2, 0, 4]. */
const X = [[-1, 2, -3, 4]];

let fake: AwsFake;
let sm: SageMakerFake;
let dir: string;

/** Variables of the developer's shell that would point the CLI elsewhere than the fake. */
const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));

/** Runs the CLI in the project with the fake's environment; the fake settles in milliseconds, so poll every 20 ms. */
function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' }, timeoutMs: 180_000 });
}

async function callsDuring<T>(work: () => Promise<T>): Promise<{ result: T; calls: RecordedCall[] }> {
  const from = fake.calls.length;
  const result = await work();
  return { result, calls: fake.calls.slice(from) };
}

async function writeModel(kind: TinyModelKind): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes(kind));
}

/** What the endpoint answers now for X, straight from the fake's serving container. */
async function answerNow(): Promise<number[]> {
  const serving = sm.endpoints.get(ENDPOINT)!.serving!;
  const res = await fetch(`${serving.url}/invocations`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X.flat() }] }),
  });
  const out = (await res.json()) as { outputs: Array<{ data: number[] }> };
  return Array.from(out.outputs[0]!.data);
}

/** The artifacts `build --json` / `synth --json` report for a target (`targets` lists `{ name, type, cached, artifacts }`). */
function artifactsOf(json: { targets: Array<{ name: string; artifacts: Array<{ kind: string; file: string; sha256?: string }> }> }, target: string) {
  return json.targets.find((t) => t.name === target)!.artifacts;
}

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION });
  fake.bootstrap();
  sm = sageMakerFake(fake.state);
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-sagemaker-e2e-'));
  await writeModel('add');
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: '${REGION}', instanceType: 'ml.g5.xlarge', autoscaling: { max: 2 } } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
});

afterAll(async () => {
  await sm?.close();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('aws-sagemaker through the CLI against the AWS fake', { timeout: 240_000 }, () => {
  let v1: string;
  let v2: string;

  it('build writes the Triton repository and the reproducible model.tar.gz, without any AWS call', async () => {
    // WHEN
    const { result: run, calls } = await callsDuring(() => cli(['build', '--target', 'sagemaker', '--json']));
    // THEN
    expect(run.code, run.stderr).toBe(0);
    const artifacts = artifactsOf(run.json(), 'sagemaker');
    expect(artifacts.map((a) => [a.kind, path.relative(dir, a.file)])).toEqual([
      ['model.tar.gz', '.deploy-model/dev/sagemaker/model.tar.gz'],
      ['triton-repository', '.deploy-model/dev/sagemaker/repository/adder/1/model.onnx'],
      ['triton-repository', '.deploy-model/dev/sagemaker/repository/adder/config.pbtxt'],
    ]);
    expect(readFileSync(artifacts[2]!.file, 'utf8')).toContain('name: "adder"');
    const again = await cli(['build', '--target', 'sagemaker', '--json']);
    expect(artifactsOf(again.json(), 'sagemaker')[0]!.sha256).toBe(artifacts[0]!.sha256);
    expect(calls).toEqual([]);
  });

  it('synth writes the stack with no AWS call', async () => {
    const { result: run, calls } = await callsDuring(() => cli(['synth', '--json']));
    expect(run.code, run.stderr).toBe(0);
    const template = JSON.parse(await readFile(artifactsOf(run.json(), 'sagemaker')[0]!.file, 'utf8'));
    expect(Object.keys(template.Outputs).sort()).toEqual(['EndpointConfigName', 'EndpointName', 'LogGroupName', 'ModelDataUrl', 'ModelName']);
    expect(calls).toEqual([]);
  });

  it('deploy creates the endpoint; status says creating while the instances start; the smoke test passes through InvokeEndpoint', async () => {
    // GIVEN instances that take their time
    const hold = sm.faults.holdNextEndpoint(ENDPOINT);
    // WHEN
    const deploying = cli(['deploy']);
    for (let i = 0; i < 600 && sm.endpoints.get(ENDPOINT)?.status !== 'Creating'; i++) await new Promise((r) => setTimeout(r, 50));
    const status = await cli(['status', '--json']);
    hold.release();
    const run = await deploying;

    // THEN status while creating
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().targets[0]).toMatchObject({ name: 'sagemaker', type: 'aws-sagemaker', state: 'creating', details: { endpointStatus: 'Creating' } });
    // THEN the deploy printed the endpoint's status while CloudFormation waited, and the table
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Endpoint ${ENDPOINT}: Creating`);
    expect(run.stdout).toMatch(new RegExp(`sagemaker\\s+aws-sagemaker\\s+${URL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+passed`));
    v1 = sm.endpoints.get(ENDPOINT)!.configName;
    expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService' });
    expect(sm.invocations.filter((i) => i.status === 200)).toHaveLength(2);
    expect(fake.internalErrors).toEqual([]);
  });

  it('smoke, invoke and status read the deployment from AWS', async () => {
    await writeFile(path.join(dir, 'input.json'), JSON.stringify({ x: X }));
    const [smoke, invoke, status] = await Promise.all([
      cli(['smoke', '--json']),
      cli(['invoke', '--target', 'sagemaker', '--input', 'input.json', '--json']),
      cli(['status', '--json']),
    ]);
    expect(smoke.code, smoke.stderr).toBe(0);
    expect(smoke.json().targets[0]).toMatchObject({ status: 'passed', endpoint: URL, version: v1 });
    expect(invoke.code, invoke.stderr).toBe(0);
    expect(invoke.json()).toMatchObject({ status: 200, body: { model_name: 'adder', outputs: [{ name: 'y', shape: [1, 4], data: [0, 4, 0, 8] }] } });
    expect(status.json().targets[0]).toMatchObject({ state: 'running', endpoint: URL, version: v1, details: { stackStatus: 'CREATE_COMPLETE', endpointStatus: 'InService', logGroupName: `/aws/sagemaker/Endpoints/${ENDPOINT}` } });
  });

  it('an update with a new model goes into service, and the old endpoint config is kept for rollback', async () => {
    // GIVEN y = relu(x), same signature
    await writeModel('unnamed-dim');
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, details: { retired: [], keptPrevious: v1 } });
    v2 = t.version;
    expect(v2).not.toBe(v1);
    expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: v2 });
    expect([...sm.endpointConfigs.keys()]).toEqual([v1, v2]);
    expect(await answerNow()).toEqual([0, 2, 0, 4]);
  });

  it('an update whose instances fail the ping health check exits 1 with the FailureReason verbatim and the log group; the old config keeps serving', async () => {
    // GIVEN a new model whose instances never pass the health check
    await writeModel('add');
    sm.faults.failNextEndpoint({ endpoint: ENDPOINT });
    // WHEN
    const run = await cli(['deploy']);
    // THEN
    expect(run.code).toBe(1);
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).toContain('SAGEMAKER_ENDPOINT_FAILED');
    expect(output).toContain(`FailureReason: ${PING_HEALTH_CHECK_FAILURE()}`);
    expect(output).toContain(`/aws/sagemaker/Endpoints/${ENDPOINT}`);
    expect(output).toContain(`Endpoint config ${v2} keeps serving.`);
    expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: v2 });
    expect(await answerNow()).toEqual([0, 2, 0, 4]);
  });

  it('an update that fails its smoke test exits 1 and puts the endpoint back on the previous endpoint config', async () => {
    // GIVEN a model answering y [1, 2] where smoke.expectShapes wants [1, 4]
    await writeModel('identity-float32');
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN
    expect(run.code).toBe(1);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'failed', promoted: false, previousVersion: v2, details: { rolledBackTo: v2 } });
    expect(t.version).not.toBe(v2);
    expect(t.checks.find((c: { name: string }) => c.name === 'y expected shape')).toMatchObject({ passed: false, message: 'expected [1, 4], got [1, 2]' });
    expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: v2 });
    expect(await answerNow()).toEqual([0, 2, 0, 4]);
    const status = (await cli(['status', '--json'])).json().targets[0];
    expect(status).toMatchObject({ state: 'running', version: v2, details: { rolledBack: true } });
  });

  it('destroy deletes the stack and what the rollback kept outside it', async () => {
    // WHEN
    const run = await cli(['destroy', '--yes', '--json']);
    // THEN
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toEqual({ targets: [{ name: 'sagemaker', removed: true }] });
    expect([...sm.endpoints.keys()]).toEqual([]);
    expect([...sm.endpointConfigs.keys()]).toEqual([]);
    expect([...sm.models.keys()]).toEqual([]);
    expect([...sm.scalableTargets.keys()]).toEqual([]);
    expect((await cli(['status', '--json'])).json().targets[0]).toMatchObject({ state: 'not-deployed' });
    expect(fake.internalErrors).toEqual([]);
  });
});
