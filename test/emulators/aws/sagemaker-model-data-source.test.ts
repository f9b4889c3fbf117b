// The AWS fake's uncompressed model data (ModelDataSource S3Prefix) and server-side copies (CopyObject, UploadPartCopy), with the real SDK clients.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand, DescribeModelCommand, SageMakerClient,
  type DescribeEndpointCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../../_helpers/onnx-models.js';
import { extractModelArchive } from './_sagemaker-tar.js';
import { removeTestArchives, tritonArchive, type TestArchive } from './_sagemaker-test-model.js';
import { startAwsFake, type AwsFake } from './index.js';
import { sageMakerFake } from './sagemaker.js';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const BUCKET = `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;
const IMAGE = `763104351884.dkr.ecr.${REGION}.amazonaws.com/sagemaker-tritonserver:25.09-py3`;

let fake: AwsFake;
let sm: SageMakerClient;
let s3: S3Client;
let cls: TestArchive;
let scratch: string;

function config() {
  return {
    region: fake.region,
    endpoint: fake.endpoint,
    credentials: { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! },
    retryStrategy: new ConfiguredRetryStrategy(4, () => 10),
  };
}

const createModel = (name: string, s3DataSource: Record<string, string>) => sm.send(new CreateModelCommand({
  ModelName: name, ExecutionRoleArn: ROLE,
  PrimaryContainer: { Image: IMAGE, ModelDataSource: { S3DataSource: s3DataSource as never }, Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'cls' } },
}));

async function settled(name: string): Promise<DescribeEndpointCommandOutput> {
  for (;;) {
    const d = await sm.send(new DescribeEndpointCommand({ EndpointName: name }));
    if (!['Creating', 'Updating', 'RollingBack', 'Deleting'].includes(d.EndpointStatus!)) return d;
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  fake = await startAwsFake({ accountId: ACCOUNT, region: REGION });
  fake.bootstrap();
  sm = new SageMakerClient(config());
  s3 = new S3Client({ ...config(), forcePathStyle: true });
  cls = await tritonArchive(REAL_MODELS.cls, 'cls');
  // GIVEN the cls repository uncompressed under repo/cls-v1/ (the files of the archive, as keys)
  scratch = await mkdtemp(path.join(tmpdir(), 'dm-sagemaker-prefix-'));
  const files = await extractModelArchive(cls.bytes, scratch);
  for (const f of files) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `repo/cls-v1/${f}`, Body: await readFile(path.join(scratch, f)) }));
});

afterAll(async () => {
  await sageMakerFake(fake.state).close();
  expect(fake.internalErrors).toEqual([]);
  await fake.stop();
  await removeTestArchives();
  await rm(scratch, { recursive: true, force: true });
});

describe('ModelDataSource with an uncompressed S3Prefix', () => {
  it('refuses an S3Prefix URI that does not end with /, a prefix with no object, Gzip with S3Prefix, and ModelDataUrl beside it', async () => {
    await expect(createModel('no-slash', { S3Uri: `s3://${BUCKET}/repo/cls-v1`, S3DataType: 'S3Prefix', CompressionType: 'None' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('must end with a forward slash') });
    await expect(createModel('missing', { S3Uri: `s3://${BUCKET}/repo/nothing-here/`, S3DataType: 'S3Prefix', CompressionType: 'None' }))
      .rejects.toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Could not find model data') });
    await expect(createModel('gzip-prefix', { S3Uri: `s3://${BUCKET}/repo/cls-v1/`, S3DataType: 'S3Prefix', CompressionType: 'Gzip' }))
      .rejects.toMatchObject({ name: 'ValidationException' });
    await expect(sm.send(new CreateModelCommand({
      ModelName: 'both', ExecutionRoleArn: ROLE,
      PrimaryContainer: { Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/x.tar.gz`, ModelDataSource: { S3DataSource: { S3Uri: `s3://${BUCKET}/repo/cls-v1/`, S3DataType: 'S3Prefix', CompressionType: 'None' } } },
    }))).rejects.toMatchObject({ name: 'ValidationException' });
    expect([...sageMakerFake(fake.state).models.keys()]).toEqual([]);
  });

  it('serves a model from the prefix, laid out under /opt/ml/model as the keys say, with no archive', async () => {
    // WHEN
    await createModel('cls-prefix', { S3Uri: `s3://${BUCKET}/repo/cls-v1/`, S3DataType: 'S3Prefix', CompressionType: 'None' });
    await sm.send(new CreateEndpointConfigCommand({
      EndpointConfigName: 'cls-prefix-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'cls-prefix', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
    }));
    await sm.send(new CreateEndpointCommand({ EndpointName: 'cls-prefix', EndpointConfigName: 'cls-prefix-config' }));
    const ready = await settled('cls-prefix');
    // THEN
    expect(ready.EndpointStatus).toBe('InService');
    const described = await sm.send(new DescribeModelCommand({ ModelName: 'cls-prefix' }));
    expect(described.PrimaryContainer?.ModelDataSource).toEqual({ S3DataSource: { S3Uri: `s3://${BUCKET}/repo/cls-v1/`, S3DataType: 'S3Prefix', CompressionType: 'None' } });
    expect(described.PrimaryContainer?.ModelDataUrl).toBeUndefined();
    const served = sageMakerFake(fake.state).endpoints.get('cls-prefix')!.serving!;
    const res = await fetch(`${served.url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cls.request) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model_name: 'cls', outputs: [{ name: cls.outputNames[0], shape: [1, 2] }] });
  });

  it('fails an endpoint whose prefix was emptied after the model was created, with the download FailureReason', async () => {
    // GIVEN a model whose prefix exists at CreateModel, then is deleted
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'repo/gone/cls/config.pbtxt', Body: 'name: "cls"' }));
    await createModel('gone', { S3Uri: `s3://${BUCKET}/repo/gone/`, S3DataType: 'S3Prefix', CompressionType: 'None' });
    fake.state.s3.get(BUCKET)!.delete('repo/gone/cls/config.pbtxt');
    await sm.send(new CreateEndpointConfigCommand({
      EndpointConfigName: 'gone-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'gone', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
    }));
    // WHEN
    await sm.send(new CreateEndpointCommand({ EndpointName: 'gone', EndpointConfigName: 'gone-config' }));
    // THEN
    expect(await settled('gone')).toMatchObject({ EndpointStatus: 'Failed', FailureReason: expect.stringContaining('Failed to download model data') });
  });
});

