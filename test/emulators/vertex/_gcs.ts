import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * The part of the Cloud Storage JSON API that `@google-cloud/storage` uses for deploy-model:
 * list objects, multipart upload, delete, download (`alt=media`), and the server-side copy
 * (`rewriteTo`, `copyTo`). Objects live in memory.
 */
export interface GcsObject {
  data: Buffer;
  md5Hash: string;
  crc32c: string;
  contentType: string;
  /** Changes each time the object is written, as GCS's does. @default 1 */
  generation?: number;
  /** Custom metadata (`metadata` in the object resource). @default - none */
  metadata?: Record<string, string>;
}

/** An object written by an upload from the client (its bytes went over the wire). */
export interface GcsUpload { bucket: string; name: string; bytes: number }
/** An object written by a server-side copy (`rewriteTo` / `copyTo`): no bytes went over the wire. */
export interface GcsCopy { from: string; to: string; bytes: number; via: 'rewriteTo' | 'copyTo' }

/** An error the Cloud Storage JSON API answers: `{ error: { code, message, errors: [{ reason }] } }`. */
export interface GcsFault {
  status: number;
  message: string;
  /** `errors[0].reason`, e.g. 'forbidden', 'authError', 'backendError', 'rateLimitExceeded'. */
  reason: string;
}

export interface GcsFake {
  readonly endpoint: string;
  readonly buckets: Map<string, Map<string, GcsObject>>;
  /** Authorization headers seen, for tests that check credentials reach the API. */
  readonly authorizations: string[];
  /** Every request answered, in order, with the status it got. */
  readonly requests: Array<{ method: string; path: string; status?: number }>;
  /** Every object written by an upload, in order. */
  readonly uploads: GcsUpload[];
  /** Every object written by a server-side copy, in order (`gs://` URIs). */
  readonly copies: GcsCopy[];
  createBucket(name: string): void;
  /** Writes an object at `gs://bucket/name` (the bucket is created), as another writer would; returns it. */
  putObject(uri: string, data: Buffer, metadata?: Record<string, string>): GcsObject;
  /**
   * The next `times` requests matching `method` and `path` (e.g. uploads: `POST`,
   * `/^\/upload\//`) answer this error, in the JSON API's shape.
   */
  failRequest(match: { method?: string; path: RegExp }, fault: GcsFault, times?: number): void;
  /** Writes every object under `gs://bucket/prefix/` into `dir` (as Triton reads a gs:// repository); returns how many. */
  download(uri: string, dir: string): Promise<number>;
  /** Copies every object under `from` to the same relative names under `to` (as Vertex AI copies a Model's artifacts); returns how many. */
  copy(from: string, to: string): number;
  /** Deletes every object under `uri`; returns how many. */
  deleteAll(uri: string): number;
  stop(): Promise<void>;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), base64 of the big-endian value: how GCS reports `crc32c`, which the client checks after uploads. */
function crc32c(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function gcsError(res: http.ServerResponse, status: number, message: string, reason = status === 404 ? 'notFound' : 'invalid'): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
}

function metadata(bucket: string, name: string, o: GcsObject) {
  const generation = String(o.generation ?? 1);
  return {
    kind: 'storage#object', id: `${bucket}/${name}/${generation}`, name, bucket, generation, metageneration: '1',
    contentType: o.contentType, size: String(o.data.length), md5Hash: o.md5Hash, crc32c: o.crc32c, storageClass: 'STANDARD',
    timeCreated: new Date(0).toISOString(), updated: new Date(0).toISOString(),
    ...(o.metadata ? { metadata: o.metadata } : {}),
  };
}

let generations = 1_700_000_000_000_000;
/** A new object's generation: GCS's are microsecond timestamps, unique per write. */
const nextGeneration = () => ++generations;

function newObject(data: Buffer, contentType: string, meta?: Record<string, string>): GcsObject {
  return { data, md5Hash: createHash('md5').update(data).digest('base64'), crc32c: crc32c(data), contentType, generation: nextGeneration(), ...(meta ? { metadata: meta } : {}) };
}

