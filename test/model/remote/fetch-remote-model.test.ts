import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { fetchRemoteModel } from '../../../src/model/remote/fetch-remote-model.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { makeModelDir, removeModelDir, tinyModelBytes, writeTinyModel } from '../../_helpers/onnx-models.js';
import { writeSizedModel } from '../../../bench/_lib/sized-model.js';
import { applyEnv } from '../../emulators/_apply-env.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';
import { startAzureFake, type AzureFake } from '../../emulators/azure/index.js';
import { startGcsFake, type GcsFake } from '../../emulators/vertex/_gcs.js';

// GIVEN the tiny `add` model and the tiny `external-data` model (its bias in external-data.bin)
// in each store's fake, read by the real S3, Cloud Storage and Blob Storage clients.

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ADD = Buffer.from(tinyModelBytes('add'));
const ADD_SHA = sha256(ADD);
const OTHER_SHA = 'a'.repeat(64);

let dir: string;
let cacheDir: string;
let external: { onnx: Buffer; data: Buffer };

beforeAll(async () => {
  dir = await makeModelDir();
  const file = await writeTinyModel(dir, 'external-data');
  external = { onnx: await readFile(file), data: await readFile(path.join(dir, 'external-data.bin')) };
});
afterAll(() => removeModelDir(dir));
afterEach(async () => {
  await rm(path.join(dir, 'cache'), { recursive: true, force: true });
});