describe('server-side copies', () => {
  const body = Buffer.from('0123456789abcdefghij');

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: 'a/model.onnx', Body: body, ChecksumAlgorithm: 'SHA256' }));
  });

  it('CopyObject copies the bytes and the checksum, only while x-amz-copy-source-if-match holds, and is recorded as a copy', async () => {
    const head = fake.state.s3.get('models')!.get('a/model.onnx')!;
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/model.onnx', CopySource: 'models/a/model.onnx', CopySourceIfMatch: head.etag }));
    const copy = fake.state.s3.get(BUCKET)!.get('copy/model.onnx')!;
    expect(copy.body.equals(body)).toBe(true);
    expect(copy.checksumSha256).toBe(head.checksumSha256);
    await expect(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/other.onnx', CopySource: 'models/a/model.onnx', CopySourceIfMatch: '"not-the-etag"' })))
      .rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(fake.state.s3.get(BUCKET)!.has('copy/other.onnx')).toBe(false);
    expect(fake.calls.filter((c) => c.service === 's3' && c.action === 'CopyObject').map((c) => (c.params as { Key: string }).Key)).toEqual(['copy/model.onnx', 'copy/other.onnx']);
  });

  it('UploadPartCopy copies byte ranges into a multipart upload', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'copy/parts.onnx' }));
    const a = await s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'copy/parts.onnx', UploadId, PartNumber: 1, CopySource: 'models/a/model.onnx', CopySourceRange: 'bytes=0-9' }));
    const b = await s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'copy/parts.onnx', UploadId, PartNumber: 2, CopySource: 'models/a/model.onnx', CopySourceRange: 'bytes=10-19' }));
    await expect(s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: 'copy/parts.onnx', UploadId, PartNumber: 3, CopySource: 'models/a/model.onnx', CopySourceRange: 'bytes=10-20' })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: 'copy/parts.onnx', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: a.CopyPartResult!.ETag! }, { PartNumber: 2, ETag: b.CopyPartResult!.ETag! }] },
    }));
    expect(fake.state.s3.get(BUCKET)!.get('copy/parts.onnx')!.body.equals(body)).toBe(true);
  });
});
