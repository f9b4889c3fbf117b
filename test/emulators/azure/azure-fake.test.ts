import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { TokenCredential } from '@azure/identity';
import { ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { startAzureFake, type AzureFake } from './index.js';

// The fake is driven here by the real SDK clients over HTTPS, trusting the fake's self-signed
// certificate through tlsOptions.ca; the driver's own tests go through the Toolkit.

const SUB = '00000000-0000-0000-0000-000000000000';
const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
let fake: AzureFake;
let ml: AzureMachineLearningWorkspaces;
let container: ContainerClient;
let dir: string;

beforeAll(async () => {
  fake = await startAzureFake();
  ml = new AzureMachineLearningWorkspaces(credential, SUB, { endpoint: fake.origin, tlsOptions: { ca: fake.ca } });
  const [store] = [...fake.state.blobs.keys()];
  container = new ContainerClient(`${fake.origin}/${store}`, credential, { tlsOptions: { ca: fake.ca } } as object);
  dir = await mkdtemp(path.join(os.tmpdir(), 'azure-fake-'));
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function scoring(url: string, init: { key?: string; deployment?: string; body: unknown }) {
  const https = await import('node:https');
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(init.body));
    const req = https.request(url, {
      method: 'POST', ca: fake.ca,
      headers: { 'content-type': 'application/json', ...(init.key ? { authorization: `Bearer ${init.key}` } : {}), ...(init.deployment ? { 'azureml-model-deployment': init.deployment } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

describe('the Azure fake, driven by @azure/arm-machinelearning and @azure/storage-blob', () => {
  it('serves the workspace and its default blob datastore', async () => {
    expect((await ml.workspaces.get('rg', 'mlws')).location).toBe('westeurope');
    const stores = [];
    for await (const d of ml.datastores.list('rg', 'mlws', { isDefault: true })) stores.push(d);
    expect(stores).toEqual([expect.objectContaining({ name: 'workspaceblobstore', properties: expect.objectContaining({ datastoreType: 'AzureBlob', accountName: 'dmstore' }) })]);
    await expect(ml.workspaces.get('rg', 'nope')).rejects.toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  });

  it('stores, lists (XML) and deletes blobs', async () => {
    await container.getBlockBlobClient('m/a/config.pbtxt').uploadData(Buffer.from('name: "a"'));
    await container.getBlockBlobClient('m/a/1/model.onnx').uploadData(Buffer.from([1, 2, 3]));
    const listed = [];
    for await (const b of container.listBlobsFlat({ prefix: 'm/' })) listed.push([b.name, b.properties.contentLength]);
    expect(listed).toEqual([['m/a/1/model.onnx', 3], ['m/a/config.pbtxt', 9]]);
    await container.deleteBlob('m/a/config.pbtxt');
    await container.deleteBlob('m/a/1/model.onnx');
    expect(fake.requests.filter((r) => r.path.startsWith('/dmstore/')).every((r) => r.authorized)).toBe(true);
  });

  it('creates an endpoint and a Triton deployment through async operations, and scores it with a key, by header or by traffic', async () => {
    // GIVEN a triton_model version of the tiny `add` model in the datastore
    const model = await writeTinyModel(dir, 'add');
    await container.getBlockBlobClient('repo/add/config.pbtxt').uploadData(Buffer.from('name: "add"\nbackend: "onnxruntime"\n'));
    await container.getBlockBlobClient('repo/add/1/model.onnx').uploadFile(model);
    await ml.modelContainers.createOrUpdate('rg', 'mlws', 'add', { properties: {} });
    const version = await ml.modelVersions.createOrUpdate('rg', 'mlws', 'add', '1', {
      properties: { modelType: 'triton_model', modelUri: `azureml://subscriptions/${SUB}/resourcegroups/rg/workspaces/mlws/datastores/workspaceblobstore/paths/repo/` },
    });

    // WHEN the endpoint and a deployment are created (201 + Azure-AsyncOperation, polled)
    const endpoint = await ml.onlineEndpoints.beginCreateOrUpdateAndWait('rg', 'mlws', 'add-ep', { location: 'westeurope', properties: { authMode: 'Key' } }, { updateIntervalInMs: 10 });
    expect(endpoint.properties.provisioningState).toBe('Succeeded');
    const deployment = await ml.onlineDeployments.beginCreateOrUpdateAndWait('rg', 'mlws', 'add-ep', 'blue', {
      location: 'westeurope', sku: { name: 'Default', capacity: 1 },
      properties: { endpointComputeType: 'Managed', model: version.id, instanceType: 'Standard_NC4as_T4_v3', scaleSettings: { scaleType: 'Default' } },
    }, { updateIntervalInMs: 10 });
    expect(deployment.properties.provisioningState).toBe('Succeeded');
    expect(fake.requests.some((r) => r.path.startsWith('/operations/'))).toBe(true);

    // THEN scoring needs the key, routes by header, and by traffic once it is set
    const { primaryKey } = await ml.onlineEndpoints.listKeys('rg', 'mlws', 'add-ep');
    const url = `${endpoint.properties.scoringUri!.replace(/\/score$/, '')}/v2/models/add/infer`;
    const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] };
    expect((await scoring(url, { body })).status).toBe(401);
    expect(await scoring(url, { key: primaryKey, deployment: 'blue', body })).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [2, 3, 4, 5] }] } });
    expect((await scoring(url, { key: primaryKey, body })).status).toBe(404);
    await ml.onlineEndpoints.beginCreateOrUpdateAndWait('rg', 'mlws', 'add-ep', { location: 'westeurope', properties: { authMode: 'Key', traffic: { blue: 100 } } }, { updateIntervalInMs: 10 });
    expect((await scoring(url, { key: primaryKey, body })).status).toBe(200);

    // getLogs answers the last `tail` lines of the container's output, each starting with its time; unknown container types are refused
    const logs = await ml.onlineDeployments.getLogs('rg', 'mlws', 'add-ep', 'blue', { containerType: 'InferenceServer', tail: 100 });
    expect(logs.content).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z I successfully loaded 'add' version 1\n/m);
    const last = await ml.onlineDeployments.getLogs('rg', 'mlws', 'add-ep', 'blue', { containerType: 'InferenceServer', tail: 1 });
    expect(last.content!.split('\n').filter(Boolean)).toEqual([logs.content!.split('\n').filter(Boolean).at(-1)]);
    const storage = await ml.onlineDeployments.getLogs('rg', 'mlws', 'add-ep', 'blue', { containerType: 'StorageInitializer', tail: 100 });
    expect(storage.content).toMatch(/Downloaded 2 files\n$/);
    await expect(ml.onlineDeployments.getLogs('rg', 'mlws', 'add-ep', 'blue', { containerType: 'Sidecar', tail: 10 })).rejects.toMatchObject({ statusCode: 400, code: 'BadArgument' });
    await expect(ml.onlineDeployments.getLogs('rg', 'mlws', 'add-ep', 'nope', { containerType: 'InferenceServer' })).rejects.toMatchObject({ statusCode: 404 });

    // Probe and request settings outside Azure's limits are refused at once, naming the field.
    const withSettings = (properties: Record<string, unknown>) => ml.onlineDeployments.beginCreateOrUpdateAndWait('rg', 'mlws', 'add-ep', 'green', {
      location: 'westeurope', properties: { endpointComputeType: 'Managed', model: version.id, instanceType: 'Standard_NC4as_T4_v3', ...properties },
    }, { updateIntervalInMs: 10 });
    await expect(withSettings({ requestSettings: { requestTimeout: 'PT181S' } })).rejects.toMatchObject({ statusCode: 400, code: 'BadArgument', message: expect.stringContaining('requestSettings.requestTimeout must be at most 180 seconds') });
    await expect(withSettings({ livenessProbe: { successThreshold: 2 } })).rejects.toMatchObject({ statusCode: 400, message: 'livenessProbe.successThreshold must be 1, got 2.' });
    await expect(withSettings({ readinessProbe: { initialDelay: 'PT0S' } })).rejects.toMatchObject({ statusCode: 400, message: 'readinessProbe.initialDelay must be at least 1 second(s), got PT0S.' });
    await expect(withSettings({ readinessProbe: { timeout: 'PT0.5S' } })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('readinessProbe.timeout must be at least 1') });
    await expect(withSettings({ livenessProbe: { failureThreshold: 0 } })).rejects.toMatchObject({ statusCode: 400, message: 'livenessProbe.failureThreshold must be at least 1, got 0.' });
    expect(fake.state.deployments.get('add-ep')!.has('green')).toBe(false);

    // A failed operation surfaces with its message; a deployment with traffic cannot be deleted.
    fake.faults.failOperation('deployment', { code: 'ResourceNotReady', message: 'User container has crashed or terminated' });
    await expect(ml.onlineDeployments.beginCreateOrUpdateAndWait('rg', 'mlws', 'add-ep', 'green', {
      location: 'westeurope', properties: { endpointComputeType: 'Managed', model: version.id, instanceType: 'Standard_NC4as_T4_v3' },
    }, { updateIntervalInMs: 10 })).rejects.toThrow(/ResourceNotReady. User container has crashed or terminated/);
    await expect(ml.onlineDeployments.beginDeleteAndWait('rg', 'mlws', 'add-ep', 'blue', { updateIntervalInMs: 10 })).rejects.toMatchObject({ statusCode: 400 });
    await ml.onlineEndpoints.beginDeleteAndWait('rg', 'mlws', 'add-ep', { updateIntervalInMs: 10 });
    expect(fake.state.endpoints.size).toBe(0);
    expect(fake.internalErrors).toEqual([]);
  });

  it('routes requests without the deployment header by the traffic map, exactly; refuses invalid maps, tags over the limits and 0 instances; fails a deployment on demand', async () => {
    // GIVEN deployments blue and green of `add` on one endpoint, green with 10 % of the traffic
    const model = await writeTinyModel(dir, 'add');
    await container.getBlockBlobClient('split/add/config.pbtxt').uploadData(Buffer.from('name: "add"\nbackend: "onnxruntime"\n'));
    await container.getBlockBlobClient('split/add/1/model.onnx').uploadFile(model);
    await ml.modelContainers.createOrUpdate('rg', 'mlws', 'split', { properties: {} });
    const version = await ml.modelVersions.createOrUpdate('rg', 'mlws', 'split', '1', {
      properties: { modelType: 'triton_model', modelUri: `azureml://subscriptions/${SUB}/resourcegroups/rg/workspaces/mlws/datastores/workspaceblobstore/paths/split/` },
    });
    const putEndpoint = (traffic: Record<string, number>, tags: Record<string, string> = {}) =>
      ml.onlineEndpoints.beginCreateOrUpdateAndWait('rg', 'mlws', 'split-ep', { location: 'westeurope', tags, properties: { authMode: 'Key', traffic } }, { updateIntervalInMs: 10 });
    const endpoint = await putEndpoint({});
    const putDeployment = (name: string, capacity: number) => ml.onlineDeployments.beginCreateOrUpdateAndWait('rg', 'mlws', 'split-ep', name, {
      location: 'westeurope', sku: { name: 'Default', capacity },
      properties: { endpointComputeType: 'Managed', model: version.id, instanceType: 'Standard_NC4as_T4_v3', scaleSettings: { scaleType: 'Default' } },
    }, { updateIntervalInMs: 10 });
    // a managed online deployment runs at least one instance
    await expect(putDeployment('blue', 0)).rejects.toMatchObject({ statusCode: 400, code: 'BadArgument', message: expect.stringContaining('must be at least 1') });
    await putDeployment('blue', 1);
    await putDeployment('green', 1);
    await putEndpoint({ blue: 90, green: 10 });
    const { primaryKey } = await ml.onlineEndpoints.listKeys('rg', 'mlws', 'split-ep');
    const url = `${endpoint.properties.scoringUri!.replace(/\/score$/, '')}/v2/models/add/infer`;
    const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] }] };
    // WHEN 20 requests without the header, THEN exactly 18 to blue and 2 to green; the header still picks
    const from = fake.requests.length;
    for (let i = 0; i < 20; i++) expect((await scoring(url, { key: primaryKey, body })).status).toBe(200);
    const servedBy = fake.requests.slice(from).map((r) => r.servedBy);
    expect([servedBy.filter((d) => d === 'blue').length, servedBy.filter((d) => d === 'green').length]).toEqual([18, 2]);
    expect(fake.requests.at(-1)!.deploymentHeader).toBeUndefined();
    // THEN maps that are not whole percentages adding up to 100 (or 0) are refused and change nothing
    await expect(putEndpoint({ blue: 50 })).rejects.toMatchObject({ statusCode: 400, code: 'BadArgument', message: expect.stringContaining('add up to 0 or 100, got 50') });
    await expect(putEndpoint({ blue: 50.5, green: 49.5 })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('whole percentage') });
    await expect(putEndpoint({ blue: 90, red: 10 })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('red') });
    await expect(putEndpoint({ blue: 50, green: 50 }, { big: 'x'.repeat(257) })).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('256') });
    expect(fake.state.endpoints.get('split-ep')!.properties.traffic).toEqual({ blue: 90, green: 10 });
    // THEN a deployment failed from now on answers 500 on its share only, and by header
    await putEndpoint({ blue: 50, green: 50 }, { note: 'x'.repeat(256) });
    fake.faults.deploymentFailure('split-ep', 'green', 'injected: out of memory');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await scoring(url, { key: primaryKey, body })).status);
    expect(statuses.sort()).toEqual([200, 200, 500, 500]);
    expect(await scoring(url, { key: primaryKey, deployment: 'green', body })).toMatchObject({ status: 500, body: { error: 'injected: out of memory' } });
    fake.faults.clearDeploymentFailure('split-ep', 'green');
    expect((await scoring(url, { key: primaryKey, deployment: 'green', body })).status).toBe(200);
    await ml.onlineEndpoints.beginDeleteAndWait('rg', 'mlws', 'split-ep', { updateIntervalInMs: 10 });
    expect(fake.internalErrors).toEqual([]);
  });
});
