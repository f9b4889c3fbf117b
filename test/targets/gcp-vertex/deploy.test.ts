import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { startVertexFake, type FakeEndpoint, type VertexFake } from '../../emulators/vertex/index.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4], x float32 [batch,4]) and a
// gcp-vertex target, and a Vertex AI fake (gRPC + Cloud Storage) that the driver reaches through
// the documented environment variables.

let fake: VertexFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;

const TARGET = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
};

async function writeConfig(target: Record<string, unknown> = {}, extra = ''): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './add.onnx' },
    targets: { vertex: ${JSON.stringify({ ...TARGET, ...target })} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n${extra}`);
}

async function deploy(stage = 'dev') {
  const project = await toolkit.load({ cwd: dir, stage });
  return (await toolkit.deploy(project)).targets[0];
}

function liveEndpoint(stage = 'dev'): FakeEndpoint | undefined {
  return [...fake.state.endpoints.values()].find((e) => e.displayName === `adder-${stage}-vertex`);
}

const rpcs = (method: string) => fake.calls.filter((c) => c.method === method);

beforeAll(async () => {
  fake = await startVertexFake();
  fake.gcs.createBucket('dm-staging');
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-vertex-'));
  await writeTinyModel(dir, 'add');
  await writeConfig();
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
  fake.faults.reset();
});

describe('gcp-vertex deploy, through the Toolkit against the Vertex AI fake', () => {
  let firstVersion: string;
  let firstDeployedId: string;

  it('synth writes the Triton repository and the requests a deploy would send, without calling Google Cloud', async () => {
    const project = await toolkit.load({ cwd: dir });
    const { vertex } = await toolkit.synth(project);
    const spec = JSON.parse(await readFile(vertex.artifacts[0].file, 'utf8'));
    expect(spec).toMatchObject({
      parent: 'projects/my-project/locations/us-central1',
      artifactUri: expect.stringMatching(/^gs:\/\/dm-staging\/models\/deploy-model\/adder\/dev\/vertex\/[0-9a-f]{12}$/),
      model: { displayName: expect.stringMatching(/^adder-dev-vertex-[0-9a-f]{12}$/), containerSpec: { imageUri: TARGET.image, predictRoute: '/v2/models/adder/infer' } },
      endpoint: { displayName: 'adder-dev-vertex' },
      deployedModel: { dedicatedResources: { machineSpec: { machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 } } },
    });
    const pbtxt = await readFile(path.join(dir, '.deploy-model/dev/vertex/repository/adder/config.pbtxt'), 'utf8');
    expect(pbtxt).toMatch(/name: "adder"/);
    expect(pbtxt).toMatch(/trt_engine_cache_path.*\/var\/tmp\/trt_engine_cache/s);
    expect(fake.calls).toEqual([]);
  });

  it('first deploy: uploads the repository, uploads the Model, creates the endpoint, deploys with all traffic, smoke-tests through RawPredict', async () => {
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, type: 'gcp-vertex' });
    const endpoint = liveEndpoint()!;
    expect(report.endpoint).toBe(endpoint.name);
    expect(endpoint.name).toMatch(/^projects\/123456789012\/locations\/us-central1\/endpoints\/\d+$/);
    expect(endpoint.labels).toEqual({ 'deploy-model-name': 'adder', 'deploy-model-stage': 'dev', 'deploy-model-target': 'vertex' });
    expect(endpoint.deployedModels).toHaveLength(1);
    firstDeployedId = endpoint.deployedModels[0].id;
    expect(endpoint.trafficSplit).toEqual({ [firstDeployedId]: 100 });
    firstVersion = report.version!;
    expect(firstVersion).toMatch(/^[0-9a-f]{12}$/);

    // The repository is in Cloud Storage, content-addressed under the staging prefix.
    const objects = [...fake.gcs.buckets.get('dm-staging')!.keys()];
    expect(objects).toEqual([
      expect.stringMatching(/^models\/deploy-model\/adder\/dev\/vertex\/[0-9a-f]{12}\/adder\/1\/model\.onnx$/),
      expect.stringMatching(/^models\/deploy-model\/adder\/dev\/vertex\/[0-9a-f]{12}\/adder\/config\.pbtxt$/),
    ]);
    // The Model carries the Triton container spec the planner wrote.
    const [model] = [...fake.state.models.values()];
    expect(model.containerSpec).toMatchObject({ predictRoute: '/v2/models/adder/infer', healthRoute: '/v2/health/ready', ports: [{ containerPort: 8000 }] });
    expect(model.labels['deploy-model-spec']).toBe(firstVersion);
    // Vertex AI started the Triton image with AIP_MODE=PREDICTION and the planned args, $(AIP_STORAGE_URI)
    // expanded to its copy of the artifacts; Triton's HTTP service answered the health check on AIP_HTTP_PORT.
    const run = fake.state.containers.at(-1)!;
    expect(run.env).toMatchObject({ AIP_MODE: 'PREDICTION', AIP_HTTP_PORT: '8000', AIP_HEALTH_ROUTE: '/v2/health/ready', AIP_STORAGE_URI: model.storageUri });
    expect(run.argv).toEqual(['/opt/tritonserver/bin/tritonserver', `--model-repository=${model.storageUri}`, ...model.containerSpec.args!.slice(1)]);
    expect(run.process.log).toContain('I Started HTTPService at 0.0.0.0:8000');
    // Credentials reached Cloud Storage; DeployModel asked for the L4 machine.
    expect(fake.gcs.authorizations).toContain('Bearer fake-vertex-token');
    expect(rpcs('DeployModel')[0].request.deployedModel.dedicatedResources.machineSpec).toEqual({ machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4', acceleratorCount: 1 });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_UPLOADED', 'DM_VERTEX_MODEL_UPLOAD', 'DM_VERTEX_ENDPOINT_CREATE', 'DM_VERTEX_DEPLOYING', 'DM_SMOKE_DONE', 'DM_DEPLOY_DONE']));
    expect(host.codes()).not.toContain('DM_VERTEX_SMOKE_DEPLOY');
    expect(host.codes()).not.toContain('DM_VERTEX_IMAGE_RELEASE');
  });

  it('a redeploy of the same version changes nothing and smoke-tests the live model', async () => {
    const deploysBefore = rpcs('DeployModel').length;
    const uploadsBefore = rpcs('UploadModel').length;
    const report = await deploy();
    // Nothing moved: the live model already was this version (it serves, so `promoted`), and it passed its smoke test where it serves.
    expect(report).toMatchObject({ status: 'passed', promoted: true, version: firstVersion, previousVersion: firstVersion, endpoint: liveEndpoint()!.name, details: expect.objectContaining({ unchanged: true }) });
    expect(rpcs('DeployModel')).toHaveLength(deploysBefore);
    expect(rpcs('UploadModel')).toHaveLength(uploadsBefore);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_UNCHANGED', 'DM_ROLLOUT_UNCHANGED']));
    expect(host.codes()).not.toContain('DM_VERTEX_UPLOADED');
  });

  it('a new version is smoke-tested on the smoke endpoint, deployed beside the old one at 0%, takes all traffic, and the old one is undeployed', async () => {
    await writeConfig({ minReplicas: 2 });
    const callsBefore = fake.calls.length;
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: firstVersion });
    expect(report.version).not.toBe(firstVersion);
    // The smoke test ran on the smoke endpoint before the model was deployed on the live one.
    const calls = fake.calls.slice(callsBefore);
    const smokeTested = calls.findIndex((c) => c.method === 'RawPredict');
    const liveDeploy = calls.findIndex((c) => c.method === 'DeployModel' && c.request.endpoint === liveEndpoint()!.name);
    expect(smokeTested).toBeGreaterThan(-1);
    expect(calls[smokeTested].request.endpoint).not.toBe(liveEndpoint()!.name);
    expect(liveDeploy).toBeGreaterThan(smokeTested);

    const endpoint = liveEndpoint()!;
    expect(endpoint.deployedModels).toHaveLength(1);
    const newId = endpoint.deployedModels[0].id;
    expect(newId).not.toBe(firstDeployedId);
    expect(endpoint.trafficSplit).toEqual({ [newId]: 100 });
    // The smoke endpoint got the model alone, then was removed; the live deploy kept the old model's traffic.
    const deploys = rpcs('DeployModel').slice(-2);
    expect(deploys[0].request.trafficSplit).toEqual({ 0: 100 });
    expect(deploys[1].request.trafficSplit).toEqual({ [firstDeployedId]: 100, 0: 0 });
    expect([...fake.state.endpoints.values()].map((e) => e.displayName)).toEqual(['adder-dev-vertex']);
    // The old Model stays in the Model Registry for `deploy-model rollback`, recorded in the live endpoint's labels.
    expect([...fake.state.models.values()].map((m) => m.labels['deploy-model-spec'])).toEqual([firstVersion, report.version]);
    expect(endpoint.labels).toMatchObject({ 'deploy-model-previous-version': firstVersion, 'deploy-model-previous-model': expect.stringMatching(/^\d+$/) });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_SMOKE_DEPLOY', 'DM_VERTEX_DEPLOY_LIVE', 'DM_VERTEX_TRAFFIC', 'DM_VERTEX_UNDEPLOY']));

    // The live endpoint answers a real inference through RawPredict.
    const project = await toolkit.load({ cwd: dir });
    const call = await toolkit.invoke(project, 'vertex', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] });
    expect(call).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [1, 2, 3, 4] }] } });
  });

  it('a new version that fails its smoke test never reaches the live endpoint: traffic and models stay as they were', async () => {
    const before = structuredClone({ split: liveEndpoint()!.trafficSplit, ids: liveEndpoint()!.deployedModels.map((d) => d.id) });
    const modelsBefore = [...fake.state.models.keys()];
    await writeConfig({ minReplicas: 3 });
    fake.faults.failInference('injected: CUDA error: an illegal memory access was encountered');

    const report = await deploy();
    expect(report).toMatchObject({ status: 'failed', promoted: false, endpoint: liveEndpoint()!.name, previousVersion: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(report.checks.find((c) => !c.passed)?.message).toMatch(/500.*illegal memory access/);
    expect({ split: liveEndpoint()!.trafficSplit, ids: liveEndpoint()!.deployedModels.map((d) => d.id) }).toEqual(before);
    expect([...fake.state.models.keys()]).toEqual(modelsBefore);
    expect([...fake.state.endpoints.values()].map((e) => e.displayName)).toEqual(['adder-dev-vertex']);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_ROLLBACK', 'DM_DEPLOY_SMOKE_FAILED']));

    // The previous version keeps serving.
    const project = await toolkit.load({ cwd: dir });
    const smoke = await toolkit.smoke(project);
    expect(smoke.targets[0]).toMatchObject({ status: 'passed' });
  });

  it('a quota error on DeployModel fails with VERTEX_QUOTA_EXCEEDED and the fix, leaving the live endpoint alone', async () => {
    const before = structuredClone(liveEndpoint()!.trafficSplit);
    fake.faults.quotaExceeded('DeployModel');
    const report = await deploy();
    expect(report).toMatchObject({ status: 'failed', error: { code: 'VERTEX_QUOTA_EXCEEDED', message: expect.stringMatching(/custom_model_serving_nvidia_l4_gpus.*Quotas/s) } });
    expect(liveEndpoint()!.trafficSplit).toEqual(before);
    // The live version's Model and the one kept for rollback; the new one was deleted.
    expect([...fake.state.models.values()]).toHaveLength(2);
  });

  it('a failed deploy operation fails with its message', async () => {
    fake.faults.failOperation('DeployModel', { code: 13, message: 'Model server exited unexpectedly: exit code 1' });
    const report = await deploy();
    expect(report).toMatchObject({ status: 'failed', error: { code: 'VERTEX_OPERATION_FAILED', message: expect.stringMatching(/deploying model 'adder-dev-vertex-[0-9a-f]{12}'.*Model server exited unexpectedly: exit code 1/) } });
    expect([...fake.state.endpoints.values()].map((e) => e.displayName)).toEqual(['adder-dev-vertex']);
  });

  it('a hung operation fails after operationTimeoutMinutes with VERTEX_OPERATION_TIMEOUT naming the operation', async () => {
    await writeConfig({ operationTimeoutMinutes: 0.005 });
    fake.faults.hangOperation('DeployModel');
    const started = Date.now();
    const report = await deploy('hung');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(report).toMatchObject({ status: 'failed', error: { code: 'VERTEX_OPERATION_TIMEOUT' } });
    expect(report.error!.message).toMatch(/^Gave up waiting for deploying model 'adder-hung-vertex-[0-9a-f]{12}' on projects\/\S+ after 0\.\d s \(operationTimeoutMinutes allows 0\.3 s\); operation projects\/123456789012\/locations\/us-central1\/endpoints\/\d+\/operations\/\d+ is still running/);
  });

  it('a project without the Vertex AI API fails with VERTEX_API_DISABLED and the gcloud command that enables it', async () => {
    fake.faults.apiDisabled('ListEndpoints', 'my-project');
    const report = await deploy();
    expect(report.error).toMatchObject({ code: 'VERTEX_API_DISABLED', message: expect.stringContaining('gcloud services enable aiplatform.googleapis.com --project my-project') });
  });

  it('without credentials it fails before uploading anything, with GCP_CREDENTIALS_MISSING and the login command', async () => {
    const saved = { token: process.env.DEPLOY_MODEL_GCP_ACCESS_TOKEN, adc: process.env.GOOGLE_APPLICATION_CREDENTIALS };
    delete process.env.DEPLOY_MODEL_GCP_ACCESS_TOKEN;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = path.join(dir, 'no-such-key.json');
    const uploadsBefore = rpcs('UploadModel').length;
    try {
      const report = await deploy();
      expect(report.error).toMatchObject({ code: 'GCP_CREDENTIALS_MISSING', message: expect.stringContaining('gcloud auth application-default login') });
      expect(rpcs('UploadModel')).toHaveLength(uploadsBefore);
    } finally {
      process.env.DEPLOY_MODEL_GCP_ACCESS_TOKEN = saved.token;
      if (saved.adc === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved.adc;
    }
  });

  it('a model left without traffic by an interrupted deploy is undeployed before a first deploy, even one that fails its smoke test', async () => {
    await writeConfig();
    expect((await deploy('stale')).status).toBe('passed');
    const endpoint = liveEndpoint('stale')!;
    endpoint.trafficSplit = {};
    fake.faults.failInference();
    const failed = await deploy('stale');
    expect(failed).toMatchObject({ status: 'failed', promoted: false });
    // Nothing served before, and the new model is gone: no endpoint serves, no Model is left.
    expect(failed.endpoint).toBeUndefined();
    expect(liveEndpoint('stale')!.deployedModels).toEqual([]);
    expect([...fake.state.models.values()].filter((m) => m.labels['deploy-model-stage'] === 'stale')).toEqual([]);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_VERTEX_UNDEPLOY', 'DM_VERTEX_ROLLBACK', 'DM_ROLLOUT_ROLLBACK']));
    expect(await deploy('stale')).toMatchObject({ status: 'passed', promoted: true });
    expect(liveEndpoint('stale')!.deployedModels).toHaveLength(1);
  });

  it('a config that no longer plans cannot deploy, but status still reads the deployment by its names', async () => {
    // int8 without an engine cache path: the Triton planner refuses it, the schema does not.
    await writeConfig({ precision: 'int8', int8Calibration: { table: './calibration.flatbuffers' } });
    const project = await toolkit.load({ cwd: dir });
    await expect(toolkit.deploy(project)).rejects.toMatchObject({ code: 'TARGET_INVALID', message: expect.stringContaining('int8') });
    const [status] = await toolkit.status(project);
    expect(status).toMatchObject({ name: 'vertex', state: 'running', version: expect.stringMatching(/^[0-9a-f]{12}$/) });
  });

  it('status reports the live version; destroy removes the endpoints, the Models and the staged files', async () => {
    await writeConfig();
    const project = await toolkit.load({ cwd: dir });
    const [status] = await toolkit.status(project);
    expect(status).toMatchObject({ name: 'vertex', state: 'running', endpoint: liveEndpoint()!.name, version: expect.stringMatching(/^[0-9a-f]{12}$/) });

    const [destroyed] = await toolkit.destroy(project);
    expect(destroyed).toEqual({ name: 'vertex', removed: true });
    expect([...fake.state.endpoints.values()].filter((e) => e.labels['deploy-model-stage'] === 'dev')).toEqual([]);
    expect([...fake.state.models.values()].filter((m) => m.labels['deploy-model-stage'] === 'dev')).toEqual([]);
    expect([...fake.gcs.buckets.get('dm-staging')!.keys()].filter((k) => k.includes('/dev/'))).toEqual([]);

    const [after] = await toolkit.status(project);
    expect(after.state).toBe('not-deployed');
    await expect(toolkit.invoke(project, 'vertex', { inputs: [] })).rejects.toMatchObject({ code: 'NOT_DEPLOYED' });
    expect(fake.internalErrors).toEqual([]);
  });
});
