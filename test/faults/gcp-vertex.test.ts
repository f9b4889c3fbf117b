import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { Toolkit, type TargetReport } from '../../src/toolkit/toolkit.js';
import { writeTinyModel } from '../_helpers/onnx-models.js';
import { startVertexFake, type VertexFake } from '../emulators/vertex/index.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4]) deployed on gcp-vertex, and a
// Vertex AI fake (gRPC, Cloud Storage JSON API) reached by the real clients. Each test injects
// one cloud fault into a deploy of a new version (another minReplicas: another version) and checks
// the coded error, its fix, and that the version deployed before still serves. The faults are
// the services' own answers: gRPC status codes with the google.rpc.ErrorInfo Google's front ends
// attach (reasons RATE_LIMIT_EXCEEDED, IAM_PERMISSION_DENIED, ACCESS_TOKEN_EXPIRED, which
// google-gax surfaces as `reason`), and the JSON API's `{ error: { code, message, errors } }`.

let fake: VertexFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;
/** The version that serves: what every failed deploy must leave serving. */
let serving: string;
let replicas = 1;
let instancesPerGpu = 1;

const TARGET = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
};

/**
 * A config that plans a new version (the replica count is part of it); with `upload`, a new
 * Triton repository too (instancesPerGpu is in config.pbtxt), which has to be uploaded.
 */
async function nextVersion(options: { upload?: boolean } = {}): Promise<void> {
  replicas++;
  if (options.upload) instancesPerGpu++;
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './add.onnx' },
    targets: { vertex: ${JSON.stringify({ ...TARGET, minReplicas: replicas, instancesPerGpu })} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(): Promise<TargetReport> {
  return (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
}

/** The version deployed before still takes the traffic and answers a real inference. */
async function stillServes(version: string): Promise<void> {
  const project = await toolkit.load({ cwd: dir });
  const [status] = await toolkit.status(project);
  expect(status).toMatchObject({ state: 'running', version });
  const call = await toolkit.invoke(project, 'vertex', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] });
  expect(call).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [1, 2, 3, 4] }] } });
}

const codes = (method: string, from: number) => fake.calls.slice(from).filter((c) => c.method === method).map((c) => c.code);

beforeAll(async () => {
  fake = await startVertexFake();
  fake.gcs.createBucket('dm-staging');
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-faults-vertex-'));
  await writeTinyModel(dir, 'add');
  await nextVersion();
  toolkit = new Toolkit({ cacheDir: path.join(dir, '.cache') });
  const first = await deploy();
  expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'passed', promoted: true });
  serving = first.version!;
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  expect(fake?.internalErrors).toEqual([]);
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  fake.faults.reset();
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
  await nextVersion();
});

