import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { v1 } from '@google-cloud/aiplatform';
import { Storage } from '@google-cloud/storage';
import * as grpc from '@grpc/grpc-js';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vertexContainerSpec } from '../../../src/targets/gcp-vertex/plan.js';
import { makeModelDir, removeModelDir, writeTinyModel } from '../../_helpers/onnx-models.js';
import { startVertexFake, type VertexFake } from './index.js';

// The fake is driven here by the real SDK clients, over gRPC and the Cloud Storage JSON API,
// as the driver drives it; the driver's own tests go through the Toolkit.

let fake: VertexFake;
let dir: string;
let endpoints: v1.EndpointServiceClient;
let models: v1.ModelServiceClient;
let prediction: v1.PredictionServiceClient;
let storage: Storage;
const parent = 'projects/my-project/locations/us-central1';

beforeAll(async () => {
  fake = await startVertexFake();
  fake.gcs.createBucket('staging');
  dir = await makeModelDir();
  const [host, port] = fake.apiEndpoint.split(':');
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test-token' });
  const options = { apiEndpoint: host, port: Number(port), sslCreds: grpc.credentials.createInsecure(), authClient } as never;
  endpoints = new v1.EndpointServiceClient(options);
  models = new v1.ModelServiceClient(options);
  prediction = new v1.PredictionServiceClient(options);
  storage = new Storage({ apiEndpoint: fake.gcs.endpoint, authClient, useAuthWithCustomEndpoint: true });
}, 120_000);

afterAll(async () => {
  await Promise.all([endpoints?.close(), models?.close(), prediction?.close()]);
  await fake?.stop();
  if (dir) await removeModelDir(dir);
});

/** A Triton repository of the tiny `add` model (y = x + [1,2,3,4]) uploaded to gs://staging/<prefix>. */
async function uploadAddRepository(prefix: string): Promise<string> {
  const model = await writeTinyModel(dir, 'add');
  const repo = path.join(dir, 'repo', prefix);
  await mkdir(path.join(repo, 'add', '1'), { recursive: true });
  await copyFile(model, path.join(repo, 'add', '1', 'model.onnx'));
  await writeFile(path.join(repo, 'add', 'config.pbtxt'), 'name: "add"\nbackend: "onnxruntime"\n');
  for (const rel of ['add/config.pbtxt', 'add/1/model.onnx']) {
    await storage.bucket('staging').upload(path.join(repo, rel), { destination: `${prefix}/${rel}`, resumable: false });
  }
  return `gs://staging/${prefix}`;
}

const IMAGE = 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3';
/** What deploy-model's planner gives Vertex AI for the model `add`. */
const containerSpec = vertexContainerSpec(IMAGE, 'add');
/** The arguments deploy-model sent before `--allow-http=true`: under AIP_MODE=PREDICTION Triton's HTTP stays off. */
const ARGS_WITHOUT_HTTP = ['--model-repository=$(AIP_STORAGE_URI)', '--allow-vertex-ai=false', '--http-port=8000', '--allow-grpc=false', '--model-control-mode=none', '--exit-on-error=true'];
const dedicatedResources = { machineSpec: { machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4' as const, acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 1 };
const v2Request = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] };

/** Uploads the `add` repository as a Model with `spec`, creates an endpoint and starts DeployModel; resolves to the endpoint and the operation's promise. */
async function deployWith(prefix: string, spec: Record<string, unknown>) {
  const artifactUri = await uploadAddRepository(prefix);
  const [upload] = await models.uploadModel({ parent, model: { displayName: prefix, artifactUri, containerSpec: spec } });
  const [uploaded] = await upload.promise();
  const [create] = await endpoints.createEndpoint({ parent, endpoint: { displayName: prefix } });
  const [endpoint] = await create.promise();
  const [deploy] = await endpoints.deployModel({ endpoint: endpoint.name, deployedModel: { model: uploaded.model, displayName: prefix, dedicatedResources }, trafficSplit: { 0: 100 } });
  return { endpoint: endpoint.name!, done: deploy.promise() };
}

async function rawPredict(endpoint: string, body: unknown) {
  const [answer] = await prediction.rawPredict({ endpoint, httpBody: { contentType: 'application/json', data: Buffer.from(JSON.stringify(body)) } });
  return JSON.parse(Buffer.from(answer.data!).toString());
}

