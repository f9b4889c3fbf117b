import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  GetBucketLocationCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsFake, type AwsFake } from './index.js';

/** A retry strategy with 10 ms backoff, so throttling tests stay fast. */
const fastRetry = new ConfiguredRetryStrategy(4, () => 10);

describe('AWS fake with the real SDK clients', () => {
  let fake: AwsFake;
  let config: { region: string; endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string }; retryStrategy: ConfiguredRetryStrategy };

  beforeAll(async () => {
    fake = await startAwsFake({ accountId: '111122223333', region: 'eu-west-1' });
    config = {
      region: fake.region,
      endpoint: fake.endpoint,
      credentials: { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! },
      retryStrategy: fastRetry,
    };
  });
  afterAll(async () => {
    expect(fake.internalErrors).toEqual([]);
    await fake.stop();
  });

  it('answers STS GetCallerIdentity with the fake account', async () => {
    // WHEN
    const identity = await new STSClient(config).send(new GetCallerIdentityCommand({}));
    // THEN
    expect(identity.Account).toBe('111122223333');
    expect(identity.Arn).toMatch(/^arn:aws:iam::111122223333:/);
    expect(fake.calls.at(-1)).toMatchObject({ service: 'sts', action: 'GetCallerIdentity', status: 200 });
  });

  it('answers SSM GetParameter after bootstrap and ParameterNotFound before', async () => {
    const ssm = new SSMClient(config);
    await expect(ssm.send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    // WHEN
    fake.bootstrap({ version: 30 });
    const result = await ssm.send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version', WithDecryption: true }));
    // THEN
    expect(result.Parameter?.Value).toBe('30');
  });

  it('stores, lists and returns S3 objects path-style, including streamed and multipart uploads', async () => {
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const bucket = 'cdk-hnb659fds-assets-111122223333-eu-west-1';
    // WHEN
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small/hello.txt', Body: 'hello', ContentType: 'text/plain' }));
    const big = Buffer.alloc(6 * 1024 * 1024, 7);
    await new Upload({ client: s3, params: { Bucket: bucket, Key: 'big.bin', Body: Readable.from([big]), ChecksumAlgorithm: 'SHA256' } }).done();
    await new Upload({ client: s3, params: { Bucket: bucket, Key: 'streamed.bin', Body: Readable.from([Buffer.from('abc')]), ChecksumAlgorithm: 'SHA256' } }).done();
    // THEN
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'small/', MaxKeys: 1 }));
    expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([['small/hello.txt', 5]]);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small/hello.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello');
    expect(fake.state.s3.get(bucket)?.get('big.bin')?.body.equals(big)).toBe(true);
    expect(fake.state.s3.get(bucket)?.get('streamed.bin')?.body.toString()).toBe('abc');
    expect(fake.calls.map((c) => c.action)).toEqual(expect.arrayContaining(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload']));
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(s3.send(new GetBucketLocationCommand({ Bucket: 'no-such-bucket' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });

  it('answers a missing stack with the ValidationError toolkit-lib recognises', async () => {
    const cfn = new CloudFormationClient(config);
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'Nope' }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Stack with id Nope does not exist',
    });
  });

  it('throttles with each service\'s real error shape, which the SDK retries', async () => {
    // GIVEN
    fake.faults.throttle('sts', 'GetCallerIdentity', 2);
    fake.faults.throttle('ssm', 'GetParameter', 1);
    fake.faults.throttle('cloudformation', 'DescribeStacks', 1);
    fake.faults.throttle('s3', 'ListObjectsV2', 1);
    const before = fake.calls.length;
    // WHEN
    await new STSClient(config).send(new GetCallerIdentityCommand({}));
    await new SSMClient(config).send(new GetParameterCommand({ Name: '/cdk-bootstrap/hnb659fds/version' }));
    await new CloudFormationClient(config).send(new DescribeStacksCommand({})).catch(() => undefined);
    await new S3Client({ ...config, forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'cdk-hnb659fds-assets-111122223333-eu-west-1' }));
    // THEN
    const statuses = fake.calls.slice(before).map((c) => `${c.service}:${c.status}`);
    expect(statuses).toEqual(['sts:400', 'sts:400', 'sts:200', 'ssm:400', 'ssm:200', 'cloudformation:400', 'cloudformation:200', 's3:503', 's3:200']);
  });
});