describe('a model in S3 (the AWS fake)', () => {
  let fake: AwsFake;
  let restoreEnv: () => void;
  let s3: S3Client;
  const getObjects = () => fake.calls.filter((c) => c.service === 's3' && c.action === 'GetObject').length;

  beforeAll(async () => {
    fake = await startAwsFake({ region: 'eu-west-1' });
    restoreEnv = fake.applyEnv();
    s3 = new S3Client({ region: 'eu-west-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'add/model.onnx', Body: ADD, ChecksumAlgorithm: 'SHA256' }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'plain/model.onnx', Body: ADD }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'ext/external-data.onnx', Body: external.onnx }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'ext/external-data.bin', Body: external.data }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'half/external-data.onnx', Body: external.onnx }));
  });
  afterAll(async () => {
    restoreEnv();
    expect(fake.internalErrors).toEqual([]);
    await fake.stop();
  });

  it('keeps the sha256 sent on upload, refuses a body that does not match it, and answers it only under checksum mode', async () => {
    await expect(s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'bad', Body: ADD, ChecksumSHA256: Buffer.from(OTHER_SHA, 'hex').toString('base64') })))
      .rejects.toMatchObject({ name: 'BadDigest' });
    const stored = fake.state.s3.get('models')!.get('add/model.onnx')!;
    expect(Buffer.from(stored.checksumSha256!, 'base64').toString('hex')).toBe(ADD_SHA);
  });

  it('downloads once into the cache, records the sha256, and reads it from the cache after', async () => {
    cacheDir = path.join(dir, 'cache');
    // WHEN
    const first = await fetchRemoteModel({ url: 's3://models/add/model.onnx', cacheDir });
    const before = getObjects();
    const second = await fetchRemoteModel({ url: 's3://models/add/model.onnx', cacheDir });
    // THEN
    expect(first).toMatchObject({ sha256: ADD_SHA, downloaded: true, checkedAgainst: 'recorded-now' });
    expect(sha256(await readFile(first.file))).toBe(ADD_SHA);
    expect(second).toEqual({ ...first, downloaded: false, checkedAgainst: 'record' });
    expect(getObjects()).toBe(before);
  });

  it('refuses an object that changed since its first download, against the recorded sha256', async () => {
    const cache = path.join(dir, 'cache');
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'moving/model.onnx', Body: ADD }));
    const first = await fetchRemoteModel({ url: 's3://models/moving/model.onnx', cacheDir: cache });
    // WHEN the object is replaced, and the cached copy is gone (a cleared cache that kept its records)
    await rm(path.dirname(first.file), { recursive: true });
    const other = Buffer.from(tinyModelBytes('unnamed-dim'));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'moving/model.onnx', Body: other }));
    const error = await fetchRemoteModel({ url: 's3://models/moving/model.onnx', cacheDir: cache }).catch((e: unknown) => e);
    // THEN
    expect(error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', details: { expected: ADD_SHA, actual: sha256(other), source: 'record' } });
    expect((error as Error).message).toContain(`set model.sha256: '${sha256(other)}'`);
  });

  it('refuses a sha256 that does not match S3\'s checksum before downloading anything', async () => {
    const before = getObjects();
    // WHEN
    const error = await fetchRemoteModel({ url: 's3://models/add/model.onnx', sha256: OTHER_SHA, cacheDir: path.join(dir, 'cache') }).catch((e: unknown) => e);
    // THEN
    expect(error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', details: { expected: OTHER_SHA, actual: ADD_SHA, source: 'config' } });
    expect((error as Error).message).toContain(`set model.sha256 to '${ADD_SHA}'`);
    expect(getObjects()).toBe(before);
  });

  it('refuses an object without a stored checksum whose download does not match, and caches nothing', async () => {
    const cache = path.join(dir, 'cache');
    // WHEN
    const error = await fetchRemoteModel({ url: 's3://models/plain/model.onnx', sha256: OTHER_SHA, cacheDir: cache }).catch((e: unknown) => e);
    // THEN
    expect(error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', details: { actual: ADD_SHA } });
    const ok = await fetchRemoteModel({ url: 's3://models/plain/model.onnx', sha256: ADD_SHA, cacheDir: cache });
    expect(ok).toMatchObject({ downloaded: true, checkedAgainst: 'config' });
  });

  it('downloads the external data files the model names, from beside it', async () => {
    // WHEN
    const fetched = await fetchRemoteModel({ url: 's3://models/ext/external-data.onnx', cacheDir: path.join(dir, 'cache') });
    // THEN
    const signature = await inspectModel(fetched.file);
    expect(signature.externalData).toEqual(['external-data.bin']);
    expect(await readFile(path.join(path.dirname(fetched.file), 'external-data.bin'))).toEqual(external.data);
  });

  it('keeps apart two models with the same .onnx file and different external data', async () => {
    const cache = path.join(dir, 'cache');
    const otherData = Buffer.from(new Float32Array([5, 6, 7, 8]).buffer);
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'ext2/external-data.onnx', Body: external.onnx }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'ext2/external-data.bin', Body: otherData }));
    // WHEN
    const a = await fetchRemoteModel({ url: 's3://models/ext/external-data.onnx', cacheDir: cache });
    const b = await fetchRemoteModel({ url: 's3://models/ext2/external-data.onnx', cacheDir: cache });
    // THEN
    expect(a.sha256).toBe(b.sha256);
    expect(a.file).not.toBe(b.file);
    expect(await readFile(path.join(path.dirname(a.file), 'external-data.bin'))).toEqual(external.data);
    expect(await readFile(path.join(path.dirname(b.file), 'external-data.bin'))).toEqual(otherData);
  });

  it('names the missing external data file, and a missing object, with MODEL_URL_NOT_FOUND', async () => {
    const cache = path.join(dir, 'cache');
    await expect(fetchRemoteModel({ url: 's3://models/half/external-data.onnx', cacheDir: cache }))
      .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND', details: { url: 's3://models/half/external-data.bin' } });
    await expect(fetchRemoteModel({ url: 's3://models/nothing.onnx', cacheDir: cache }))
      .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND', message: expect.stringContaining('aws s3 cp model.onnx') });
    await expect(fetchRemoteModel({ url: 's3://no-such-bucket/model.onnx', cacheDir: cache }))
      .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND' });
  });

  it('says MODEL_URL_CREDENTIALS_MISSING when the SDK finds no credentials', async () => {
    const restore = applyEnv({ AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: path.join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none') },
      ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE']);
    try {
      await expect(fetchRemoteModel({ url: 's3://models/add/model.onnx', cacheDir: path.join(dir, 'cache') }))
        .rejects.toMatchObject({ code: 'MODEL_URL_CREDENTIALS_MISSING', message: expect.stringContaining('aws configure') });
    } finally {
      restore();
    }
  });

  it('downloads a model too large for a Lambda zip with its external data, and validate counts both against the 250 MB limit', async () => {
    // GIVEN a 270 MB model generated here (weights in model.onnx.data), put straight into the fake's bucket
    const big = path.join(dir, 'big');
    await mkdir(big);
    const file = await writeSizedModel(big, 270e6);
    const onnx = await readFile(file);
    const object = (body: Buffer) => ({ body, etag: `"${sha256(body).slice(0, 32)}"`, contentType: 'binary/octet-stream', lastModified: new Date() });
    fake.state.s3.get('models')!.set('big/model.onnx', object(onnx));
    fake.state.s3.get('models')!.set('big/model.onnx.data', object(await readFile(path.join(big, 'model.onnx.data'))));
    await rm(big, { recursive: true });
    const configFile = path.join(dir, 'big.config.mjs');
    await writeFile(configFile, `export default { name: 'big', model: { path: 's3://models/big/model.onnx', sha256: '${sha256(onnx)}' }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1', package: 'zip' } } };\n`);
    const toolkit = new Toolkit({ cacheDir: path.join(dir, 'cache') });
    // WHEN
    const project = await toolkit.load({ configFile });
    const problems = await toolkit.validate(project);
    // THEN
    expect(project.signature.externalData).toEqual(['model.onnx.data']);
    expect(project.signature.initializerBytes).toBeGreaterThan(250 * 1024 * 1024);
    expect(problems).toEqual([expect.objectContaining({ path: 'targets.lambda', rule: expect.stringContaining('250 MB unzipped') })]);
    for (const key of ['big/model.onnx', 'big/model.onnx.data']) fake.state.s3.get('models')!.delete(key);
  }, 60_000);

  it('inspects a model given by its URL (deploy-model inspect s3://...)', async () => {
    const signature = await new Toolkit({ cacheDir: path.join(dir, 'cache') }).inspect('s3://models/add/model.onnx');
    expect(signature).toMatchObject({ sha256: ADD_SHA, inputs: [{ name: 'x' }] });
  });

  it('loads a project whose model.path is an s3:// URL: the signature is read from the cached file', async () => {
    const configFile = path.join(dir, 'deploy-model.config.mjs');
    await writeFile(configFile, `export default { name: 'adder', model: { path: 's3://models/add/model.onnx', sha256: '${ADD_SHA}' }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1' } } };\n`);
    const host = new RecordingIoHost();
    const toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, 'cache') });
    // WHEN
    const project = await toolkit.load({ configFile });
    const plan = await toolkit.plan(project);
    // THEN
    expect(project.signature).toMatchObject({ sha256: ADD_SHA, inputs: [{ name: 'x' }] });
    expect(project.loaded.modelUrl).toBe('s3://models/add/model.onnx');
    expect(plan.lambda!.model).toMatchObject({ file: project.loaded.modelPath, sha256: ADD_SHA });
    expect(host.codes()).toContain('DM_MODEL_DOWNLOADED');
    expect(host.codes()).not.toContain('DM_MODEL_SHA256_RECORDED');
  });
});