describe('the Vertex AI fake, driven by @google-cloud/aiplatform and @google-cloud/storage', () => {
  it('uploads a model, deploys it on an endpoint and answers RawPredict with a real inference', async () => {
    // GIVEN a repository in Cloud Storage
    const artifactUri = await uploadAddRepository('v1');
    expect(fake.gcs.authorizations).toContain('Bearer test-token');

    // WHEN the model is uploaded, an endpoint created and the model deployed with all traffic
    const [upload] = await models.uploadModel({ parent, model: { displayName: 'add', artifactUri, containerSpec } });
    const [uploaded] = await upload.promise();
    expect(uploaded.model).toMatch(/^projects\/123456789012\/locations\/us-central1\/models\/\d+$/);
    const [create] = await endpoints.createEndpoint({ parent, endpoint: { displayName: 'add-endpoint', labels: { app: 'add' } } });
    const [endpoint] = await create.promise();
    const [deploy] = await endpoints.deployModel({ endpoint: endpoint.name, deployedModel: { model: uploaded.model, displayName: 'add-1', dedicatedResources }, trafficSplit: { 0: 100 } });
    const [deployed] = await deploy.promise();

    // THEN the endpoint lists it with all traffic, and RawPredict runs the model
    const [listed] = await endpoints.listEndpoints({ parent, filter: 'display_name="add-endpoint"' });
    expect(listed).toHaveLength(1);
    expect(listed[0].trafficSplit).toEqual({ [deployed.deployedModel!.id!]: 100 });
    const answer = await rawPredict(endpoint.name!, v2Request);
    expect(answer.outputs[0]).toMatchObject({ name: 'y', shape: [1, 4], data: [2, 3, 4, 5] });

    // The container got Vertex AI's environment, its args expanded, and Triton opened HTTP on AIP_HTTP_PORT.
    const run = fake.state.containers.at(-1)!;
    const deployedId = deployed.deployedModel!.id!;
    const endpointId = endpoint.name!.split('/').pop()!;
    expect(run.env).toMatchObject({
      AIP_MODE: 'PREDICTION', AIP_MODE_VERSION: '1.0.0', AIP_FRAMEWORK: 'CUSTOM_CONTAINER', AIP_HTTP_PORT: '8000',
      AIP_HEALTH_ROUTE: '/v2/health/ready', AIP_PREDICT_ROUTE: '/v2/models/add/infer', AIP_PROJECT_NUMBER: '123456789012',
      AIP_DEPLOYED_MODEL_ID: deployedId, AIP_VERSION_NAME: deployedId, AIP_ENDPOINT_ID: endpointId, AIP_MODEL_NAME: endpointId,
      AIP_MACHINE_TYPE: 'g2-standard-4', AIP_ACCELERATOR_TYPE: 'NVIDIA_L4',
      AIP_STORAGE_URI: expect.stringMatching(/^gs:\/\/vertex-ai-managed-123456789012\/\d+\/artifacts$/),
    });
    expect(run.env.AIP_STORAGE_URI).not.toBe(artifactUri);
    expect(run.argv).toEqual(['/opt/tritonserver/bin/tritonserver', `--model-repository=${run.env.AIP_STORAGE_URI}`, ...containerSpec.args.slice(1)]);
    expect(run.process.log).toEqual(expect.arrayContaining(['I Started HTTPService at 0.0.0.0:8000', 'I Started Metrics Service at 0.0.0.0:8002']));
    expect(run.process.log.join('\n')).not.toMatch(/Vertex AI HTTPService|GRPCInferenceService/);
  });

  it('fails the deployment of the arguments without --allow-http=true: AIP_MODE=PREDICTION turns Triton\'s HTTP off, so nothing answers the health check', async () => {
    // GIVEN the container spec deploy-model sent before the fix
    const { done } = await deployWith('no-http', { ...containerSpec, args: ARGS_WITHOUT_HTTP });

    // THEN DeployModel fails the way Vertex AI reports a server that never became healthy
    await expect(done).rejects.toThrow(/Model server never became ready\. Please validate that your model file or container configuration are valid\. Model server logs can be found at https:\/\/console\.cloud\.google\.com\/logs/);
    const run = fake.state.containers.at(-1)!;
    expect(run.process.state).toBe('running');
    expect(run.process.log.filter((l) => l.startsWith('I Started'))).toEqual(['I Started Metrics Service at 0.0.0.0:8002']);
  });

  it('fails the deployment of arguments tritonserver refuses: the container exits with Triton\'s usage error', async () => {
    const { done } = await deployWith('bad-flag', { ...containerSpec, args: [...containerSpec.args, '--allow-http=yes'] });
    await expect(done).rejects.toMatchObject({ code: 9, message: expect.stringMatching(/Model server exited unexpectedly\. Model server logs can be found at/) });
    expect(fake.state.containers.at(-1)!.process).toMatchObject({ state: 'exited', exitCode: 1, log: ['Usage: tritonserver [options]', 'Bad option: "--allow-http".\ninvalid value for bool option: yes'] });

    const { done: unknown } = await deployWith('unknown-flag', { ...containerSpec, args: [...containerSpec.args, '--http-max-input-size=1000', '--strict-model-config-please'] });
    await expect(unknown).rejects.toThrow(/Model server exited unexpectedly/);
    expect(fake.state.containers.at(-1)!.process.log).toEqual(['Usage: tritonserver [options]', "tritonserver: unrecognized option '--strict-model-config-please'"]);
  });

  it('serves through Triton\'s own Vertex AI front end when the container keeps AIP_MODE\'s defaults', async () => {
    // GIVEN no args at all: the entrypoint starts tritonserver, which reads AIP_STORAGE_URI and listens on AIP_HTTP_PORT
    const { endpoint, done } = await deployWith('front-end', { imageUri: IMAGE, ports: [{ containerPort: 7080 }], healthRoute: '/health', predictRoute: '/predict' });
    await done;
    const run = fake.state.containers.at(-1)!;
    expect(run.argv).toEqual(['/opt/tritonserver/bin/tritonserver']);
    expect(run.process.log).toEqual(expect.arrayContaining(['I Started Vertex AI HTTPService at 0.0.0.0:7080']));
    // THEN the predict route is a v2 inference of the repository's only model
    expect((await rawPredict(endpoint, v2Request)).outputs[0]).toMatchObject({ name: 'y', data: [2, 3, 4, 5] });
  });

  it('answers injected quota errors with RESOURCE_EXHAUSTED and keeps hung operations running', async () => {
    fake.faults.quotaExceeded('CreateEndpoint');
    await expect(endpoints.createEndpoint({ parent, endpoint: { displayName: 'q' } })).rejects.toMatchObject({ code: 8, details: expect.stringMatching(/quota/) });
    fake.faults.hangOperation('CreateEndpoint');
    const [op] = await endpoints.createEndpoint({ parent, endpoint: { displayName: 'hung' } });
    await new Promise((r) => setTimeout(r, 50));
    const polled = await endpoints.checkCreateEndpointProgress(op.name!);
    expect(polled.done).toBe(false);
  });

  it('refuses a traffic split that does not add up to 100', async () => {
    const [[endpoint]] = await endpoints.listEndpoints({ parent, filter: 'display_name="add-endpoint"' });
    await expect(endpoints.updateEndpoint({ endpoint: { name: endpoint.name, trafficSplit: { [endpoint.deployedModels![0].id!]: 50 } }, updateMask: { paths: ['traffic_split'] } }))
      .rejects.toMatchObject({ code: 3 });
    expect(fake.internalErrors).toEqual([]);
  });

  it('routes RawPredict and Predict by the trafficSplit, exactly (smooth weighted round robin), refuses splits and labels Vertex AI refuses, and fails a Model on demand', async () => {
    // GIVEN two Models of `add` deployed on one endpoint, the second with 10 % of the split
    const { endpoint, done } = await deployWith('split-a', { ...containerSpec });
    await done;
    const [upload] = await models.uploadModel({ parent, model: { displayName: 'split-b', artifactUri: await uploadAddRepository('split-b'), containerSpec } });
    const [b] = await upload.promise();
    const [[listed]] = await endpoints.listEndpoints({ parent, filter: 'display_name="split-a"' });
    const a = listed.deployedModels![0]!.id!;
    const [deploy] = await endpoints.deployModel({ endpoint, deployedModel: { model: b.model, displayName: 'split-b', dedicatedResources }, trafficSplit: { [a]: 90, 0: 10 } });
    await deploy.promise();
    const state = [...fake.state.endpoints.values()].find((e) => e.name === endpoint)!;
    const [da, db] = state.deployedModels;
    const served = () => [da!.served, db!.served];
    const before = served();
    // WHEN 20 RawPredict requests, THEN exactly 18 and 2
    for (let i = 0; i < 20; i++) await rawPredict(endpoint, v2Request);
    expect(served().map((n, i) => n - before[i]!)).toEqual([18, 2]);
    // Predict goes through the same split (Triton's v2 route refuses its `instances` body, as it would on Vertex AI)
    const mid = served();
    for (let i = 0; i < 10; i++) await expect(prediction.predict({ endpoint, instances: [{ numberValue: 1 }] })).rejects.toMatchObject({ code: 3 });
    expect(served().map((n, i) => n - mid[i]!)).toEqual([9, 1]);
    // THEN splits that do not add up to 100 are refused and change nothing; an empty split stops the traffic
    const update = (trafficSplit: Record<string, number>) => endpoints.updateEndpoint({ endpoint: { name: endpoint, trafficSplit }, updateMask: { paths: ['traffic_split'] } });
    await expect(update({ [a]: 50 })).rejects.toMatchObject({ code: 3, details: expect.stringContaining('add up to 100, got 50') });
    await expect(update({ [a]: 50, [db!.id]: 49 })).rejects.toMatchObject({ code: 3 });
    expect(state.trafficSplit).toEqual({ [a]: 90, [db!.id]: 10 });
    await update({});
    await expect(rawPredict(endpoint, v2Request)).rejects.toMatchObject({ code: 9 });
    await update({ [a]: 50, [db!.id]: 50 });
    // THEN labels outside Vertex AI's rules are refused
    const label = (labels: Record<string, string>) => endpoints.updateEndpoint({ endpoint: { name: endpoint, labels }, updateMask: { paths: ['labels'] } });
    await expect(label({ 'deploy-model-previous': 'projects/1/models/2' })).rejects.toMatchObject({ code: 3 });
    await expect(label({ Upper: 'x' })).rejects.toMatchObject({ code: 3 });
    await label({ 'deploy-model-previous': '12345' });
    expect(state.labels).toEqual({ 'deploy-model-previous': '12345' });
    // THEN a Model failed from now on answers 500 (INTERNAL) on its share only
    fake.faults.modelFailure(b.model!, 'injected: out of memory');
    const answers = await Promise.all([0, 1, 2, 3].map(() => rawPredict(endpoint, v2Request).then(() => 'ok', (e: { code: number; details: string }) => `${e.code} ${e.details}`)));
    expect(answers.sort()).toEqual(['13 {"error":"injected: out of memory"}', '13 {"error":"injected: out of memory"}', 'ok', 'ok']);
    fake.faults.clearModelFailure(b.model!);
    expect(fake.internalErrors).toEqual([]);
  });

  it("keeps the deployed container's lines in Cloud Logging: entries:list by endpoint and time, paged, refusing what Cloud Logging refuses", async () => {
    const [[endpoint]] = await endpoints.listEndpoints({ parent, filter: 'display_name="add-endpoint"' });
    const endpointId = endpoint.name!.split('/').pop()!;
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: 'test-token' });
    const list = (data: Record<string, unknown>) => authClient.request<{ entries?: Array<Record<string, any>>; nextPageToken?: string }>({ url: `${fake.logging.endpoint}/v2/entries:list`, method: 'POST', data });
    const filter = `resource.type="aiplatform.googleapis.com/Endpoint" AND resource.labels.endpoint_id="${endpointId}"`;

    // THEN the container's start-up lines, as LogEntries of the endpoint's monitored resource
    const { data } = await list({ resourceNames: ['projects/my-project'], filter, orderBy: 'timestamp asc' });
    expect(data.entries!.map((e) => e.textPayload)).toEqual(expect.arrayContaining([expect.stringMatching(/^I Started HTTPService at 0\.0\.0\.0:\d+$/)]));
    expect(data.entries![0]).toMatchObject({
      resource: { type: 'aiplatform.googleapis.com/Endpoint', labels: { endpoint_id: endpointId, location: 'us-central1' } },
      labels: { deployed_model_id: endpoint.deployedModels![0].id }, severity: expect.any(String), insertId: expect.any(String),
    });
    // a later time leaves them out; a small page hands out a token for the rest
    expect((await list({ resourceNames: ['projects/my-project'], filter: `${filter} AND timestamp>="${new Date(Date.now() + 60_000).toISOString()}"` })).data).toEqual({});
    const first = await list({ resourceNames: ['projects/my-project'], filter, pageSize: 1 });
    expect(first.data.entries).toHaveLength(1);
    const second = await list({ pageToken: first.data.nextPageToken, pageSize: 1000 });
    expect([...first.data.entries!, ...second.data.entries!]).toEqual(data.entries);
    // no resourceNames, a page over 1000, no credentials: refused
    await expect(list({ filter })).rejects.toMatchObject({ status: 400 });
    await expect(list({ resourceNames: ['projects/my-project'], pageSize: 1001 })).rejects.toMatchObject({ status: 400 });
    const bare = await fetch(`${fake.logging.endpoint}/v2/entries:list`, { method: 'POST', body: JSON.stringify({ resourceNames: ['projects/my-project'] }) });
    expect(bare.status).toBe(401);
    expect(fake.internalErrors).toEqual([]);
  });
});
