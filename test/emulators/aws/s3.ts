import { createHash, randomBytes } from 'node:crypto';
import type { FakeContext } from './_context.js';
import { s3ErrorReply, type AwsServiceModule, type ParsedCall } from './_service.js';
import { AwsError, escapeXml, headerValue, xmlReply, type WireReply, type WireRequest } from './_wire.js';
import type { S3Object } from './state.js';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Path-style addressing: `/{bucket}/{key}`, the key percent-decoded per segment. */
function target(req: WireRequest): { bucket: string; key: string } {
  const [bucket = '', ...rest] = req.rawPath.replace(/^\//, '').split('/');
  return { bucket: decodeURIComponent(bucket), key: rest.map(decodeURIComponent).join('/') };
}

function actionOf(req: WireRequest): string {
  const { bucket, key } = target(req);
  const q = req.query;
  const m = req.method;
  if (!bucket) return 'ListBuckets';
  if (!key) {
    if (q.has('location')) return 'GetBucketLocation';
    if (q.has('encryption')) return 'GetBucketEncryption';
    if (q.has('delete') && m === 'POST') return 'DeleteObjects';
    if (m === 'GET') return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    return { HEAD: 'HeadBucket', PUT: 'CreateBucket', DELETE: 'DeleteBucket' }[m] ?? `Unknown${m}Bucket`;
  }
  if (m === 'POST' && q.has('uploads')) return 'CreateMultipartUpload';
  if (m === 'POST' && q.has('uploadId')) return 'CompleteMultipartUpload';
  if (m === 'PUT' && q.has('uploadId')) return req.headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
  if (m === 'DELETE' && q.has('uploadId')) return 'AbortMultipartUpload';
  if (m === 'PUT' && req.headers['x-amz-copy-source']) return 'CopyObject';
  return { GET: 'GetObject', HEAD: 'HeadObject', PUT: 'PutObject', DELETE: 'DeleteObject' }[m] ?? `Unknown${m}Object`;
}

function bucketOf(ctx: FakeContext, bucket: string): Map<string, S3Object> {
  const objects = ctx.state.s3.get(bucket);
  if (!objects) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
  return objects;
}

function objectOf(ctx: FakeContext, bucket: string, key: string): S3Object {
  const object = bucketOf(ctx, bucket).get(key);
  if (!object) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
  return object;
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('base64');

/**
 * Stores an object. With `checksumSha256` (the base64 `x-amz-checksum-sha256` a client sent), S3
 * checks it against the body, refusing a mismatch with BadDigest, and keeps it.
 */
export function putObject(ctx: FakeContext, bucket: string, key: string, body: Buffer, contentType = 'binary/octet-stream', checksumSha256?: string): S3Object {
  if (checksumSha256 !== undefined && checksumSha256 !== sha256(body)) {
    throw new AwsError('BadDigest', 'The SHA256 you specified did not match the calculated checksum.', 400);
  }
  const object: S3Object = { body, etag: `"${md5(body)}"`, contentType, lastModified: new Date(), ...(checksumSha256 ? { checksumSha256 } : {}) };
  bucketOf(ctx, bucket).set(key, object);
  return object;
}

/** An object's headers; its checksum only when asked with `x-amz-checksum-mode: ENABLED`, as S3 does. */
function objectHeaders(o: S3Object, req?: WireRequest): Record<string, string> {
  const checksum: Record<string, string> = o.checksumSha256 && headerValue(req?.headers ?? {}, 'x-amz-checksum-mode') === 'ENABLED'
    ? { 'x-amz-checksum-sha256': o.checksumSha256, 'x-amz-checksum-type': 'FULL_OBJECT' }
    : {};
  return {
    'content-type': o.contentType, 'content-length': String(o.body.length), etag: o.etag,
    'last-modified': o.lastModified.toUTCString(), 'accept-ranges': 'bytes', ...checksum,
  };
}

function listObjects(ctx: FakeContext, bucket: string, q: URLSearchParams, v2: boolean): WireReply {
  const objects = bucketOf(ctx, bucket);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const maxKeys = Number(q.get('max-keys') ?? 1000);
  const after = (v2 ? q.get('continuation-token') ?? q.get('start-after') : q.get('marker')) ?? '';
  const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const contents: string[] = [];
  const prefixes = new Set<string>();
  let last = '';
  let truncated = false;
  for (const key of keys) {
    if (contents.length + prefixes.size >= maxKeys) {
      truncated = true;
      break;
    }
    last = key;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      prefixes.add(key.slice(0, cut + delimiter.length));
      continue;
    }
    const o = objects.get(key)!;
    contents.push(`<Contents><Key>${escapeXml(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
      `<ETag>${escapeXml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
  }
  const paging = v2
    ? `<KeyCount>${contents.length + prefixes.size}</KeyCount>${truncated ? `<NextContinuationToken>${escapeXml(last)}</NextContinuationToken>` : ''}`
    : truncated ? `<NextMarker>${escapeXml(last)}</NextMarker>` : '';
  const common = [...prefixes].map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`).join('');
  return xmlReply(200, `<ListBucketResult xmlns="${NS}"><Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix>` +
    `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${paging}${contents.join('')}${common}</ListBucketResult>`);
}

type Op = (req: WireRequest, ctx: FakeContext, t: { bucket: string; key: string }) => WireReply;

const OPS: Record<string, Op> = {
  ListBuckets: (_req, ctx) => xmlReply(200, `<ListAllMyBucketsResult xmlns="${NS}"><Owner><ID>${ctx.accountId}</ID></Owner><Buckets>` +
    [...ctx.state.s3.keys()].map((b) => `<Bucket><Name>${escapeXml(b)}</Name><CreationDate>${new Date(0).toISOString()}</CreationDate></Bucket>`).join('') +
    '</Buckets></ListAllMyBucketsResult>'),
  HeadBucket: (_req, ctx, { bucket }) => (bucketOf(ctx, bucket), { status: 200, headers: { 'x-amz-bucket-region': ctx.region } }),
  CreateBucket: (_req, ctx, { bucket }) => {
    if (ctx.state.s3.has(bucket)) throw new AwsError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
    ctx.state.s3.set(bucket, new Map());
    return { status: 200, headers: { location: `/${bucket}` } };
  },
  DeleteBucket: (_req, ctx, { bucket }) => {
    if (bucketOf(ctx, bucket).size > 0) throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409);
    ctx.state.s3.delete(bucket);
    return { status: 204 };
  },
  GetBucketLocation: (_req, ctx, { bucket }) => (bucketOf(ctx, bucket),
  xmlReply(200, `<LocationConstraint xmlns="${NS}">${ctx.region === 'us-east-1' ? '' : ctx.region}</LocationConstraint>`)),
  // Every S3 bucket has SSE-S3 by default since 2023.
  GetBucketEncryption: (_req, ctx, { bucket }) => (bucketOf(ctx, bucket), xmlReply(200,
    `<ServerSideEncryptionConfiguration xmlns="${NS}"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>` +
    '</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>')),
  ListObjectsV2: (req, ctx, { bucket }) => listObjects(ctx, bucket, req.query, true),
  ListObjects: (req, ctx, { bucket }) => listObjects(ctx, bucket, req.query, false),
  DeleteObjects: (req, ctx, { bucket }) => {
    const objects = bucketOf(ctx, bucket);
    const keys = [...req.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
    for (const k of keys) objects.delete(k);
    return xmlReply(200, `<DeleteResult xmlns="${NS}">${keys.map((k) => `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`).join('')}</DeleteResult>`);
  },
  PutObject: (req, ctx, { bucket, key }) => {
    const o = putObject(ctx, bucket, key, req.body, headerValue(req.headers, 'content-type'), headerValue(req.headers, 'x-amz-checksum-sha256'));
    return { status: 200, headers: { etag: o.etag, ...(o.checksumSha256 ? { 'x-amz-checksum-sha256': o.checksumSha256 } : {}) } };
  },
  CopyObject: (req, ctx, { bucket, key }) => {
    const from = copySource(req, ctx);
    // S3 keeps the source's checksum on a copy, or computes the one x-amz-checksum-algorithm asks for.
    const wantsSha256 = headerValue(req.headers, 'x-amz-checksum-algorithm')?.toUpperCase() === 'SHA256';
    const o = putObject(ctx, bucket, key, from.body, from.contentType, from.checksumSha256 ?? (wantsSha256 ? sha256(from.body) : undefined));
    return xmlReply(200, `<CopyObjectResult><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${escapeXml(o.etag)}</ETag></CopyObjectResult>`);
  },
  UploadPartCopy: (req, ctx) => {
    const upload = uploadOf(ctx, req);
    const from = copySource(req, ctx);
    // x-amz-copy-source-range: bytes=first-last, inclusive, within the source (S3 API reference, UploadPartCopy).
    const range = /^bytes=(\d+)-(\d+)$/.exec(headerValue(req.headers, 'x-amz-copy-source-range') ?? '');
    const first = range ? Number(range[1]) : 0;
    const last = range ? Number(range[2]) : from.body.length - 1;
    if (first > last || last >= from.body.length) throw new AwsError('InvalidArgument', 'Range specified is not valid for source object of size: ' + from.body.length, 400);
    const part = from.body.subarray(first, last + 1);
    upload.parts.set(Number(req.query.get('partNumber')), part);
    return xmlReply(200, `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"${md5(part)}"</ETag></CopyPartResult>`);
  },
  GetObject: (req, ctx, { bucket, key }) => {
    const o = objectOf(ctx, bucket, key);
    return { status: 200, headers: objectHeaders(o, req), body: o.body };
  },
  HeadObject: (req, ctx, { bucket, key }) => ({ status: 200, headers: objectHeaders(objectOf(ctx, bucket, key), req) }),
  DeleteObject: (_req, ctx, { bucket, key }) => {
    bucketOf(ctx, bucket).delete(key);
    return { status: 204 };
  },
  CreateMultipartUpload: (req, ctx, { bucket, key }) => {
    bucketOf(ctx, bucket);
    const uploadId = randomBytes(24).toString('base64url');
    ctx.state.s3Uploads.set(uploadId, { bucket, key, contentType: headerValue(req.headers, 'content-type') ?? 'binary/octet-stream', parts: new Map() });
    return xmlReply(200, `<InitiateMultipartUploadResult xmlns="${NS}"><Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key>` +
      `<UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
  },
  UploadPart: (req, ctx) => {
    const upload = uploadOf(ctx, req);
    upload.parts.set(Number(req.query.get('partNumber')), req.body);
    return { status: 200, headers: { etag: `"${md5(req.body)}"` } };
  },
  CompleteMultipartUpload: (req, ctx, { bucket, key }) => {
    const upload = uploadOf(ctx, req);
    const numbers = [...req.body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
    const parts = numbers.map((n) => {
      const part = upload.parts.get(n);
      if (!part) throw new AwsError('InvalidPart', 'One or more of the specified parts could not be found.');
      return part;
    });
    const o = putObject(ctx, bucket, key, Buffer.concat(parts), upload.contentType);
    ctx.state.s3Uploads.delete(req.query.get('uploadId')!);
    const etag = `"${md5(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))}-${parts.length}"`;
    ctx.state.s3.get(bucket)!.set(key, { ...o, etag });
    return xmlReply(200, `<CompleteMultipartUploadResult xmlns="${NS}"><Location>${ctx.endpoint}/${escapeXml(bucket)}/${escapeXml(key)}</Location>` +
      `<Bucket>${escapeXml(bucket)}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(etag)}</ETag></CompleteMultipartUploadResult>`);
  },
  AbortMultipartUpload: (req, ctx) => {
    ctx.state.s3Uploads.delete(req.query.get('uploadId') ?? '');
    return { status: 204 };
  },
};

/**
 * The object `x-amz-copy-source` names (`bucket/key`, URL-encoded, optional `?versionId=`), held to
 * `x-amz-copy-source-if-match` as S3 does: a different ETag answers 412 PreconditionFailed
 * (S3 API reference, CopyObject and UploadPartCopy).
 */
function copySource(req: WireRequest, ctx: FakeContext): S3Object {
  const source = decodeURIComponent(String(req.headers['x-amz-copy-source']).split('?')[0]!).replace(/^\//, '');
  const slash = source.indexOf('/');
  const from = objectOf(ctx, source.slice(0, slash), source.slice(slash + 1));
  const ifMatch = headerValue(req.headers, 'x-amz-copy-source-if-match');
  if (ifMatch !== undefined && ifMatch.replace(/"/g, '') !== from.etag.replace(/"/g, '')) {
    throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: 'x-amz-copy-source-If-Match' });
  }
  return from;
}

function uploadOf(ctx: FakeContext, req: WireRequest): NonNullable<ReturnType<FakeContext['state']['s3Uploads']['get']>> {
  const upload = ctx.state.s3Uploads.get(req.query.get('uploadId') ?? '');
  if (!upload) throw new AwsError('NoSuchUpload', 'The specified upload does not exist.', 404);
  return upload;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[e]!);
}

/** S3 (REST-XML, path-style, which toolkit-lib forces for loopback endpoints). */
export const s3: AwsServiceModule = {
  name: 's3',
  signingNames: ['s3'],
  parse(req): ParsedCall {
    const { bucket, key } = target(req);
    const params: Record<string, unknown> = { Bucket: bucket || undefined, Key: key || undefined, ...Object.fromEntries(req.query) };
    if (req.body.length > 0) params.ContentLength = req.body.length;
    return { action: actionOf(req), params };
  },
  async handle(call, req, ctx) {
    const op = OPS[call.action];
    if (!op) throw new AwsError('NotImplemented', `The fake does not implement S3 ${call.action}`, 501);
    return op(req, ctx, target(req));
  },
  errorReply: s3ErrorReply,
  throttlingError: () => new AwsError('SlowDown', 'Please reduce your request rate.', 503),
};