describe('a model in Cloud Storage (the GCS fake)', () => {
  let gcs: GcsFake;
  let restoreEnv: () => void;

  beforeAll(async () => {
    gcs = await startGcsFake();
    restoreEnv = applyEnv({ DEPLOY_MODEL_GCS_ENDPOINT: gcs.endpoint, DEPLOY_MODEL_GCP_ACCESS_TOKEN: 'fake-token' });
    gcs.createBucket('models');
    const object = (data: Buffer) => ({ data, md5Hash: createHash('md5').update(data).digest('base64'), crc32c: '', contentType: 'application/octet-stream' });
    gcs.buckets.get('models')!.set('v1/external-data.onnx', object(external.onnx));
    gcs.buckets.get('models')!.set('v1/external-data.bin', object(external.data));
  });
  afterAll(async () => {
    restoreEnv();
    await gcs.stop();
  });

  it('downloads the model and its external data with the access token, once', async () => {
    const cache = path.join(dir, 'cache');
    // WHEN
    const first = await fetchRemoteModel({ url: 'gs://models/v1/external-data.onnx', cacheDir: cache });
    const media = gcs.requests.filter((r) => r.method === 'GET' && /\/o\//.test(r.path)).length;
    const second = await fetchRemoteModel({ url: 'gs://models/v1/external-data.onnx', cacheDir: cache });
    // THEN
    expect(first).toMatchObject({ sha256: sha256(external.onnx), downloaded: true });
    expect(second.downloaded).toBe(false);
    expect(gcs.requests.filter((r) => r.method === 'GET' && /\/o\//.test(r.path)).length).toBe(media);
    expect((await inspectModel(first.file)).externalData).toEqual(['external-data.bin']);
    expect(gcs.authorizations.every((a) => a === 'Bearer fake-token')).toBe(true);
  });

  it('refuses a download whose sha256 is not model.sha256, and a missing object', async () => {
    const cache = path.join(dir, 'cache');
    await expect(fetchRemoteModel({ url: 'gs://models/v1/external-data.onnx', sha256: OTHER_SHA, cacheDir: cache }))
      .rejects.toMatchObject({ code: 'MODEL_SHA256_MISMATCH', details: { actual: sha256(external.onnx), source: 'config' } });
    await expect(fetchRemoteModel({ url: 'gs://models/v2/model.onnx', cacheDir: cache }))
      .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND', details: { url: 'gs://models/v2/model.onnx' } });
  });

  it('says MODEL_URL_ACCESS_DENIED when Cloud Storage refuses the identity', async () => {
    gcs.failRequest({ method: 'GET', path: /\/o\// }, { status: 403, message: 'caller does not have storage.objects.get access', reason: 'forbidden' });
    await expect(fetchRemoteModel({ url: 'gs://models/v1/external-data.onnx', cacheDir: path.join(dir, 'cache') }))
      .rejects.toMatchObject({ code: 'MODEL_URL_ACCESS_DENIED', message: expect.stringContaining('roles/storage.objectViewer') });
  });
});

describe('a model in Azure Blob Storage (the Azure fake)', () => {
  let azure: AzureFake;
  let restoreEnv: () => void;
  const url = 'https://dmstore.blob.core.windows.net/models/adder/model.onnx';

  beforeAll(async () => {
    azure = await startAzureFake();
    restoreEnv = azure.applyEnv();
    azure.state.blobs.set('dmstore/models', new Map([['adder/model.onnx', { data: ADD, contentType: 'application/octet-stream', etag: '"0x1"', lastModified: new Date() }]]));
  });
  afterAll(async () => {
    restoreEnv();
    await azure.stop();
  });

  it('downloads the blob through the blob endpoint with a bearer token, once', async () => {
    const cache = path.join(dir, 'cache');
    // WHEN
    const first = await fetchRemoteModel({ url, sha256: ADD_SHA, cacheDir: cache });
    const second = await fetchRemoteModel({ url, sha256: ADD_SHA, cacheDir: cache });
    // THEN
    expect(first).toMatchObject({ downloaded: true, checkedAgainst: 'config' });
    expect(sha256(await readFile(first.file))).toBe(ADD_SHA);
    expect(second.downloaded).toBe(false);
    expect(azure.requests.filter((r) => r.method === 'GET' && r.path.includes('/dmstore/models/')).length).toBe(1);
  });

  it('says MODEL_URL_NOT_FOUND for a blob that does not exist', async () => {
    await expect(fetchRemoteModel({ url: url.replace('adder', 'nobody'), cacheDir: path.join(dir, 'cache') }))
      .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND', message: expect.stringContaining('az storage blob upload') });
  });
});

describe('model.sha256 with a local model.path', () => {
  it('is checked against the file, and a mismatch stops the load with the value to pin', async () => {
    const file = await writeTinyModel(dir, 'add');
    const configFile = path.join(dir, 'local.config.mjs');
    const config = (pin: string) => `export default { name: 'adder', model: { path: ${JSON.stringify(file)}, sha256: '${pin}' }, targets: { local: { type: 'local' } } };\n`;
    const toolkit = new Toolkit({ cacheDir: path.join(dir, 'cache') });
    await writeFile(configFile, config(OTHER_SHA));
    await expect(toolkit.load({ configFile })).rejects.toMatchObject({
      code: 'MODEL_SHA256_MISMATCH', details: { expected: OTHER_SHA, actual: ADD_SHA }, message: expect.stringContaining(`set model.sha256 to '${ADD_SHA}'`),
    });
    await writeFile(configFile, config(ADD_SHA));
    expect((await toolkit.load({ configFile })).signature.sha256).toBe(ADD_SHA);
  });
});