/** Splits a multipart/related body into its parts' bodies. */
function multipartParts(body: Buffer, boundary: string): Array<{ headers: string; data: Buffer }> {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: string; data: Buffer }> = [];
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    parts.push({ headers: part.subarray(0, split).toString('latin1'), data: part.subarray(split + 4) });
    start = next;
  }
  return parts;
}

/** The bucket and the object-name prefix (ending in `/`, or empty) of `gs://bucket[/prefix]`. */
function locate(buckets: Map<string, Map<string, GcsObject>>, uri: string): { bucket: Map<string, GcsObject>; prefix: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not a gs:// URI: ${uri}`);
  const bucket = buckets.get(m[1]);
  if (!bucket) throw new Error(`bucket ${m[1]} does not exist`);
  return { bucket, prefix: m[2] ? `${m[2].replace(/\/+$/, '')}/` : '' };
}

export async function startGcsFake(): Promise<GcsFake> {
  const buckets = new Map<string, Map<string, GcsObject>>();
  const authorizations: string[] = [];
  const faults: Array<{ method?: string; path: RegExp; fault: GcsFault; remaining: number }> = [];
  const requests: GcsFake['requests'] = [];
  const uploads: GcsUpload[] = [];
  const copies: GcsCopy[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers.authorization) authorizations.push(req.headers.authorization);
      const url = new URL(req.url ?? '/', 'http://gcs');
      const record: { method: string; path: string; status?: number } = { method: req.method ?? 'GET', path: url.pathname };
      requests.push(record);
      res.on('finish', () => (record.status = res.statusCode));
      const f = faults.findIndex((x) => (!x.method || x.method === req.method) && x.path.test(url.pathname));
      if (f >= 0) {
        const { fault } = faults[f];
        if (--faults[f].remaining <= 0) faults.splice(f, 1);
        return gcsError(res, fault.status, fault.message, fault.reason);
      }
      const body = Buffer.concat(chunks);
      // https://cloud.google.com/storage/docs/json_api/v1/objects/rewrite and .../objects/copy:
      // POST /storage/v1/b/{sourceBucket}/o/{sourceObject}/rewriteTo|copyTo/b/{destinationBucket}/o/{destinationObject}
      // (object names URL-encoded, `/` as %2F, as the client sends them).
      const copy = /^\/storage\/v1\/b\/([^/]+)\/o\/([^/]+)\/(rewriteTo|copyTo)\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
      if (copy) return serverSideCopy(res, url, copy);
      const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
      const one = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
      const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
      const bucketName = decodeURIComponent((list ?? one ?? upload)?.[1] ?? '');
      const bucket = buckets.get(bucketName);
      if (!list && !one && !upload) return gcsError(res, 404, `No route ${req.method} ${url.pathname}`);
      if (!bucket) return gcsError(res, 404, 'The specified bucket does not exist.');

      if (list && req.method === 'GET') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const items = [...bucket.entries()].filter(([n]) => n.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b)).map(([n, o]) => metadata(bucketName, n, o));
        return sendJson(res, 200, { kind: 'storage#objects', items });
      }
      if (upload && req.method === 'POST') {
        if (url.searchParams.get('uploadType') !== 'multipart') return gcsError(res, 400, 'this fake takes multipart uploads only');
        const name = url.searchParams.get('name');
        const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1];
        if (!name || !boundary) return gcsError(res, 400, 'multipart upload without name or boundary');
        const [meta, media] = multipartParts(body, boundary);
        const resource = JSON.parse(meta.data.toString('utf8')) as { contentType?: string; metadata?: Record<string, string> };
        const object = newObject(Buffer.from(media.data), resource.contentType ?? 'application/octet-stream', resource.metadata);
        bucket.set(name, object);
        uploads.push({ bucket: bucketName, name, bytes: object.data.length });
        return sendJson(res, 200, metadata(bucketName, name, object));
      }
      if (one) {
        const name = decodeURIComponent(one[2]);
        const object = bucket.get(name);
        if (!object) return gcsError(res, 404, `No such object: ${bucketName}/${name}`);
        if (req.method === 'DELETE') {
          bucket.delete(name);
          res.writeHead(204);
          return res.end();
        }
        if (req.method === 'GET' && url.searchParams.get('alt') === 'media') {
          res.writeHead(200, { 'content-type': object.contentType, 'content-length': object.data.length });
          return res.end(object.data);
        }
        if (req.method === 'GET') return sendJson(res, 200, metadata(bucketName, name, object));
      }
      return gcsError(res, 405, `${req.method} is not supported on ${url.pathname}`);
    });
  });

  /**
   * A server-side copy. As GCS: a missing source bucket, object or generation (`sourceGeneration`)
   * is 404; `ifSourceGenerationMatch` / `ifGenerationMatch` that fail are 412 conditionNotMet; the
   * destination gets a new generation and the source's bytes, checksums, content type and custom
   * metadata. A rewrite of this size finishes in one call (`done: true`, no `rewriteToken`).
   */
  function serverSideCopy(res: http.ServerResponse, url: URL, m: RegExpExecArray) {
    const [srcBucketName, srcName, via, dstBucketName, dstName] = [m[1], m[2], m[3], m[4], m[5]].map((p) => decodeURIComponent(p!)) as [string, string, 'rewriteTo' | 'copyTo', string, string];
    const srcBucket = buckets.get(srcBucketName);
    const dstBucket = buckets.get(dstBucketName);
    if (!srcBucket || !dstBucket) return gcsError(res, 404, 'The specified bucket does not exist.');
    const source = srcBucket.get(srcName);
    const generation = String(source?.generation ?? 1);
    const sourceGeneration = url.searchParams.get('sourceGeneration');
    if (!source || (sourceGeneration !== null && sourceGeneration !== generation)) return gcsError(res, 404, `No such object: ${srcBucketName}/${srcName}`);
    const ifSource = url.searchParams.get('ifSourceGenerationMatch');
    const ifDestination = url.searchParams.get('ifGenerationMatch');
    const existing = dstBucket.get(dstName);
    if ((ifSource !== null && ifSource !== generation) || (ifDestination !== null && ifDestination !== (existing ? String(existing.generation ?? 1) : '0'))) {
      return gcsError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet');
    }
    const object: GcsObject = { ...source, data: Buffer.from(source.data), generation: nextGeneration() };
    dstBucket.set(dstName, object);
    copies.push({ from: `gs://${srcBucketName}/${srcName}`, to: `gs://${dstBucketName}/${dstName}`, bytes: object.data.length, via });
    const resource = metadata(dstBucketName, dstName, object);
    if (via === 'copyTo') return sendJson(res, 200, resource);
    const size = String(object.data.length);
    return sendJson(res, 200, { kind: 'storage#rewriteResponse', totalBytesRewritten: size, objectSize: size, done: true, resource });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    authorizations,
    requests,
    uploads,
    copies,
    createBucket(name) {
      if (!buckets.has(name)) buckets.set(name, new Map());
    },
    putObject(uri, data, meta) {
      const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
      if (!m) throw new Error(`not a gs:// object URI: ${uri}`);
      if (!buckets.has(m[1])) buckets.set(m[1], new Map());
      const object = newObject(data, 'application/octet-stream', meta);
      buckets.get(m[1])!.set(m[2], object);
      return object;
    },
    failRequest(match, fault, times = 1) {
      faults.push({ ...match, fault, remaining: times });
    },
    async download(uri, dir) {
      const { bucket, prefix } = locate(buckets, uri);
      let count = 0;
      for (const [name, object] of bucket) {
        if (!name.startsWith(prefix)) continue;
        const file = path.join(dir, ...name.slice(prefix.length).split('/'));
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, object.data);
        count++;
      }
      return count;
    },
    copy(from, to) {
      const source = locate(buckets, from);
      const target = locate(buckets, to);
      let count = 0;
      for (const [name, object] of [...source.bucket]) {
        if (!name.startsWith(source.prefix)) continue;
        target.bucket.set(`${target.prefix}${name.slice(source.prefix.length)}`, { ...object });
        count++;
      }
      return count;
    },
    deleteAll(uri) {
      const { bucket, prefix } = locate(buckets, uri);
      const names = [...bucket.keys()].filter((n) => n.startsWith(prefix));
      for (const n of names) bucket.delete(n);
      return names.length;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
