import { createHash } from 'node:crypto';
import { ArmError, type WireReply, type WireRequest } from './_arm.js';
import type { FakeContext } from './_state.js';

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Blob Storage, path-style (`/<account>/<container>/<blob>`, as clients address an IP host):
 * single-shot block blob uploads, flat listing (XML), properties (HEAD), download, delete.
 */
export function blobRoutes(ctx: FakeContext) {
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
    if (name && req.method === 'PUT') {
      if (req.query.get('comp')) throw new ArmError(400, 'UnsupportedQueryParameter', 'This fake takes single-shot uploads only (no blocks).');
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') throw new ArmError(400, 'InvalidHeaderValue', 'x-ms-blob-type must be BlockBlob.');
      const blob = { data: req.body, contentType: req.headers['x-ms-blob-content-type'] ?? 'application/octet-stream', etag: `"0x${createHash('md5').update(req.body).digest('hex').slice(0, 15).toUpperCase()}"`, lastModified: new Date() };
      store.set(name, blob);
      return { status: 201, headers: { ...common, etag: blob.etag, 'last-modified': blob.lastModified.toUTCString(), 'content-md5': createHash('md5').update(req.body).digest('base64'), 'x-ms-request-server-encrypted': 'true' } };
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
        'content-md5': createHash('md5').update(blob.data).digest('base64'),
      };
      return req.method === 'HEAD' ? { status: 200, headers } : { status: 200, headers, body: blob.data };
    }
    throw new ArmError(400, 'UnsupportedHttpVerb', `${req.method} ${req.path} is not supported by this fake.`);
  };
}