describe('gcp-vertex under cloud faults', () => {
  it('UNAVAILABLE on the calls that read (ListEndpoints, GetOperation) is retried, and the deploy goes through', async () => {
    // GIVEN
    fake.faults.unavailable('ListEndpoints', 2);
    fake.faults.unavailable('GetOperation', 2);
    const from = fake.calls.length;
    // WHEN
    const report = await deploy();
    // THEN the client library retries none of the Vertex AI methods (its config marks them all
    // non-idempotent), so ListEndpoints is retried by deploy-model; GetOperation by google-gax
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: serving });
    expect(codes('ListEndpoints', from).slice(0, 3)).toEqual([14, 14, 0]);
    expect(codes('GetOperation', from).slice(0, 3)).toEqual([14, 14, 0]);
    expect(host.codes()).toContain('DM_VERTEX_RETRY');
    serving = report.version!;
    await stillServes(serving);
  });

  it('a rate limit (RESOURCE_EXHAUSTED, RATE_LIMIT_EXCEEDED) is retried, on calls that change things too', async () => {
    // GIVEN
    fake.faults.rateLimited('UploadModel', 2);
    fake.faults.rateLimited('DeployModel', 1);
    const from = fake.calls.length;
    // WHEN
    const report = await deploy();
    // THEN a request refused for its rate did nothing: sending it again is safe
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(codes('UploadModel', from)).toEqual([8, 8, 0]);
    expect(codes('DeployModel', from).slice(0, 2)).toEqual([8, 0]);
    serving = report.version!;
    await stillServes(serving);
  });

  it('a rate limit that outlasts the retries is VERTEX_RATE_LIMITED naming the quota, and the old version serves', async () => {
    // GIVEN
    fake.faults.rateLimited('ListEndpoints', 5);
    // WHEN
    const report = await deploy();
    // THEN
    expect(report.error).toMatchObject({ code: 'VERTEX_RATE_LIMITED', message: expect.stringContaining("'aiplatform.googleapis.com/resource_management_requests' quota") });
    expect(report.error!.message).toMatch(/Fix: wait a minute and deploy again/);
    await stillServes(serving);
  });

  it('UNAVAILABLE on DeployModel is not retried (it may have taken effect): VERTEX_UNAVAILABLE with the fix, the new Model is removed, and the old version serves', async () => {
    // GIVEN
    const models = fake.state.models.size;
    fake.faults.unavailable('DeployModel', 1);
    const from = fake.calls.length;
    // WHEN
    const report = await deploy();
    // THEN
    expect(report.error).toMatchObject({ code: 'VERTEX_UNAVAILABLE', message: expect.stringMatching(/Fix: check the network .* then deploy again/) });
    expect(codes('DeployModel', from)).toEqual([14]);
    expect(fake.state.models.size).toBe(models);
    expect([...fake.state.endpoints.values()].map((e) => e.displayName)).toEqual(['adder-dev-vertex']);
    await stillServes(serving);
  });

  it('permission denied (IAM_PERMISSION_DENIED) is VERTEX_PERMISSION_DENIED naming the permission and the role to grant, and the old version serves', async () => {
    // GIVEN
    fake.faults.permissionDenied('UploadModel', 'aiplatform.models.upload');
    // WHEN
    const report = await deploy();
    // THEN
    expect(report.error).toMatchObject({ code: 'VERTEX_PERMISSION_DENIED', message: expect.stringContaining("Permission 'aiplatform.models.upload' denied") });
    expect(report.error!.message).toMatch(/Fix: grant the deploying identity roles\/aiplatform\.user in project my-project \(the role includes aiplatform\.models\.upload\)/);
    await stillServes(serving);
  });

  it('refused credentials (UNAUTHENTICATED from Vertex AI, 401 from Cloud Storage) are GCP_CREDENTIALS_INVALID with the login command, and the old version serves', async () => {
    // GIVEN a token Vertex AI refuses
    fake.faults.invalidCredentials('ListEndpoints');
    // WHEN
    const vertex = await deploy();
    // THEN
    expect(vertex.error).toMatchObject({ code: 'GCP_CREDENTIALS_INVALID', message: expect.stringMatching(/ACCESS_TOKEN_EXPIRED.*Fix: run `gcloud auth application-default login`/s) });

    // GIVEN a token Cloud Storage refuses (its JSON API's 401 "Invalid Credentials") on a new repository
    await nextVersion({ upload: true });
    fake.gcs.failRequest({ method: 'POST', path: /^\/upload\// }, { status: 401, message: 'Invalid Credentials', reason: 'authError' });
    // WHEN
    const gcs = await deploy();
    // THEN
    expect(gcs.error).toMatchObject({ code: 'GCP_CREDENTIALS_INVALID', message: expect.stringMatching(/Cloud Storage refused the credentials \(Invalid Credentials\)\. Fix: run `gcloud auth application-default login`/) });
    await stillServes(serving);
  });

  it('a failed Cloud Storage upload: a 503 is retried (the objects are content-addressed), a 403 is GCS_PERMISSION_DENIED with the grant, and nothing is uploaded to Vertex AI', async () => {
    // GIVEN storage refuses the upload of a new repository once with a 503
    await nextVersion({ upload: true });
    fake.gcs.failRequest({ method: 'POST', path: /^\/upload\// }, { status: 503, message: 'We encountered an internal error. Please try again.', reason: 'backendError' });
    // WHEN
    const retried = await deploy();
    // THEN
    expect(retried, JSON.stringify(retried.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(fake.gcs.requests.filter((r) => r.path.startsWith('/upload/')).slice(-3).map((r) => r.status)).toEqual([503, 200, 200]);
    serving = retried.version!;

    // GIVEN another new repository, whose upload is refused with a 403
    await nextVersion({ upload: true });
    fake.gcs.failRequest({ method: 'POST', path: /^\/upload\// }, {
      status: 403, reason: 'forbidden',
      message: "deployer@my-project.iam.gserviceaccount.com does not have storage.objects.create access to the Google Cloud Storage object. Permission 'storage.objects.create' denied on resource (or it may not exist).",
    });
    const uploads = fake.calls.filter((c) => c.method === 'UploadModel').length;
    // WHEN
    const denied = await deploy();
    // THEN
    expect(denied.error).toMatchObject({ code: 'GCS_PERMISSION_DENIED', message: expect.stringContaining('storage.objects.create') });
    expect(denied.error!.message).toContain('Fix: grant the deploying identity roles/storage.objectAdmin on the bucket (`gcloud storage buckets add-iam-policy-binding gs://dm-staging');
    expect(fake.calls.filter((c) => c.method === 'UploadModel')).toHaveLength(uploads);
    await stillServes(serving);
  });
});
