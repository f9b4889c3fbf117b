import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ArmError, armRoutes, type WireReply, type WireRequest } from './_arm.js';
import { blobRoutes } from './_blob.js';
import { selfSignedCert } from './_cert.js';
import { scoringRoutes } from './_scoring.js';
import type { AzureState, FakeContext, RecordedRequest, Workspace } from './_state.js';
import { AzureFaults } from './faults.js';
import { applyEnv } from '../_apply-env.js';

export interface AzureFakeOptions {
  /** @default one workspace: subscription 00000000-0000-0000-0000-000000000000, resource group 'rg', workspace 'mlws', location 'westeurope' */
  workspaces?: Array<Omit<Workspace, 'container'>>;
  /** Delay before each async operation's work, so clients see it in progress. @default 0 */
  operationDelayMs?: number;
}

export interface AzureFake {
  /** `https://127.0.0.1:<port>`: Resource Manager, Blob Storage (`/<account>/...`) and scoring (`/endpoints/...`). */
  readonly origin: string;
  /** The certificate clients must trust (PEM) and its file. */
  readonly ca: string;
  readonly caFile: string;
  /** The blob service URL of the workspaces' storage account (path-style). */
  readonly blobEndpoint: string;
  /**
   * The environment variables that point deploy-model at the fake: DEPLOY_MODEL_AZURE_ARM_ENDPOINT,
   * DEPLOY_MODEL_AZURE_BLOB_ENDPOINT, DEPLOY_MODEL_AZURE_CA_FILE, DEPLOY_MODEL_AZURE_ACCESS_TOKEN,
   * DEPLOY_MODEL_OPERATION_POLL_MS, DEPLOY_MODEL_RETRY_DELAY_MS.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly state: AzureState;
  readonly faults: AzureFaults;
  readonly requests: RecordedRequest[];
  readonly internalErrors: Error[];
  applyEnv(): () => void;
  stop(): Promise<void>;
}

const ACCOUNT = 'dmstore';

/**
 * Blob Storage's error shape: XML `<Error><Code/><Message/></Error>` (the message ends with the
 * request id and time) and the code again in `x-ms-error-code`, which @azure/storage-blob reads.
 */
function blobError(status: number, code: string, message: string, detail?: string): WireReply {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${esc(code)}</Code><Message>${esc(message)}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}</Message>${detail ? `<AuthenticationErrorDetail>${esc(detail)}</AuthenticationErrorDetail>` : ''}</Error>`;
  return { status, headers: { 'content-type': 'application/xml', 'x-ms-error-code': code }, body: Buffer.from(xml) };
}

function readBody(req: import('node:http').IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * An Azure fake on 127.0.0.1 over HTTPS (self-signed): Resource Manager for Azure ML
 * (api-version 2022-10-01) with async operations polled through `Azure-AsyncOperation`, Blob
 * Storage for the workspace's default datastore, and the online endpoints' scoring URIs, where
 * each deployment is served by the project's Node runtime from the uploaded repository.
 */
export async function startAzureFake(options: AzureFakeOptions = {}): Promise<AzureFake> {
  const scratchDir = await mkdtemp(path.join(tmpdir(), 'azure-fake-'));
  const cert = await selfSignedCert(scratchDir);
  const workspaces = (options.workspaces ?? [{ subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', location: 'westeurope' }])
    .map((w) => ({ ...w, container: `azureml-blobstore-${randomUUID()}` }));
  const state: AzureState = {
    workspaces, models: new Map(), endpoints: new Map(), deployments: new Map(), operations: new Map(),
    blobs: new Map(workspaces.map((w) => [`${ACCOUNT}/${w.container}`, new Map()])), blobUploads: [], blobCopies: [], issuedTokens: new Map(),
  };
  const faults = new AzureFaults();
  const requests: RecordedRequest[] = [];
  const internalErrors: Error[] = [];
  let origin = '';
  const ctx: FakeContext = { state, faults, origin: () => origin, account: ACCOUNT, scratchDir, operationDelayMs: options.operationDelayMs ?? 0, internalErrors };
  const arm = armRoutes(ctx);
  const blob = blobRoutes(ctx);
  const scoring = scoringRoutes(ctx);

  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://fake');
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const wire: WireRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body: await readBody(req) };
      const record: RecordedRequest = { method: wire.method, path: wire.path, authorized: !!headers.authorization };
      if (wire.path.startsWith('/subscriptions/') && wire.body.length) {
        try { record.body = JSON.parse(wire.body.toString('utf8')); } catch { /* not JSON */ }
      }
      requests.push(record);
      let reply: WireReply;
      const isBlob = wire.path.startsWith(`/${ACCOUNT}/`);
      try {
        const fault = faults.takeRequest(wire.method, wire.path);
        if (faults.isExpired(headers.authorization) && !wire.path.startsWith('/endpoints/')) {
          reply = isBlob
            ? blobError(401, 'InvalidAuthenticationInfo', 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.', 'Lifetime validation failed. The token is expired.')
            : { status: 401, headers: { 'www-authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", error="invalid_token", error_description="The authentication failed because of expired token."' }, body: { error: { code: 'ExpiredAuthenticationToken', message: `The access token expiry UTC time '${new Date(Date.now() - 3_600_000).toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.` } } };
        } else if (fault) {
          const shaped = isBlob ? blobError(fault.status, fault.code, fault.message) : { status: fault.status, body: { error: { code: fault.code, message: fault.message } } };
          reply = { ...shaped, headers: { ...shaped.headers, ...fault.headers } };
        } else if (wire.path.startsWith('/endpoints/')) {
          reply = await scoring(wire, record);
        } else if (wire.path.startsWith(`/${ACCOUNT}/`)) {
          reply = await blob(wire);
        } else {
          if (!headers.authorization?.startsWith('Bearer ')) throw new ArmError(401, 'AuthenticationFailed', 'Authentication failed. The Authorization header is missing.');
          reply = await arm(wire);
        }
      } catch (e) {
        if (!(e instanceof ArmError)) internalErrors.push(e as Error);
        reply = e instanceof ArmError
          ? isBlob ? blobError(e.status, e.code, e.message) : { status: e.status, body: { error: { code: e.code, message: e.message } } }
          : { status: 500, body: { error: { code: 'InternalServerError', message: (e as Error).message } } };
      }
      record.status = reply.status;
      const body = reply.body === undefined ? undefined : Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(JSON.stringify(reply.body));
      res.writeHead(reply.status, {
        'x-ms-request-id': randomUUID(),
        ...(body && !Buffer.isBuffer(reply.body) ? { 'content-type': 'application/json; charset=utf-8' } : {}),
        ...reply.headers,
        // A HEAD answer carries the length of the body a GET would get (a blob's size), and no body.
        'content-length': wire.method === 'HEAD' && reply.headers?.['content-length'] ? reply.headers['content-length'] : String(body?.length ?? 0),
      });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const blobEndpoint = `${origin}/${ACCOUNT}`;
  const env = {
    DEPLOY_MODEL_AZURE_ARM_ENDPOINT: origin,
    DEPLOY_MODEL_AZURE_BLOB_ENDPOINT: blobEndpoint,
    DEPLOY_MODEL_AZURE_CA_FILE: cert.certFile,
    DEPLOY_MODEL_AZURE_ACCESS_TOKEN: 'fake-azure-token',
    DEPLOY_MODEL_OPERATION_POLL_MS: '20',
    DEPLOY_MODEL_RETRY_DELAY_MS: '10',
  };

  return {
    origin, ca: cert.cert, caFile: cert.certFile, blobEndpoint, env, state, faults, requests, internalErrors,
    applyEnv: () => applyEnv(env),
    async stop() {
      for (const deployments of state.deployments.values()) {
        for (const d of deployments.values()) await d.server?.close().catch(() => {});
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(scratchDir, { recursive: true, force: true });
    },
  };
}
