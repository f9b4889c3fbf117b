import { createHash } from 'node:crypto';
import { ArmError, type WireReply, type WireRequest } from './_arm.js';
import type { BlobObject, FakeContext } from './_state.js';

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The blob's MD5, base64, as Blob Storage reports it in Content-MD5 for a blob written in one piece. */
const md5 = (data: Buffer) => createHash('md5').update(data).digest('base64');
const etagOf = (data: Buffer) => `"0x${createHash('md5').update(data).update(String(Date.now() + Math.random())).digest('hex').slice(0, 15).toUpperCase()}"`;

/** `x-ms-meta-<name>` request headers → metadata; none → undefined. */
function metadataOf(headers: Record<string, string | undefined>): Record<string, string> | undefined {
  const entries = Object.entries(headers).filter(([k, v]) => k.startsWith('x-ms-meta-') && v !== undefined).map(([k, v]) => [k.slice('x-ms-meta-'.length), v!]);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** A copy source the fake can read: a blob of its own, addressed by its own origin (`<origin>/<account>/<container>/<blob>`). */
function copySource(ctx: FakeContext, source: string): { key: string; container: string; name: string } {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ArmError(400, 'InvalidHeaderValue', 'The value for one of the HTTP headers is not in the correct format (x-ms-copy-source).');
  }
  if (url.origin !== ctx.origin()) throw new ArmError(400, 'CannotVerifyCopySource', `This fake reaches only its own blobs (${ctx.origin()}), not ${url.origin}.`);
  const [account, container, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  return { key: `${account}/${container}`, container: `${account}/${container}`, name: rest.join('/') };
}

/**
 * Blob Storage, path-style (`/<account>/<container>/<blob>`, as clients address an IP host):
 * single-shot block blob uploads, server-side copies (Copy Blob From URL, Copy Blob), flat
 * listing (XML), properties (HEAD), download, delete.
 */
export function blobRoutes(ctx: FakeContext) {
  /**
   * Copy Blob From URL (`x-ms-requires-sync: true`,
   * https://learn.microsoft.com/rest/api/storageservices/copy-blob-from-url) and Copy Blob
   * (https://learn.microsoft.com/rest/api/storageservices/copy-blob), both finished at once: 202 with
   * `x-ms-copy-status: success`. As the service: a private source is read only with a SAS in its URL
   * or `x-ms-copy-source-authorization: Bearer <token>` (2020-10-02 and later; bearer is the only
   * scheme), else 401 CannotVerifyCopySource; a missing source is 404 CannotVerifyCopySource;
   * `x-ms-source-if-match` that fails is 412 SourceConditionNotMet; `x-ms-source-content-md5` that
   * is not the source's is 400 Md5Mismatch; a synchronous copy of a source over 256 MiB is refused
   * (409 CannotVerifyCopySource). Without `x-ms-meta-*` the source's metadata is copied.
   */
  function copyBlob(req: WireRequest, store: Map<string, BlobObject>, container: string, name: string, common: Record<string, string>): WireReply {
    const sourceUrl = req.headers['x-ms-copy-source']!;
    const sync = req.headers['x-ms-requires-sync'] === 'true';
    const from = copySource(ctx, sourceUrl);
    const sourceAuth = req.headers['x-ms-copy-source-authorization'];
    if (sourceAuth !== undefined && !/^Bearer \S+$/.test(sourceAuth)) throw new ArmError(400, 'InvalidHeaderValue', 'x-ms-copy-source-authorization supports the Bearer scheme only.');
    if (!sourceAuth && !new URL(sourceUrl).searchParams.has('sig')) throw new ArmError(401, 'CannotVerifyCopySource', 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.');
    const source = ctx.state.blobs.get(from.key)?.get(from.name);
    if (!source) throw new ArmError(404, 'CannotVerifyCopySource', 'The specified blob does not exist.');
    const ifMatch = req.headers['x-ms-source-if-match'];
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== source.etag) throw new ArmError(412, 'SourceConditionNotMet', 'The source condition specified using HTTP conditional header(s) is not met.');
    if (sync && source.data.length > 256 * 1024 * 1024) throw new ArmError(409, 'CannotVerifyCopySource', 'The source blob of a synchronous copy must be 256 MiB or smaller.');
    const sourceMd5 = req.headers['x-ms-source-content-md5'];
    if (sourceMd5 !== undefined && sourceMd5 !== md5(source.data)) throw new ArmError(400, 'Md5Mismatch', 'The MD5 value specified in the request did not match with the MD5 value calculated by the server.');
    const meta = metadataOf(req.headers) ?? source.metadata;
    const blob: BlobObject = { data: Buffer.from(source.data), contentType: source.contentType, etag: etagOf(source.data), lastModified: new Date(), ...(meta ? { metadata: { ...meta } } : {}) };
    store.set(name, blob);
    ctx.state.blobCopies.push({ from: sourceUrl, container, name, bytes: blob.data.length, sync });
    return {
      status: 202,
      headers: { ...common, etag: blob.etag, 'last-modified': blob.lastModified.toUTCString(), 'x-ms-copy-id': crypto.randomUUID(), 'x-ms-copy-status': 'success', ...(sync ? { 'content-md5': md5(blob.data) } : {}) },
    };
  }

  return async (req: WireRequest): Promise<WireReply> => {
    const [account, container, ...rest] = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (!req.headers.authorization?.startsWith('Bearer ')) throw new ArmError(401, 'NoAuthenticationInformation', 'Server failed to authenticate the request.');
    const store = ctx.state.blobs.get(`${account}/${container}`);
    if (!store) throw new ArmError(404, 'ContainerNotFound', 'The specified container does not exist.');
    const name = rest.join('/');
    const common = { 'x-ms-version': req.headers['x-ms-version'] ?? '2025-01-05', 'x-ms-request-id': crypto.randomUUID() };

    if (!name && req.method === 'GET' && req.query.get('comp') === 'list') {
      const prefix = req.query.get('prefix') ?? '';
      const blobs = [...store.entries()].filter(([n]) => n.startsWith(prefix)).sort(([a], [b]) => a.localeCompare(b));
      const items = blobs.map(([n, b]) => `<Blob><Name>${xmlEscape(n)}</Name><Properties><Creation-Time>${b.lastModified.toUTCString()}</Creation-Time><Last-Modified>${b.lastModified.toUTCString()}</Last-Modified><Etag>${b.etag}</Etag><Content-Length>${b.data.length}</Content-Length><Content-Type>${xmlEscape(b.contentType)}</Content-Type><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob>`).join('');
      const xml = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${ctx.origin()}/${account}/" ContainerName="${xmlEscape(container)}"><Prefix>${xmlEscape(prefix)}</Prefix><Blobs>${items}</Blobs><NextMarker /></EnumerationResults>`;
      return { status: 200, headers: { ...common, 'content-type': 'application/xml' }, body: Buffer.from(xml) };
    }
    if (name && req.method === 'PUT' && req.headers['x-ms-copy-source']) return copyBlob(req, store, `${account}/${container}`, name, common);
    if (name && req.method === 'PUT') {
      if (req.query.get('comp')) throw new ArmError(400, 'UnsupportedQueryParameter', 'This fake takes single-shot uploads only (no blocks).');
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') throw new ArmError(400, 'InvalidHeaderValue', 'x-ms-blob-type must be BlockBlob.');
      const meta = metadataOf(req.headers);
      const blob = { data: req.body, contentType: req.headers['x-ms-blob-content-type'] ?? 'application/octet-stream', etag: etagOf(req.body), lastModified: new Date(), ...(meta ? { metadata: meta } : {}) };
      store.set(name, blob);
      ctx.state.blobUploads.push({ container: `${account}/${container}`, name, bytes: req.body.length });
      return { status: 201, headers: { ...common, etag: blob.etag, 'last-modified': blob.lastModified.toUTCString(), 'content-md5': md5(req.body), 'x-ms-request-server-encrypted': 'true' } };
    }
    if (name && req.method === 'DELETE') {
      if (!store.delete(name)) throw new ArmError(404, 'BlobNotFound', 'The specified blob does not exist.');
      return { status: 202, headers: { ...common, 'x-ms-delete-type-permanent': 'true' } };
    }
    if (name && (req.method === 'GET' || req.method === 'HEAD')) {
      const blob = store.get(name);
      // A HEAD answer has no body, so Blob Storage puts the error code in x-ms-error-code only.
      if (!blob) throw new ArmError(404, 'BlobNotFound', 'The specified blob does not exist.');
      const headers = {
        ...common, 'content-type': blob.contentType, 'content-length': String(blob.data.length), etag: blob.etag,
        'last-modified': blob.lastModified.toUTCString(), 'x-ms-blob-type': 'BlockBlob', 'accept-ranges': 'bytes',
        'content-md5': md5(blob.data),
        ...Object.fromEntries(Object.entries(blob.metadata ?? {}).map(([k, v]) => [`x-ms-meta-${k}`, v])),
      };
      return req.method === 'HEAD' ? { status: 200, headers } : { status: 200, headers, body: blob.data };
    }
    throw new ArmError(400, 'UnsupportedHttpVerb', `${req.method} ${req.path} is not supported by this fake.`);
  };
}
