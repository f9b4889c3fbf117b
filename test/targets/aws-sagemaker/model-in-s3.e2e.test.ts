// aws-sagemaker with model.path in S3, through the CLI against the AWS fake: the model is copied inside S3 into an uncompressed repository SageMaker reads in place, never uploaded.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { startAwsFake, type AwsFake, type RecordedCall } from '../../emulators/aws/index.js';
import { sageMakerFake, type SageMakerFake } from '../../emulators/aws/sagemaker.js';

// GIVEN the tiny `add` model (y = x + [1,2,3,4]) as s3://models/adder/v1/model.onnx in the fake's
// S3, and a project whose aws-sagemaker target serves it; a model cache of its own.
const REGION = 'us-east-1';
const ENDPOINT = 'adder-dev-sagemaker';
const BOOTSTRAP = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const SOURCE = { Bucket: 'models', Key: 'adder/v1/model.onnx' };
const MODEL = Buffer.from(tinyModelBytes('add'));
const X = [-1, 2, -3, 4];

let fake: AwsFake;
let sm: SageMakerFake;
let s3: S3Client;
let restoreEnv: () => void;
let dir: string;
let cache: string;

const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));
const cli = (args: string[]): Promise<CliRun> => runCli(args, {
  cwd: dir, env: { ...CLEARED, ...fake.env, XDG_CACHE_HOME: cache, DEPLOY_MODEL_STACK_POLL_MS: '20' }, timeoutMs: 180_000,
});

async function callsDuring<T>(work: () => Promise<T>): Promise<{ result: T; calls: RecordedCall[] }> {
  const from = fake.calls.length;
  const result = await work();
  return { result, calls: fake.calls.slice(from) };
}

const keyOf = (c: RecordedCall) => String((c.params as { Key?: string }).Key ?? '');
const s3Calls = (calls: RecordedCall[], action: string) => calls.filter((c) => c.service === 's3' && c.action === action);
/** What the deploy wrote under the repositories' folder of the bootstrap bucket. */
const repositoryWrites = (calls: RecordedCall[]) => calls.filter((c) => c.service === 's3' && ['PutObject', 'CopyObject', 'UploadPartCopy', 'CreateMultipartUpload'].includes(c.action) && keyOf(c).startsWith('deploy-model/'));

async function answerNow(): Promise<number[]> {
  const serving = sm.endpoints.get(ENDPOINT)!.serving!;
  const res = await fetch(`${serving.url}/invocations`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }] }),
  });
  return Array.from(((await res.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data);
}

beforeAll(async () => {
  fake = await startAwsFake({ region: REGION });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  sm = sageMakerFake(fake.state);
  s3 = new S3Client({ region: REGION, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: SOURCE.Bucket }));
  // No checksum: the deploy checks the object by the ETag and size recorded at download.
  await s3.send(new PutObjectCommand({ ...SOURCE, Body: MODEL }));
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-sagemaker-s3-'));
  cache = path.join(dir, '.cache');
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: 's3://${SOURCE.Bucket}/${SOURCE.Key}' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: '${REGION}', instanceType: 'ml.g5.xlarge' } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
});

afterAll(async () => {
  s3?.destroy();
  await sm?.close();
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('aws-sagemaker with model.path in S3', { timeout: 240_000 }, () => {
  let prefix: string;
  let config: string;

  it('deploy copies the model inside S3 into an uncompressed repository, uploads only config.pbtxt, and the smoke test passes', async () => {
    // WHEN
    const { result: run, calls } = await callsDuring(() => cli(['deploy', '--json']));
    // THEN the deploy passed its smoke test
    expect(run.code, run.stderr).toBe(0);
    const target = run.json().targets[0];
    expect(target).toMatchObject({ status: 'passed', details: { modelRepository: { copied: ['adder/1/model.onnx'], uploaded: ['adder/config.pbtxt'] } } });
    prefix = target.details.modelRepository.s3Uri.replace(`s3://${BOOTSTRAP}/`, '');
    expect(prefix).toMatch(/^deploy-model\/triton\/[0-9a-f]{64}\/$/);
    // THEN the model's bytes went through one server-side copy from the source, guarded by its ETag; no upload of them, no archive
    const copies = s3Calls(calls, 'CopyObject');
    expect(copies.map(keyOf)).toEqual([`${prefix}adder/1/model.onnx`]);
    expect(s3Calls(calls, 'PutObject').map(keyOf).filter((k) => k.endsWith('.onnx') || k.endsWith('.tar.gz'))).toEqual([]);
    expect(s3Calls(calls, 'PutObject').map(keyOf).filter((k) => k.startsWith('deploy-model/'))).toEqual([`${prefix}adder/config.pbtxt`]);
    expect(fake.state.s3.get(BOOTSTRAP)!.get(`${prefix}adder/1/model.onnx`)!.body.equals(MODEL)).toBe(true);
    // THEN the Model names the prefix as an uncompressed S3Prefix, and the endpoint answers from it
    const model = [...sm.models.values()][0]!;
    expect(model.modelDataSource).toEqual({ s3Uri: `s3://${BOOTSTRAP}/${prefix}`, s3DataType: 'S3Prefix', compressionType: 'None' });
    expect(model.modelDataUrl).toBe('');
    expect(await answerNow()).toEqual([0, 4, 0, 8]);
    config = sm.endpoints.get(ENDPOINT)!.configName;
    expect(fake.internalErrors).toEqual([]);
  });

  it('a second deploy with nothing changed copies and uploads nothing', async () => {
    const { result: run, calls } = await callsDuring(() => cli(['deploy', '--json']));
    expect(run.code, run.stderr).toBe(0);
    expect(run.json().targets[0]).toMatchObject({ status: 'passed', details: { modelRepository: { copied: [], uploaded: [] } } });
    expect(repositoryWrites(calls)).toEqual([]);
    expect(s3Calls(calls, 'PutObject').map(keyOf).filter((k) => k.endsWith('.onnx') || k.endsWith('.tar.gz'))).toEqual([]);
    expect(sm.endpoints.get(ENDPOINT)!.configName).toBe(config);
  });

  it('a replaced source object is refused with MODEL_SHA256_MISMATCH before anything changes', async () => {
    // GIVEN y = relu(x) put where the model was: the cache still holds the old bytes
    await s3.send(new PutObjectCommand({ ...SOURCE, Body: Buffer.from(tinyModelBytes('unnamed-dim')) }));
    // WHEN
    const { result: run, calls } = await callsDuring(() => cli(['deploy']));
    // THEN
    expect(run.code).toBe(1);
    expect(`${run.stdout}\n${run.stderr}`).toContain('MODEL_SHA256_MISMATCH');
    expect(repositoryWrites(calls)).toEqual([]);
    expect(calls.filter((c) => c.service === 'cloudformation' && /ChangeSet|UpdateStack|CreateStack/.test(c.action))).toEqual([]);
    expect(calls.filter((c) => c.service === 'sagemaker' && /^(Create|Update|Delete)/.test(c.action))).toEqual([]);
    expect(sm.endpoints.get(ENDPOINT)).toMatchObject({ status: 'InService', configName: config });
    expect(await answerNow()).toEqual([0, 4, 0, 8]);
  });

  it('destroy removes the endpoint', async () => {
    const run = await cli(['destroy', '--yes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect([...sm.endpoints.keys()]).toEqual([]);
  });
});
