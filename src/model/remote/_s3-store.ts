/** Reads model objects from S3 with the AWS SDK's default credentials (AWS_ENDPOINT_URL honoured, e.g. for moto). */
import type { Readable } from 'node:stream';
import { endpointOverride, overrideNote } from '../../kits/aws/endpoint-override.js';
import { storeError, type ObjectInfo, type ObjectStore } from './_object-store.js';

const CREDENTIALS_FIX = 'Configure AWS credentials (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for an identity that may s3:GetObject it.';

function s3Failure(e: unknown, url: string): Error {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const reason = `${err.name ?? 'Error'}: ${err.message ?? String(e)}`.slice(0, 300) + overrideNote('S3');
  if (err.name === 'CredentialsProviderError' || /credential/i.test(err.message ?? '') && status === undefined) return storeError('credentials', url, reason, CREDENTIALS_FIX, e);
  if (status === 404 || err.name === 'NoSuchKey' || err.name === 'NoSuchBucket' || err.name === 'NotFound') {
    return storeError('not-found', url, reason, 'Upload the model there (aws s3 cp model.onnx s3://bucket/key --checksum-algorithm SHA256), or fix model.path.', e);
  }
  if (status === 403 || err.name === 'AccessDenied' || err.name === 'Forbidden' || err.name === 'InvalidAccessKeyId' || err.name === 'ExpiredToken') {
    return storeError('denied', url, reason, `Grant the deploying identity s3:GetObject on ${url.replace(/^s3:\/\/([^/]+)\//, 'arn:aws:s3:::$1/')}, or renew its credentials.`, e);
  }
  return e instanceof Error ? e : new Error(String(e));
}

export async function s3Store(bucket: string): Promise<ObjectStore> {
  const { S3Client, HeadObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    followRegionRedirects: true,
    // An emulator on an IP or localhost has no per-bucket host names.
    forcePathStyle: endpointOverride('S3') !== undefined,
  });
  const urlOf = (key: string) => `s3://${bucket}/${key}`;
  return {
    urlOf,
    async head(key): Promise<ObjectInfo> {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
        // A multipart object's checksum is of its parts (COMPOSITE, "<base64>-<parts>"), not of its bytes.
        const whole = out.ChecksumSHA256 && out.ChecksumType !== 'COMPOSITE' && !out.ChecksumSHA256.includes('-');
        return {
          bytes: out.ContentLength ?? 0,
          ...(whole ? { sha256: Buffer.from(out.ChecksumSHA256!, 'base64').toString('hex') } : {}),
          ...(out.ETag ? { etag: out.ETag } : {}),
        };
      } catch (e) {
        throw s3Failure(e, urlOf(key));
      }
    },
    async read(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return out.Body as Readable;
      } catch (e) {
        throw s3Failure(e, urlOf(key));
      }
    },
  };
}
