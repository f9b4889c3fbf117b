/**
 * The Google Cloud roles `deploy-model permissions` prints cover every call the gcp-vertex driver
 * makes. GIVEN the Vertex AI fake (which records each RPC) and a recording proxy in front of its
 * Cloud Storage fake; WHEN the target goes through the deploy cycle (test/cli/_permissions.ts);
 * THEN each RPC's permission is in the Vertex AI role, and each Cloud Storage call's permission is
 * in the bucket role, on the configured staging bucket. A driver that starts calling a new API
 * fails here until src/permissions knows it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gcpRoleAllows } from '../../src/permissions/index.js';
import { startVertexFake, type VertexFake } from '../emulators/vertex/index.js';
import type { RecordedRpc } from '../emulators/vertex/start-vertex-fake.js';
import { documentOf, printedPermissions, runDeployCycle } from './_permissions.js';

const ENTRY = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
};

/**
 * The permission a Vertex AI RPC needs, by the rule of the Vertex AI IAM reference: the service's
 * collection and the method's verb (RawPredict and Predict need `endpoints.predict`); polling a
 * long-running operation needs `.get` on the resource the operation belongs to.
 */
function vertexPermission(rpc: RecordedRpc): string {
  if (rpc.service === 'google.longrunning.Operations') {
    const collection = /\/(endpoints|models)\/[^/]+\/operations\/[^/]+$/.exec(String(rpc.request.name))?.[1];
    return `aiplatform.${collection ?? `UNKNOWN(${rpc.request.name})`}.get`;
  }
  const service = rpc.service.slice(rpc.service.lastIndexOf('.') + 1);
  const collection = ({ EndpointService: 'endpoints', ModelService: 'models', PredictionService: 'endpoints' } as Record<string, string>)[service] ?? `UNKNOWN(${service})`;
  const verb = /^(Raw)?Predict$/.test(rpc.method) ? 'predict' : rpc.method.match(/^[A-Z][a-z]+/)![0].toLowerCase();
  return `aiplatform.${collection}.${verb}`;
}

/** The Cloud Storage JSON API call and the permission it needs (Cloud Storage IAM reference). */
function storagePermission(method: string, url: string): { bucket: string; permission: string } {
  const { pathname } = new URL(url, 'http://gcs');
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(pathname);
  if (upload && method === 'POST') return { bucket: decodeURIComponent(upload[1]!), permission: 'storage.objects.create' };
  const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(pathname);
  if (list && method === 'GET') return { bucket: decodeURIComponent(list[1]!), permission: 'storage.objects.list' };
  const one = /^\/storage\/v1\/b\/([^/]+)\/o\/.+$/.exec(pathname);
  if (one) return { bucket: decodeURIComponent(one[1]!), permission: method === 'DELETE' ? 'storage.objects.delete' : method === 'GET' ? 'storage.objects.get' : `UNKNOWN(${method})` };
  return { bucket: '', permission: `UNKNOWN(${method} ${pathname})` };
}

/** A loopback HTTP proxy that records each request's method and URL and forwards it to `target`. */
async function recordingProxy(target: string): Promise<{ url: string; requests: Array<{ method: string; url: string }>; close(): Promise<void> }> {
  const requests: Array<{ method: string; url: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? 'GET', url: req.url ?? '/' });
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'expect', 'upgrade'].includes(k)).map(([k, v]) => [k, String(v)]));
      const body = chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${req.url}`, { method: req.method, headers, body }).then(async (answer) => {
        const data = Buffer.from(await answer.arrayBuffer());
        const out: Record<string, string> = {};
        answer.headers.forEach((v, k) => { if (!['content-encoding', 'transfer-encoding', 'content-length', 'connection'].includes(k)) out[k] = v; });
        res.writeHead(answer.status, { ...out, 'content-length': String(data.length) });
        res.end(data);
      }, (e: Error) => { res.writeHead(502); res.end(e.message); });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('gcp-vertex: the printed roles cover what the driver calls', { timeout: 300_000 }, () => {
  let fake: VertexFake;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let restore: () => void;
  let dir: string;

  beforeAll(async () => {
    fake = await startVertexFake();
    fake.gcs.createBucket('dm-staging');
    proxy = await recordingProxy(fake.gcs.endpoint);
    restore = fake.applyEnv();
    process.env.DEPLOY_MODEL_GCS_ENDPOINT = proxy.url;
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-permissions-vertex-'));
  }, 120_000);

  afterAll(async () => {
    restore?.();
    await proxy?.close();
    await fake?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('every Vertex AI RPC and Cloud Storage call needs a permission the printed roles hold', async () => {
    // WHEN
    await runDeployCycle(dir, ENTRY);
    const report = await printedPermissions(dir, ['--repo', 'acme/ocr', '--project-number', '123456789012']);

    // THEN
    expect(fake.internalErrors).toEqual([]);
    const vertex = documentOf<{ includedPermissions: string[] }>(report, 'policy').includedPermissions;
    const staging = documentOf<{ includedPermissions: string[] }>(report, 'bucket-role').includedPermissions;
    const rpcs = [...new Set(fake.calls.map(vertexPermission))];
    expect(rpcs).toEqual(expect.arrayContaining(['aiplatform.endpoints.deploy', 'aiplatform.models.upload', 'aiplatform.endpoints.predict']));
    expect(rpcs.filter((p) => !gcpRoleAllows(vertex, p)), 'Vertex AI permissions the role lacks').toEqual([]);
    // Least: the cycle uses every permission the roles grant.
    expect(vertex.filter((p) => !rpcs.includes(p)), 'permissions no call needed').toEqual([]);
    const storage = proxy.requests.map((r) => storagePermission(r.method, r.url));
    expect(storage.map((s) => s.permission)).toEqual(expect.arrayContaining(['storage.objects.create', 'storage.objects.list', 'storage.objects.delete']));
    expect(storage.filter((s) => s.bucket !== 'dm-staging' || !gcpRoleAllows(staging, s.permission)), 'Cloud Storage calls the bucket role does not allow').toEqual([]);
    expect(staging.filter((p) => !storage.some((s) => s.permission === p)), 'permissions no call needed').toEqual([]);
    // The bucket role is granted on the staging bucket named in the config.
    expect(report.setup.join('\n')).toContain('gcloud storage buckets add-iam-policy-binding gs://dm-staging ');
  });
});
