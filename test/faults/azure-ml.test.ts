import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { Toolkit, type TargetReport } from '../../src/toolkit/toolkit.js';
import { writeTinyModel } from '../_helpers/onnx-models.js';
import { startAzureFake, type AzureFake } from '../emulators/azure/index.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4]) deployed on azure-ml, and an Azure
// fake (HTTPS: Resource Manager, Blob Storage, scoring) reached by the real SDK clients. Each test
// injects one cloud fault into a deploy of a new version (another instanceCount: another version)
// and checks the coded error, its fix, and that the deployment serving before still serves. The
// faults are Azure's own answers: ARM's `{ error: { code, message } }` (AuthorizationFailed,
// ResourceNotFound, ResourceGroupNotFound, ExpiredAuthenticationToken with its WWW-Authenticate),
// Blob Storage's XML `<Error><Code/>` with `x-ms-error-code` (AuthorizationPermissionMismatch,
// ServerBusy, InvalidAuthenticationInfo); @azure/core-rest-pipeline surfaces them as RestError
// with `statusCode` and `code`.

let fake: AzureFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;
/** The version that serves, and its deployment: what every failed deploy must leave serving. */
let serving: { version: string; deployment: string };
let instances = 1;
let instancesPerGpu = 1;

const TARGET = {
  type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3',
};
const ENDPOINT = 'adder-dev-azure';

/**
 * A config that plans a new version (the instance count is part of it); with `upload`, a new
 * Triton repository too (instancesPerGpu is in config.pbtxt), which has to be uploaded.
 */
async function nextVersion(options: { upload?: boolean; target?: Record<string, unknown> } = {}): Promise<void> {
  instances++;
  if (options.upload) instancesPerGpu++;
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './add.onnx' },
    targets: { azure: ${JSON.stringify({ ...TARGET, instanceCount: instances, instancesPerGpu, ...options.target })} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(): Promise<TargetReport> {
  return (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
}

const traffic = () => fake.state.endpoints.get(ENDPOINT)?.properties.traffic;
const deployments = () => [...(fake.state.deployments.get(ENDPOINT)?.keys() ?? [])].sort();
const puts = (from: number) => fake.requests.slice(from).filter((r) => r.method === 'PUT' && r.path.startsWith('/subscriptions/'));

/** The deployment that served before still has all the traffic and answers a real inference. */
async function stillServes(): Promise<void> {
  await nextVersion({ target: { instanceCount: 1 } });
  const project = await toolkit.load({ cwd: dir });
  const [status] = await toolkit.status(project);
  expect(status).toMatchObject({ state: 'running', version: serving.version, details: { traffic: { [serving.deployment]: 100 } } });
  expect(traffic()).toEqual({ [serving.deployment]: 100 });
  expect(deployments()).toEqual([serving.deployment]);
  const call = await toolkit.invoke(project, 'azure', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] });
  expect(call).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [1, 2, 3, 4] }] } });
}

