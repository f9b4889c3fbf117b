/** A Cloud Logging fake: `entries:list` over what the fake's deployed model containers printed. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A LogEntry as the Cloud Logging API v2 answers it (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry):
 * Vertex AI writes a deployed model's container stdout and stderr under the monitored resource
 * `aiplatform.googleapis.com/Endpoint` (labels resource_container, location, endpoint_id), one
 * entry a line, its text in textPayload (a line that is JSON comes as jsonPayload).
 */
export interface FakeLogEntry {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  timestamp: string;
  receiveTimestamp: string;
  severity: 'DEFAULT' | 'INFO' | 'WARNING' | 'ERROR';
  insertId: string;
  labels: Record<string, string>;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
}

export interface CloudLoggingFake {
  /** `http://127.0.0.1:<port>`: where `/v2/entries:list` answers. */
  readonly endpoint: string;
  /** Every entry written, in the order written. */
  readonly entries: FakeLogEntry[];
  /** Each entries:list request body, in order. */
  readonly requests: Array<Record<string, any>>;
  /** What a container prints: one entry a line, stamped now (or `at`). */
  print(at: { projectNumber: string; location: string; endpointId: string; deployedModelId: string }, line: string, time?: Date): FakeLogEntry;
  stop(): Promise<void>;
}

/** The clauses of the filter language the fake reads: `a.b="v"` and `timestamp>="t"`, joined by AND. */
function parseFilter(filter: string): Array<(e: FakeLogEntry) => boolean> {
  const clauses = filter.split(/\s+AND\s+|\n+/).map((c) => c.trim()).filter(Boolean);
  return clauses.map((clause) => {
    const m = /^([a-zA-Z_.]+)\s*(=|>=|>|<=|<)\s*"([^"]*)"$/.exec(clause);
    if (!m) throw new ListError(400, `Unparseable filter: the fake reads field="value" and timestamp>="time" clauses joined by AND; got: ${clause}`);
    const [, field, op, value] = m;
    if (field === 'timestamp') {
      const t = Date.parse(value);
      if (Number.isNaN(t)) throw new ListError(400, `Invalid timestamp in filter: ${value}`);
      const cmp = { '=': (a: number) => a === t, '>=': (a: number) => a >= t, '>': (a: number) => a > t, '<=': (a: number) => a <= t, '<': (a: number) => a < t }[op]!;
      return (e) => cmp(Date.parse(e.timestamp));
    }
    if (op !== '=') throw new ListError(400, `The fake compares ${field} with = only.`);
    return (e) => field.split('.').reduce<any>((o, k) => o?.[k], e) === value;
  });
}

class ListError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 404: 'NOT_FOUND' };

/**
 * `POST /v2/entries:list` (https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list):
 * `resourceNames` (required, `projects/<id>`), `filter`, `orderBy` (`timestamp asc`, the default,
 * or `timestamp desc`), `pageSize` (at most 1000), `pageToken`; answers `{ entries, nextPageToken }`,
 * both left out when empty. A request with no bearer token is refused, as Google refuses it.
 */
export async function startCloudLoggingFake(): Promise<CloudLoggingFake> {
  const entries: FakeLogEntry[] = [];
  const requests: Array<Record<string, any>> = [];
  /** Page tokens handed out: token → the entries left. */
  const pages = new Map<string, FakeLogEntry[]>();

  function list(body: Record<string, any>): { entries?: FakeLogEntry[]; nextPageToken?: string } {
    const pageSize = body.pageSize ?? 50;
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 1000) throw new ListError(400, `pageSize must be between 0 and 1000; got ${pageSize}.`);
    let rest: FakeLogEntry[];
    if (body.pageToken) {
      const found = pages.get(body.pageToken);
      if (!found) throw new ListError(400, `Invalid page token: ${body.pageToken}`);
      pages.delete(body.pageToken);
      rest = found;
    } else {
      const names: unknown = body.resourceNames;
      if (!Array.isArray(names) || names.length === 0) throw new ListError(400, 'resourceNames must name at least one project, folder, organization or billing account.');
      const projects = names.map((n) => /^projects\/([^/]+)$/.exec(String(n))?.[1]);
      if (projects.some((p) => !p)) throw new ListError(400, `Invalid resource name in resourceNames: ${names.join(', ')}`);
      const order = body.orderBy ?? 'timestamp asc';
      if (order !== 'timestamp asc' && order !== 'timestamp desc') throw new ListError(400, `orderBy must be "timestamp asc" or "timestamp desc"; got "${order}".`);
      const clauses = parseFilter(String(body.filter ?? ''));
      rest = entries.filter((e) => clauses.every((c) => c(e)));
      rest.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
      if (order === 'timestamp desc') rest.reverse();
    }
    const page = rest.slice(0, pageSize || 50);
    const left = rest.slice(page.length);
    let nextPageToken: string | undefined;
    if (left.length > 0) pages.set((nextPageToken = randomBytes(12).toString('base64url')), left);
    return { ...(page.length ? { entries: page } : {}), ...(nextPageToken ? { nextPageToken } : {}) };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, message: string) => send(status, { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } });
      const url = new URL(req.url ?? '/', 'http://logging');
      if (req.method !== 'POST' || url.pathname !== '/v2/entries:list') return fail(404, `No route ${req.method} ${url.pathname}`);
      if (!/^Bearer .+/.test(req.headers.authorization ?? '')) return fail(401, 'Request is missing required authentication credential. Expected OAuth 2 access token.');
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
        requests.push(body);
        send(200, list(body));
      } catch (e) {
        if (e instanceof ListError) return fail(e.status, e.message);
        fail(400, `Invalid JSON payload received. ${(e as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    entries,
    requests,
    print(at, line, time = new Date()) {
      const json = /^\s*\{/.test(line) ? (() => { try { return JSON.parse(line) as Record<string, unknown>; } catch { return undefined; } })() : undefined;
      const entry: FakeLogEntry = {
        logName: `projects/${at.projectNumber}/logs/aiplatform.googleapis.com%2Fprediction_container`,
        resource: { type: 'aiplatform.googleapis.com/Endpoint', labels: { resource_container: at.projectNumber, location: at.location, endpoint_id: at.endpointId } },
        timestamp: time.toISOString(),
        receiveTimestamp: new Date(time.getTime() + 5).toISOString(),
        severity: /^[EF]\d{0,4}\b/.test(line) ? 'ERROR' : /^W\d{0,4}\b/.test(line) ? 'WARNING' : 'INFO',
        insertId: randomBytes(8).toString('hex'),
        labels: { deployed_model_id: at.deployedModelId },
        ...(json ? { jsonPayload: json } : { textPayload: line }),
      };
      entries.push(entry);
      return entry;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
