/** Fills the content-addressed prefix of a model kept in S3: checks the source object, copies the model inside S3, uploads the small files, skips what is there. */
import { createReadStream } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { RepositoryCopy, RepositoryInS3 } from './_repository-in-s3.js';

/** S3 copies an object of up to 5 GB in one CopyObject; past it, in parts with UploadPartCopy (S3 API reference, CopyObject). */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

/** Part size of a multipart copy: S3 allows 5 MB to 5 GB per part and 10,000 parts. */
const PART_BYTES = 512 * 1024 ** 2;

export interface PublishRepositoryParams {
  readonly s3: S3Client;
  /** The environment's CDK bootstrap bucket. */
  readonly bucket: string;
  readonly repository: RepositoryInS3;
  readonly io: IoHelper;
  /** Above this size a model file is copied in parts. @default COPY_OBJECT_MAX_BYTES */
  readonly multipartCopyAboveBytes?: number;
}

export interface PublishRepositoryResult {
  readonly uploaded: string[];
  readonly copied: string[];
  /** Keys already under the prefix, left alone. */
  readonly present: string[];
}

/**
 * Checks that each source object is still the bytes the signature was read from (its sha256
 * checksum where S3 keeps one, else the ETag and size recorded at download), then copies and
 * uploads only what the prefix lacks. A mismatch throws MODEL_SHA256_MISMATCH before
 * anything is written.
 */
export async function publishRepository(p: PublishRepositoryParams): Promise<PublishRepositoryResult> {
  const { s3, bucket, repository, io } = p;
  const { ListObjectsV2Command, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const present = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: repository.prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) present.set(o.Key!.slice(repository.prefix.length), o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const missing = <T extends { key: string; bytes: number }>(files: readonly T[]) => files.filter((f) => present.get(f.key) !== f.bytes);
  const copies = missing(repository.copies);
  const uploads = missing(repository.uploads);

  // Every source is checked before the first write, also when its copy is there: a replaced
  // object means the config no longer describes what is deployed.
  const etags = new Map<string, string>();
  for (const c of repository.copies) etags.set(c.key, await checkSource(s3, c));
  for (const c of copies) {
    const started = Date.now();
    await copyInS3(s3, bucket, `${repository.prefix}${c.key}`, c, etags.get(c.key)!, p.multipartCopyAboveBytes ?? COPY_OBJECT_MAX_BYTES);
    io.info('DM_SAGEMAKER_MODEL_COPIED', `Copied s3://${c.sourceBucket}/${c.sourceKey} to s3://${bucket}/${repository.prefix}${c.key} inside S3 (${c.bytes} bytes, ${Date.now() - started} ms)`, {
      source: `s3://${c.sourceBucket}/${c.sourceKey}`, target: `s3://${bucket}/${repository.prefix}${c.key}`, bytes: c.bytes, ms: Date.now() - started,
    });
  }
  for (const u of uploads) {
    await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: `${repository.prefix}${u.key}`, Body: createReadStream(u.file), ContentLength: u.bytes,
      ChecksumSHA256: Buffer.from(u.sha256, 'hex').toString('base64'),
    }));
  }
  const result = { uploaded: uploads.map((u) => u.key), copied: copies.map((c) => c.key), present: [...present.keys()].sort() };
  io.info('DM_SAGEMAKER_MODEL_REPOSITORY', `Model repository s3://${bucket}/${repository.prefix}: ${result.copied.length} copied inside S3, ${result.uploaded.length} uploaded, ${repository.copies.length + repository.uploads.length - result.copied.length - result.uploaded.length} already there`, {
    s3Uri: `s3://${bucket}/${repository.prefix}`, ...result,
  });
  return result;
}

/** The source object's ETag, once its checksum (or its ETag and size) says it holds the recorded bytes. */
async function checkSource(s3: S3Client, c: RepositoryCopy): Promise<string> {
  const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const url = `s3://${c.sourceBucket}/${c.sourceKey}`;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: c.sourceBucket, Key: c.sourceKey, ChecksumMode: 'ENABLED' }));
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404) throw changed(url, c, 'it no longer exists', e);
    throw e;
  }
  // A multipart object's checksum is of its parts ("<base64>-<parts>"), not of its bytes.
  const whole = head.ChecksumSHA256 && head.ChecksumType !== 'COMPOSITE' && !head.ChecksumSHA256.includes('-')
    ? Buffer.from(head.ChecksumSHA256, 'base64').toString('hex') : undefined;
  if (whole !== undefined && whole !== c.sha256) throw changed(url, c, `its sha256 checksum is now ${whole}`, undefined, whole);
  if (head.ContentLength !== c.bytes) throw changed(url, c, `it is now ${head.ContentLength} bytes, not ${c.bytes}`);
  if (whole === undefined && c.etag !== undefined && head.ETag !== c.etag) throw changed(url, c, `its ETag is now ${head.ETag}, not ${c.etag}`);
  return head.ETag!;
}

/** The error the other targets that reference a model in place give too: the object is not the one the signature was read from. */
function changed(url: string, c: RepositoryCopy, what: string, cause?: unknown, now?: string): DeployModelError {
  return new DeployModelError('MODEL_SHA256_MISMATCH',
    `${url} is not the object the model's signature was read from (sha256 ${c.sha256}, ${c.bytes} bytes${c.etag ? `, ETag ${c.etag}` : ''}): ${what}. It was replaced after its sha256 was recorded; nothing was copied or deployed. ` +
    `If the new object is intended, set model.sha256 to ${now ? `'${now}'` : 'its sha256'} (or delete deploy-model's cache record of it, remote-models/urls) and deploy again; else restore the object.`,
    { ...(cause ? { cause } : {}), details: { url, expected: c.sha256, bytes: c.bytes, ...(c.etag ? { etag: c.etag } : {}), ...(now ? { actual: now } : {}) } });
}

/** CopyObject, or UploadPartCopy in parts past `above` bytes; each only while the source still has `etag`. */
async function copyInS3(s3: S3Client, bucket: string, key: string, c: RepositoryCopy, etag: string, above: number): Promise<void> {
  const { CopyObjectCommand, CreateMultipartUploadCommand, UploadPartCopyCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
  const source = `${c.sourceBucket}/${c.sourceKey.split('/').map(encodeURIComponent).join('/')}`;
  if (c.bytes <= above) {
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: source, CopySourceIfMatch: etag, ChecksumAlgorithm: 'SHA256' }));
    return;
  }
  const partBytes = Math.max(Math.ceil(c.bytes / 10_000), Math.min(PART_BYTES, above));
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  try {
    const parts = [];
    for (let start = 0, n = 1; start < c.bytes; start += partBytes, n += 1) {
      const end = Math.min(c.bytes, start + partBytes) - 1;
      const out = await s3.send(new UploadPartCopyCommand({
        Bucket: bucket, Key: key, UploadId, PartNumber: n, CopySource: source, CopySourceRange: `bytes=${start}-${end}`, CopySourceIfMatch: etag,
      }));
      parts.push({ PartNumber: n, ETag: out.CopyPartResult!.ETag! });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (e) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => undefined);
    throw e;
  }
}