beforeAll(async () => {
  fake = await startAzureFake();
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-faults-azure-'));
  await writeTinyModel(dir, 'add');
  await nextVersion();
  toolkit = new Toolkit({ cacheDir: path.join(dir, '.cache') });
  const first = await deploy();
  expect(first, JSON.stringify(first.error)).toMatchObject({ status: 'passed', promoted: true });
  serving = { version: first.version!, deployment: 'blue' };
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

describe('azure-ml under cloud faults', () => {
  it('permission denied (ARM 403 AuthorizationFailed) is AZURE_PERMISSION_DENIED naming the action and the role, and the old deployment keeps the traffic', async () => {
    // GIVEN the identity may read the workspace but not create deployments
    const scope = `/subscriptions/${TARGET.subscriptionId}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/mlws/onlineEndpoints/${ENDPOINT}/deployments/green`;
    fake.faults.authorizationFailed({ method: 'PUT', path: /\/deployments\/[^/]+$/ }, 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write', scope);
    // WHEN
    const report = await deploy();
    // THEN
    expect(report.error).toMatchObject({ code: 'AZURE_PERMISSION_DENIED', message: expect.stringContaining('AuthorizationFailed') });
    expect(report.error!.message).toMatch(/Fix: grant the deploying identity Contributor \(or AzureML Data Scientist\) on workspace mlws \(it lacks Microsoft\.MachineLearningServices\/workspaces\/onlineEndpoints\/deployments\/write\): `az role assignment create/);
    await stillServes();
  });

  it('a workspace or resource group that does not exist is AZURE_WORKSPACE_NOT_FOUND naming the config keys, before anything is created', async () => {
    // GIVEN a config naming a workspace, then a resource group, that do not exist
    for (const [target, said] of [[{ workspace: 'mlws-typo' }, 'workspace mlws-typo was not found in resource group rg'], [{ resourceGroup: 'rg-typo' }, 'resource group rg-typo does not exist']] as const) {
      await nextVersion({ target });
      const from = fake.requests.length;
      // WHEN
      const report = await deploy();
      // THEN
      expect(report.error).toMatchObject({ code: 'AZURE_WORKSPACE_NOT_FOUND', message: expect.stringContaining(said) });
      expect(report.error!.message).toMatch(/Fix: correct subscriptionId, resourceGroup or workspace in the target's config; `az ml workspace list/);
      expect(puts(from)).toEqual([]);
    }
    await stillServes();
  });

  it('refused credentials (401 ExpiredAuthenticationToken) are AZURE_CREDENTIALS_INVALID with `az login`, before anything is uploaded', async () => {
    // GIVEN a token Azure refuses as expired
    const saved = process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN;
    process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN = 'expired-token';
    fake.faults.expireToken('expired-token');
    const from = fake.requests.length;
    let report: TargetReport;
    try {
      // WHEN
      report = await deploy();
    } finally {
      process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN = saved;
    }
    // THEN
    expect(report.error).toMatchObject({ code: 'AZURE_CREDENTIALS_INVALID', message: expect.stringContaining('ExpiredAuthenticationToken') });
    expect(report.error!.message).toMatch(/Fix: run `az login` again/);
    expect(fake.requests.slice(from).filter((r) => r.method === 'PUT')).toEqual([]);
    await stillServes();
  });

  it('a failed blob upload: 503 ServerBusy is retried by Blob Storage\'s policy, 403 AuthorizationPermissionMismatch is AZURE_PERMISSION_DENIED naming the Storage Blob Data role, 500 that lasts is AZURE_SERVICE_ERROR', async () => {
    // GIVEN the upload of a new repository answers 503 once
    await nextVersion({ upload: true });
    fake.faults.failBlobUpload({ status: 503, code: 'ServerBusy', message: 'The server is busy.' });
    const from = fake.requests.length;
    // WHEN
    const retried = await deploy();
    // THEN
    expect(retried, JSON.stringify(retried.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(fake.requests.slice(from).filter((r) => r.method === 'PUT' && r.path.startsWith('/dmstore/')).map((r) => r.status).slice(0, 2)).toEqual([503, 201]);
    serving = { version: retried.version!, deployment: retried.details!.deployment as string };

    // GIVEN the identity has no Storage Blob Data role on the account
    await nextVersion({ upload: true });
    fake.faults.failBlobUpload({ status: 403, code: 'AuthorizationPermissionMismatch', message: 'This request is not authorized to perform this operation using this permission.' });
    const before = fake.requests.length;
    // WHEN
    const denied = await deploy();
    // THEN
    expect(denied.error).toMatchObject({ code: 'AZURE_PERMISSION_DENIED', message: expect.stringContaining('AuthorizationPermissionMismatch') });
    expect(denied.error!.message).toMatch(/Fix: grant the deploying identity Storage Blob Data Contributor on the workspace's storage account/);
    expect(puts(before)).toEqual([]);

    // GIVEN Blob Storage fails every try of the upload with a 500
    await nextVersion({ upload: true });
    fake.faults.failBlobUpload({ status: 500, code: 'InternalError', message: 'Server encountered an internal error. Please try again after some time.' }, 10);
    // WHEN
    const failing = await deploy();
    // THEN
    expect(failing.error).toMatchObject({ code: 'AZURE_SERVICE_ERROR', message: expect.stringMatching(/HTTP 500 InternalError .*still after the SDK's retries\. Fix: run the command again in a few minutes/) });
    await stillServes();
  });
});
