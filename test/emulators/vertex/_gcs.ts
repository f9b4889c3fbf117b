import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * The part of the Cloud Storage JSON API that `@google-cloud/storage` uses for deploy-model:
 * list objects, multipart upload, delete, download (`alt=media`). Objects live in memory.
 */
export interface GcsObject {
  data: Buffer;
  md5Hash: string;
  crc32c: string;
  contentType: string;
}

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
  createBucket(name: string): void;
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
  return {
    kind: 'storage#object', id: `${bucket}/${name}/1`, name, bucket, generation: '1', metageneration: '1',
    contentType: o.contentType, size: String(o.data.length), md5Hash: o.md5Hash, crc32c: o.crc32c, storageClass: 'STANDARD',
    timeCreated: new Date(0).toISOString(), updated: new Date(0).toISOString(),
  };
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
        const contentType = (JSON.parse(meta.data.toString('utf8')) as { contentType?: string }).contentType ?? 'application/octet-stream';
        const object = { data: Buffer.from(media.data), md5Hash: createHash('md5').update(media.data).digest('base64'), crc32c: crc32c(media.data), contentType };
        bucket.set(name, object);
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    authorizations,
    requests,
    createBucket(name) {
      if (!buckets.has(name)) buckets.set(name, new Map());
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
