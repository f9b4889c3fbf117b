import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** One HTTP request as the fake sees it, body fully read (aws-chunked already decoded). */
export interface WireRequest {
  readonly method: string;
  /** Decoded path without the query string. */
  readonly path: string;
  /** The raw path as sent, still percent-encoded. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** From the SigV4 `Authorization` header, when the request is signed. */
  readonly scope?: CredentialScope;
  readonly requestId: string;
}

export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

export interface WireReply {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/**
 * An error the fake answers with, in the shape of the service that raised it. `status` defaults
 * to 400 (the status AWS uses for client errors in every protocol here).
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra fields some error shapes carry (Lambda's `Type`, `Reason`; S3's `BucketName`). */
  readonly fields: Record<string, string>;

  constructor(code: string, message: string, status = 400, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'AwsError';
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request, ...`. */
export function parseCredentialScope(authorization: string | undefined): CredentialScope | undefined {
  if (!authorization?.startsWith('AWS4-HMAC-SHA256')) return undefined;
  const match = /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization);
  if (!match) return undefined;
  return { accessKeyId: match[1]!, date: match[2]!, region: match[3]!, service: match[4]! };
}

/**
 * S3 uploads of streams arrive `aws-chunked`: `<hex size>[;chunk-signature=..]\r\n<data>\r\n`,
 * ended by a zero-size chunk and optional trailers (the checksum). Only the data is kept.
 */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < body.length) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = String(headers['content-encoding'] ?? '');
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || sha.startsWith('STREAMING-');
}

export function newRequestId(): string {
  return randomUUID();
}

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): WireReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

export function xmlReply(status: number, xml: string, headers: Record<string, string> = {}): WireReply {
  return { status, headers: { 'content-type': 'text/xml', ...headers }, body: `<?xml version="1.0" encoding="UTF-8"?>\n${xml}` };
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/**
 * Serialises a value the way awsQuery services answer: objects become child elements, arrays
 * become `<member>` items, dates ISO strings, `undefined`/`null` are left out.
 */
export function toXml(name: string, value: unknown): string {
  // Empty lists are left out, as the services do; the SDK then reports `undefined`.
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((v) => toXml('member', v)).join('')}</${name}>`;
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>).map(([k, v]) => toXml(k, v)).join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/**
 * Turns an awsQuery form (`Parameters.member.1.ParameterKey=..`) into nested plain data:
 * `{ Parameters: [{ ParameterKey: .. }] }`. Maps (`.entry.N.key/value`) become objects.
 */
export function parseQueryForm(body: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.');
    let node: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < path.length; i++) {
      let segment: string | number = path[i]!;
      const last = i === path.length - 1;
      if (segment === 'member' || segment === 'entry') {
        // `X.member.N` - the container at `node` is a list; the index follows.
        i++;
        segment = Number(path[i]) - 1;
        if (i === path.length - 1) {
          (node as unknown[])[segment] = value;
          break;
        }
      } else if (last) {
        (node as Record<string, unknown>)[segment] = value;
        break;
      }
      const nextIsList = path[i + 1] === 'member' || path[i + 1] === 'entry';
      const container = node as Record<string | number, unknown>;
      container[segment] ??= nextIsList ? [] : {};
      node = container[segment] as Record<string, unknown> | unknown[];
    }
  }
  return mapsFromEntries(root) as Record<string, unknown>;
}

/** Query maps arrive as lists of `{key, value}`; callers want objects. */
function mapsFromEntries(value: unknown): unknown {
  if (Array.isArray(value)) {
    const dense = value.filter((v) => v !== undefined);
    if (dense.length > 0 && dense.every((v) => isKeyValue(v))) {
      return Object.fromEntries(dense.map((v) => [(v as { key: string }).key, (v as { value: unknown }).value]));
    }
    return dense.map(mapsFromEntries);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapsFromEntries(v)]));
  }
  return value;
}

function isKeyValue(v: unknown): boolean {
  return !!v && typeof v === 'object' && Object.keys(v).sort().join(',') === 'key,value';
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
