// publishRepository against moto's S3, an S3 we did not write: the server-side copies (CopyObject, UploadPartCopy) and the If-Match guard the AWS fake models.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { publishRepository } from '../../../src/targets/aws-sagemaker/_publish-repository.js';
import { planRepositoryInS3 } from '../../../src/targets/aws-sagemaker/_repository-in-s3.js';
import { motoMissing, startMotoServer, type MotoServer } from './start-moto-server.js';

// GIVEN moto_server holding a 6 MB stand-in for a model: S3 refuses parts under 5 MB but the
// last, so a 5 MB threshold copies it in two parts (moto/s3/models.py, complete_multipart_upload).

const missing = motoMissing();
const MODEL = Buffer.alloc(6 * 1024 * 1024, 3);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.skipIf(missing)(`server-side copies into moto's S3${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let moto: MotoServer;
  let s3: S3Client;
  let dir: string;

  beforeAll(async () => {
    moto = await startMotoServer();
    s3 = new S3Client({
      region: 'us-east-1', endpoint: moto.env.AWS_ENDPOINT_URL, forcePathStyle: true,
      credentials: { accessKeyId: moto.env.AWS_ACCESS_KEY_ID ?? 'testing', secretAccessKey: moto.env.AWS_SECRET_ACCESS_KEY ?? 'testing' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bootstrap' }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'm/model.onnx', Body: MODEL }));
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-moto-copy-'));
    await mkdir(path.join(dir, 'm'), { recursive: true });
    await writeFile(path.join(dir, 'm', 'config.pbtxt'), 'name: "m"');
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('copies in parts past the threshold and uploads config.pbtxt; a second run writes nothing', async () => {
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'models', Key: 'm/model.onnx' }));
    const repository = await planRepositoryInS3({
      url: { kind: 's3', url: 's3://models/m/model.onnx', bucket: 'models', key: 'm/model.onnx' },
      record: { url: 's3://models/m/model.onnx', sha256: sha(MODEL), bytes: MODEL.length, etag: head.ETag!, externalData: [], folder: 'x' },
      root: dir, files: ['m/1/model.onnx', 'm/config.pbtxt'], modelName: 'm',
    });
    const io = new IoHelper(new RecordingIoHost(), 't');
    const first = await publishRepository({ s3, bucket: 'bootstrap', repository, io, multipartCopyAboveBytes: 5 * 1024 * 1024 });
    const again = await publishRepository({ s3, bucket: 'bootstrap', repository, io, multipartCopyAboveBytes: 5 * 1024 * 1024 });
    expect(first).toMatchObject({ copied: ['m/1/model.onnx'], uploaded: ['m/config.pbtxt'] });
    expect(again).toMatchObject({ copied: [], uploaded: [] });
    const copy = await s3.send(new GetObjectCommand({ Bucket: 'bootstrap', Key: `${repository.prefix}m/1/model.onnx` }));
    expect(sha(Buffer.from(await copy.Body!.transformToByteArray()))).toBe(sha(MODEL));
  });

  // moto 5.2.1 checks x-amz-copy-source-if-none-match only (moto/s3/responses.py, copy_object), not
  // If-Match; the refusal's shape is the same for both conditions (S3 API reference, CopyObject:
  // 412 Precondition Failed), and the fake's If-Match refusal is checked against this shape.
  it('refuses a copy whose copy-source condition fails with 412 PreconditionFailed, the shape the fake answers', async () => {
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket: 'models', Key: 'm/model.onnx' }));
    await expect(s3.send(new CopyObjectCommand({ Bucket: 'bootstrap', Key: 'other', CopySource: 'models/m/model.onnx', CopySourceIfNoneMatch: ETag })))
      .rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
  });
});
