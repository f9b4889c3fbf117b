// publishRepository against the AWS fake's S3: the source check (checksum, ETag, size), the multipart copy past the CopyObject limit, and the skip of what is there.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDeployModelError } from '../../../src/errors.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { planRepositoryInS3, type RepositoryInS3 } from '../../../src/targets/aws-sagemaker/_repository-in-s3.js';
import { publishRepository } from '../../../src/targets/aws-sagemaker/_publish-repository.js';
import { startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

const BUCKET = 'cdk-hnb659fds-assets-123456789012-us-east-1';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** Stands in for a model: 3 MB, so a 1 MB threshold copies it in parts. */
const MODEL = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
const DATA = Buffer.from('external data bytes');

let fake: AwsFake;
let s3: S3Client;
let dir: string;

/** The repository of s3://models/<folder>/model.onnx with its external data file, as the build plans it from the cache's record. */
async function repositoryOf(folder: string, record: { etag?: string; bytes?: number; sha256?: string } = {}): Promise<RepositoryInS3> {
  return planRepositoryInS3({
    url: { kind: 's3', url: `s3://models/${folder}/model.onnx`, bucket: 'models', key: `${folder}/model.onnx` },
    record: {
      url: `s3://models/${folder}/model.onnx`, sha256: record.sha256 ?? sha(MODEL), bytes: record.bytes ?? MODEL.length, ...(record.etag ? { etag: record.etag } : {}),
      externalData: [{ location: 'model.onnx.data', sha256: sha(DATA), bytes: DATA.length }], folder: 'x',
    },
    root: dir, files: ['m/1/model.onnx', 'm/1/model.onnx.data', 'm/config.pbtxt'], modelName: 'm',
  });
}

beforeAll(async () => {
  fake = await startAwsFake({ region: 'us-east-1' });
  fake.bootstrap();
  s3 = new S3Client({ region: 'us-east-1', endpoint: fake.endpoint, forcePathStyle: true, credentials: { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! } });
  await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
  for (const folder of ['checked', 'plain']) {
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: `${folder}/model.onnx`, Body: MODEL, ...(folder === 'checked' ? { ChecksumAlgorithm: 'SHA256' } : {}) }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: `${folder}/model.onnx.data`, Body: DATA }));
  }
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-publish-repository-'));
  await mkdir(path.join(dir, 'm'), { recursive: true });
  await writeFile(path.join(dir, 'm', 'config.pbtxt'), 'name: "m"');
});

afterAll(async () => {
  s3?.destroy();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('publishRepository', () => {
  it('copies the model past the threshold in parts, the data file with CopyObject, uploads config.pbtxt, then finds it all there', async () => {
    // GIVEN
    const repository = await repositoryOf('checked');
    const host = new RecordingIoHost();
    const from = fake.calls.length;
    // WHEN
    const first = await publishRepository({ s3, bucket: BUCKET, repository, io: new IoHelper(host, 't'), multipartCopyAboveBytes: 1024 * 1024 });
    const firstCalls = fake.calls.slice(from).filter((c) => c.service === 's3').map((c) => c.action);
    const again = await publishRepository({ s3, bucket: BUCKET, repository, io: new IoHelper(host, 't'), multipartCopyAboveBytes: 1024 * 1024 });
    // THEN
    expect(first).toMatchObject({ copied: ['m/1/model.onnx', 'm/1/model.onnx.data'], uploaded: ['m/config.pbtxt'] });
    expect(firstCalls.filter((a) => a === 'UploadPartCopy')).toHaveLength(4);
    expect(firstCalls.filter((a) => a === 'CopyObject')).toHaveLength(1);
    expect(firstCalls.filter((a) => a === 'PutObject')).toHaveLength(1);
    expect(fake.state.s3.get(BUCKET)!.get(`${repository.prefix}m/1/model.onnx`)!.body.equals(MODEL)).toBe(true);
    expect(fake.state.s3.get(BUCKET)!.get(`${repository.prefix}m/1/model.onnx.data`)!.body.equals(DATA)).toBe(true);
    expect(again).toMatchObject({ copied: [], uploaded: [], present: ['m/1/model.onnx', 'm/1/model.onnx.data', 'm/config.pbtxt'] });
    expect(host.codes()).toEqual(['DM_SAGEMAKER_MODEL_COPIED', 'DM_SAGEMAKER_MODEL_COPIED', 'DM_SAGEMAKER_MODEL_REPOSITORY', 'DM_SAGEMAKER_MODEL_REPOSITORY']);
  });

  it("refuses a source whose sha256 checksum is not the recorded one, naming the new sha256, before writing anything", async () => {
    const repository = await repositoryOf('checked', { sha256: 'a'.repeat(64) });
    const from = fake.calls.length;
    const error = await publishRepository({ s3, bucket: BUCKET, repository, io: new IoHelper(new RecordingIoHost(), 't') }).catch((e: unknown) => e);
    expect(isDeployModelError(error) && error.code).toBe('MODEL_SHA256_MISMATCH');
    expect((error as Error).message).toContain(`model.sha256 to '${sha(MODEL)}'`);
    expect(fake.calls.slice(from).filter((c) => ['PutObject', 'CopyObject', 'CreateMultipartUpload'].includes(c.action))).toEqual([]);
  });

  it('without a checksum, refuses a source whose ETag or size is not the recorded one', async () => {
    // GIVEN another account's bootstrap bucket: the same content has its prefix already in BUCKET
    await s3.send(new CreateBucketCommand({ Bucket: 'other-bootstrap' }));
    const etag = fake.state.s3.get('models')!.get('plain/model.onnx')!.etag;
    const ok = await publishRepository({ s3, bucket: 'other-bootstrap', repository: await repositoryOf('plain', { etag }), io: new IoHelper(new RecordingIoHost(), 't') });
    expect(ok.copied).toEqual(['m/1/model.onnx', 'm/1/model.onnx.data']);
    for (const record of [{ etag: '"0123"' }, { etag, bytes: MODEL.length + 1 }]) {
      const error = await publishRepository({ s3, bucket: 'other-bootstrap', repository: await repositoryOf('plain', record), io: new IoHelper(new RecordingIoHost(), 't') }).catch((e: unknown) => e);
      expect(isDeployModelError(error) && error.code).toBe('MODEL_SHA256_MISMATCH');
    }
  });
});
