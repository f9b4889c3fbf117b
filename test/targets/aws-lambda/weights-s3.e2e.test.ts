// aws-lambda with weights: 's3' through the CLI against the AWS fake: the zip holds no model, the function fetches it from S3 at init, a redeploy does not upload it again.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { adderModel } from '../../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN y = x + bias (x float32 [batch, 4]) and an aws-lambda target keeping its weights in S3
const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';
const BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const MODEL = Buffer.from(adderModel([1, 2, 3, 4]));
const SHA = createHash('sha256').update(MODEL).digest('hex');

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;
let lambda: LambdaClient;

const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));
const cli = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' } });
const config = (extra = '') => `export default {
  name: 'adder',
  model: { path: './model.onnx' },
  targets: { lambda: { type: 'aws-lambda', region: '${REGION}', weights: 's3'${extra} } },
  smoke: { requests: 2 },
};\n`;

/** PutObject calls the fake answered for keys ending in `.onnx`: the weights' uploads. */
const weightUploads = () => fake.calls.filter((c) => c.service === 's3' && c.action === 'PutObject' && String((c.params as { Key?: string }).Key ?? '').endsWith('.onnx'));

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  lambda = new LambdaClient({});
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-weights-'));
  await writeFile(path.join(dir, 'model.onnx'), MODEL);
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), config());
});

afterAll(async () => {
  lambda?.destroy();
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("aws-lambda with weights: 's3'", { timeout: 240_000 }, () => {
  let functionName: string;

  it('plan says where the weights go and sizes /tmp for them', async () => {
    const run = await cli(['plan', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const plan = run.json().targets.find((t: { targetName: string }) => t.targetName === 'lambda');
    expect(plan).toMatchObject({ weights: 's3', package: 'zip', ephemeralStorageMb: 512, packageReason: expect.stringContaining("the weights are kept in S3 (weights: 's3')") });
    expect(plan.rollout.steps[0].action).toMatch(/^upload the weights to the CDK bootstrap bucket unless an object with their content is there already/);
  });

  it('deploys a zip without the model; the function fetches it from S3 at init and answers', async () => {
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN it passed its smoke test (golden outputs included) as version 1
    expect(run.code, run.stderr).toBe(0);
    const t = run.json().targets[0];
    expect(t).toMatchObject({ status: 'passed', promoted: true, version: '1' });
    functionName = [...fake.state.lambda.functions.keys()][0]!;
    const code = fake.state.lambda.functions.get(functionName)!.versions.get('1')!;
    // THEN the zip holds the handler and the signature, not the model (zip entry names are stored as written)
    expect(code.zip.includes(Buffer.from('model/signature.json'))).toBe(true);
    expect(code.zip.includes(Buffer.from('model/model.onnx'))).toBe(false);
    // THEN the function names its weights: the asset in the bootstrap bucket, with the model's sha256
    const objects = JSON.parse(code.env.DM_MODEL_OBJECTS!);
    expect(objects).toEqual([{ uri: expect.stringMatching(new RegExp(`^s3://${BUCKET}/[0-9a-f]{64}\\.onnx$`)), file: 'model.onnx', sha256: SHA, bytes: MODEL.length }]);
    const key = objects[0].uri.slice(`s3://${BUCKET}/`.length);
    expect(fake.state.s3.get(BUCKET)!.get(key)!.body).toEqual(MODEL);
    // THEN its role may read that object and nothing else in the bucket
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted)!;
    const statements = Object.values(stack.template!.Resources as Record<string, { Type: string; Properties: { PolicyDocument?: { Statement: Array<{ Sid?: string; Action: unknown; Resource: unknown }> } } }>)
      .filter((r) => r.Type === 'AWS::IAM::Policy').flatMap((r) => r.Properties.PolicyDocument!.Statement);
    const read = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ Sid: 'ReadModelWeights', Action: 's3:GetObject' });
    expect(JSON.stringify(read[0]!.Resource)).toContain(`/${key}`);
    expect(JSON.stringify(read[0]!.Resource)).not.toContain('*');
    // THEN the live alias answers with the weights fetched from S3
    const r = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: 'live', Payload: Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] })) }));
    expect(r.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(r.Payload!).toString()).outputs[0].data).toEqual([2, 3, 4, 5]);
    expect(weightUploads()).toHaveLength(1);
  });

  it('a change that leaves the weights alone publishes a new version and uploads no weights', async () => {
    // GIVEN another memory size: a new function configuration, the same weights
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config(', memoryMb: 1536'));
    // WHEN
    const run = await cli(['deploy', '--json']);
    // THEN version 2 serves, and the weights were uploaded once in all
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets[0]).toMatchObject({ status: 'passed', promoted: true, version: '2', previousVersion: '1' });
    expect(fake.state.lambda.functions.get(functionName)!.versions.get('2')!.memoryMb).toBe(1536);
    expect(weightUploads()).toHaveLength(1);
  });

  it("refuses weights: 's3' with package: 'image', before anything is built", async () => {
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config(", package: 'image'"));
    const run = await cli(['plan', '--json']);
    expect(run.code).not.toBe(0);
    expect(run.json().error).toMatchObject({ code: 'TARGET_INVALID', message: expect.stringContaining("weights: 's3' fetches the weights into /tmp beside a zip, and package: 'image' ships them in the image. Choose one: remove package: 'image'") });
  });
});
