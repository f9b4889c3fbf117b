import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRemoteModel } from '../../../src/model/remote/fetch-remote-model.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { applyEnv } from '../../emulators/_apply-env.js';
import { motoMissing, startMotoServer, type MotoServer } from './start-moto-server.js';

// GIVEN moto_server, an S3 we did not write, reached through AWS_ENDPOINT_URL as a user's shell
// would be, holding the tiny `add` model uploaded with a SHA256 checksum. moto 5.2.1 keeps it
// (moto/s3/models.py, FakeKey.checksum_value) and answers it when HeadObject/GetObject carry
// `x-amz-checksum-mode: ENABLED` (moto/s3/responses.py), as S3 does.

const missing = motoMissing();
const ADD = Buffer.from(tinyModelBytes('add'));
const ADD_SHA = createHash('sha256').update(ADD).digest('hex');

describe.skipIf(missing)(`a model in moto's S3${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let moto: MotoServer;
  let restoreEnv: () => void;
  let cacheDir: string;

  beforeAll(async () => {
    moto = await startMotoServer();
    restoreEnv = applyEnv(moto.env, ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']);
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'dm-moto-cache-'));
    const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'moto-models' }));
    await s3.send(new PutObjectCommand({ Bucket: 'moto-models', Key: 'add/model.onnx', Body: ADD, ChecksumAlgorithm: 'SHA256' }));
    s3.destroy();
  }, 60_000);
  afterAll(async () => {
    restoreEnv?.();
    await moto?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('downloads the model into the cache, checked against model.sha256', async () => {
    // WHEN
    const fetched = await fetchRemoteModel({ url: 's3://moto-models/add/model.onnx', sha256: ADD_SHA, cacheDir });
    // THEN
    expect(fetched).toMatchObject({ sha256: ADD_SHA, downloaded: true, checkedAgainst: 'config' });
    expect(await readFile(fetched.file)).toEqual(ADD);
    expect((await inspectModel(fetched.file)).inputs.map((i) => i.name)).toEqual(['x']);
  });

  it('refuses a model.sha256 that moto\'s stored checksum contradicts before downloading, and a key that does not exist', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'dm-moto-cache-'));
    try {
      await expect(fetchRemoteModel({ url: 's3://moto-models/add/model.onnx', sha256: 'b'.repeat(64), cacheDir: other }))
        .rejects.toMatchObject({ code: 'MODEL_SHA256_MISMATCH', details: { actual: ADD_SHA }, message: expect.stringContaining('in its checksum (nothing was downloaded)') });
      await expect(fetchRemoteModel({ url: 's3://moto-models/missing.onnx', cacheDir: other }))
        .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND', message: expect.stringContaining('AWS_ENDPOINT_URL') });
      await expect(fetchRemoteModel({ url: 's3://no-bucket-here/model.onnx', cacheDir: other }))
        .rejects.toMatchObject({ code: 'MODEL_URL_NOT_FOUND' });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});
