import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { v1 } from '@google-cloud/aiplatform';
import { Storage } from '@google-cloud/storage';
import * as grpc from '@grpc/grpc-js';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const containerSpec = {
  imageUri: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3',
  args: ['--model-repository=$(AIP_STORAGE_URI)'],
  ports: [{ containerPort: 8000 }],
  healthRoute: '/v2/health/ready',
  predictRoute: '/v2/models/add/infer',
};
const dedicatedResources = { machineSpec: { machineType: 'g2-standard-4', acceleratorType: 'NVIDIA_L4' as const, acceleratorCount: 1 }, minReplicaCount: 1, maxReplicaCount: 1 };
const v2Request = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] };

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
    const [body] = await prediction.rawPredict({ endpoint: endpoint.name, httpBody: { contentType: 'application/json', data: Buffer.from(JSON.stringify(v2Request)) } });
    const answer = JSON.parse(Buffer.from(body.data!).toString());
    expect(answer.outputs[0]).toMatchObject({ name: 'y', shape: [1, 4], data: [2, 3, 4, 5] });
  });

  it('fails a deployment whose container never reads the repository, as Vertex AI reports it', async () => {
    const artifactUri = await uploadAddRepository('v2');
    const [upload] = await models.uploadModel({ parent, model: { displayName: 'no-repo', artifactUri, containerSpec: { ...containerSpec, args: [] } } });
    const [uploaded] = await upload.promise();
    const [create] = await endpoints.createEndpoint({ parent, endpoint: { displayName: 'broken' } });
    const [endpoint] = await create.promise();
    const [deploy] = await endpoints.deployModel({ endpoint: endpoint.name, deployedModel: { model: uploaded.model, dedicatedResources }, trafficSplit: { 0: 100 } });
    await expect(deploy.promise()).rejects.toThrow(/never became ready/);
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
});
