import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit, type TargetReport } from '../../../src/toolkit/toolkit.js';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { startAzureFake, type AzureFake } from '../../emulators/azure/index.js';

// GIVEN a project with the tiny `add` model (y = x + [1,2,3,4], x float32 [batch,4]) and an
// azure-ml target, and an Azure fake (HTTPS: Resource Manager, Blob Storage, scoring) that the
// driver reaches through the documented environment variables.

let fake: AzureFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;
const reports: TargetReport[] = [];

const TARGET = {
  type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3',
};

async function writeConfig(target: Record<string, unknown> = {}): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './add.onnx' },
    targets: { azure: ${JSON.stringify({ ...TARGET, ...target })} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(stage = 'dev'): Promise<TargetReport> {
  const project = await toolkit.load({ cwd: dir, stage });
  const report = (await toolkit.deploy(project)).targets[0];
  reports.push(report);
  return report;
}

const endpoint = (name = 'adder-dev-azure') => fake.state.endpoints.get(name);
const deploymentNames = (name = 'adder-dev-azure') => [...(fake.state.deployments.get(name)?.keys() ?? [])].sort();

beforeAll(async () => {
  fake = await startAzureFake();
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-azure-'));
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

describe('azure-ml deploy, through the Toolkit against the Azure fake', () => {
  it('synth writes the Triton repository and the resource bodies a deploy would send, without calling Azure', async () => {
    const project = await toolkit.load({ cwd: dir });
    const { azure } = await toolkit.synth(project);
    const spec = JSON.parse(await readFile(azure.artifacts[0].file, 'utf8'));
    expect(spec).toMatchObject({
      endpointName: 'adder-dev-azure',
      blobPath: expect.stringMatching(/^deploy-model\/adder\/dev\/azure\/[0-9a-f]{12}$/),
      model: { name: 'adder-dev-azure', version: { properties: { modelType: 'triton_model' } } },
      endpoint: { properties: { authMode: 'Key', traffic: {} } },
      deployment: { sku: { capacity: 1 }, properties: { instanceType: 'Standard_NC4as_T4_v3', endpointComputeType: 'Managed' } },
    });
    expect(await readFile(path.join(dir, '.deploy-model/dev/azure/repository/adder/config.pbtxt'), 'utf8')).toMatch(/name: "adder"/);
    expect(fake.requests).toEqual([]);
  });

  it('first deploy: uploads to the default datastore, registers a triton_model, creates the endpoint and deployment blue, smoke-tests it by header, gives it all traffic', async () => {
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, type: 'azure-ml', details: expect.objectContaining({ deployment: 'blue', model: 'adder-dev-azure:1' }) });
    expect(report.endpoint).toBe(`${fake.origin}/endpoints/adder-dev-azure/score`);
    expect(endpoint()!.properties.traffic).toEqual({ blue: 100 });
    expect(endpoint()!.properties.authMode).toBe('Key');
    expect(deploymentNames()).toEqual(['blue']);

    // The repository is in the datastore's container, under the target's folder.
    const [blobs] = [...fake.state.blobs.values()];
    expect([...blobs.keys()]).toEqual([
      expect.stringMatching(/^deploy-model\/adder\/dev\/azure\/[0-9a-f]{12}\/adder\/1\/model\.onnx$/),
      expect.stringMatching(/^deploy-model\/adder\/dev\/azure\/[0-9a-f]{12}\/adder\/config\.pbtxt$/),
    ]);
    const version = fake.state.models.get('adder-dev-azure')!.versions.get('1')!;
    expect(version.properties).toMatchObject({ modelType: 'triton_model', modelUri: expect.stringMatching(/^azureml:\/\/subscriptions\/0{8}-0{4}-0{4}-0{4}-0{12}\/resourcegroups\/rg\/workspaces\/mlws\/datastores\/workspaceblobstore\/paths\/deploy-model\/adder\/dev\/azure\/[0-9a-f]{12}\/$/) });

    // The deployment was created without traffic and smoke-tested through the header, before the traffic moved.
    const deploymentPut = fake.requests.findIndex((r) => r.method === 'PUT' && r.path.endsWith('/deployments/blue'));
    const smoked = fake.requests.findIndex((r) => r.path === '/endpoints/adder-dev-azure/v2/models/adder/infer');
    const trafficPut = fake.requests.findIndex((r) => r.method === 'PUT' && r.path.endsWith('/onlineEndpoints/adder-dev-azure') && (r.body as any)?.properties?.traffic?.blue === 100);
    expect(deploymentPut).toBeGreaterThan(-1);
    expect(smoked).toBeGreaterThan(deploymentPut);
    expect(trafficPut).toBeGreaterThan(smoked);
    expect(fake.requests[smoked]).toMatchObject({ deploymentHeader: 'blue', servedBy: 'blue', status: 200 });
    expect((fake.requests[deploymentPut].body as any).properties).toMatchObject({ endpointComputeType: 'Managed', instanceType: 'Standard_NC4as_T4_v3' });
    // engine tensorrt, fp16, warmup: the liveness probe waits out a 20-minute engine build; requests get 60 s.
    expect((fake.requests[deploymentPut].body as any).properties).toMatchObject({
      livenessProbe: { initialDelay: 'PT1200S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 6, successThreshold: 1 },
      readinessProbe: { initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 119, successThreshold: 1 },
      requestSettings: { requestTimeout: 'PT60S', maxConcurrentRequestsPerInstance: 2, maxQueueWait: 'PT0.5S' },
    });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AZURE_UPLOADED', 'DM_AZURE_MODEL', 'DM_AZURE_ENDPOINT_CREATE', 'DM_AZURE_DEPLOYING', 'DM_AZURE_TRAFFIC', 'DM_DEPLOY_DONE']));
  });

  it('a redeploy of the same version changes nothing and smoke-tests the live deployment', async () => {
    const puts = fake.requests.filter((r) => r.method === 'PUT').length;
    const first = reports.at(-1)!.version;
    const report = await deploy();
    // Nothing was promoted: blue already was this version, and it passed its smoke test where it serves.
    expect(report).toMatchObject({ status: 'passed', promoted: true, version: first, previousVersion: first, details: expect.objectContaining({ unchanged: true, deployment: 'blue' }) });
    expect(fake.requests.filter((r) => r.method === 'PUT')).toHaveLength(puts);
    expect(fake.requests.at(-1)).toMatchObject({ path: '/endpoints/adder-dev-azure/v2/models/adder/infer', deploymentHeader: 'blue' });
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AZURE_UNCHANGED', 'DM_ROLLOUT_UNCHANGED']));
  });

  it('a new version goes to green beside blue, is smoke-tested by header, takes all traffic, and blue is deleted', async () => {
    await writeConfig({ instanceCount: 2 });
    const previous = reports.at(-1)!.version;
    const requestsBefore = fake.requests.length;
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true, previousVersion: previous, details: expect.objectContaining({ deployment: 'green', live: 'blue', replaces: ['blue'] }) });
    expect(report.version).not.toBe(previous);
    // green was smoke-tested by header before the traffic moved, and blue was deleted after.
    const requests = fake.requests.slice(requestsBefore);
    const smoked = requests.findIndex((r) => r.deploymentHeader === 'green');
    const trafficPut = requests.findIndex((r) => r.method === 'PUT' && (r.body as any)?.properties?.traffic?.green === 100);
    const blueDeleted = requests.findIndex((r) => r.method === 'DELETE' && r.path.endsWith('/deployments/blue'));
    expect(smoked).toBeGreaterThan(-1);
    expect(trafficPut).toBeGreaterThan(smoked);
    expect(blueDeleted).toBeGreaterThan(trafficPut);
    expect(endpoint()!.properties.traffic).toEqual({ green: 100 });
    expect(deploymentNames()).toEqual(['green']);
    // Same repository: the model version is reused.
    expect([...fake.state.models.get('adder-dev-azure')!.versions.keys()]).toEqual(['1']);
    expect(host.codes()).toContain('DM_AZURE_DEPLOYMENT_DELETE');

    const project = await toolkit.load({ cwd: dir });
    const call = await toolkit.invoke(project, 'azure', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] });
    expect(call).toMatchObject({ status: 200, body: { outputs: [{ name: 'y', data: [1, 2, 3, 4] }] } });
  });

  it('a new version that fails its smoke test is deleted and the traffic stays where it was', async () => {
    await writeConfig({ instanceCount: 3 });
    fake.faults.failInference('injected: CUDA error: an illegal memory access was encountered');
    const report = await deploy();
    expect(report).toMatchObject({ status: 'failed', promoted: false, endpoint: `${fake.origin}/endpoints/adder-dev-azure/score`, previousVersion: reports.at(-2)!.version, details: expect.objectContaining({ deployment: 'blue', live: 'green' }) });
    expect(report.checks.find((c) => !c.passed)?.message).toMatch(/500.*illegal memory access/);
    expect(endpoint()!.properties.traffic).toEqual({ green: 100 });
    expect(deploymentNames()).toEqual(['green']);
    expect(host.codes()).toEqual(expect.arrayContaining(['DM_AZURE_ROLLBACK', 'DM_DEPLOY_SMOKE_FAILED']));

    const project = await toolkit.load({ cwd: dir });
    expect((await toolkit.smoke(project)).targets[0]).toMatchObject({ status: 'passed' });
  });

  it('a quota error fails with AZURE_QUOTA_EXCEEDED and the fix, leaving the live deployment alone', async () => {
    fake.faults.quotaExceeded('Standard_NC4as_T4_v3');
    const report = await deploy();
    expect(report.error).toMatchObject({ code: 'AZURE_QUOTA_EXCEEDED', message: expect.stringMatching(/Not enough quota available for Standard_NC4as_T4_v3.*request more for the Standard_NC4as_T4_v3 family/is) });
    expect(endpoint()!.properties.traffic).toEqual({ green: 100 });
    expect(deploymentNames()).toEqual(['green']);
    expect(host.codes()).not.toContain('DM_AZURE_CLEANUP_FAILED');
  });

  it('a failed deployment operation fails with its message, and the failed deployment is removed', async () => {
    fake.faults.failOperation('deployment', { code: 'ResourceNotReady', message: 'User container has crashed or terminated: exit code 139' });
    const report = await deploy();
    expect(report.error).toMatchObject({ code: 'AZURE_OPERATION_FAILED', message: expect.stringMatching(/creating deployment blue on adder-dev-azure failed: ResourceNotReady: User container has crashed or terminated: exit code 139/) });
    expect(deploymentNames()).toEqual(['green']);
    expect(endpoint()!.properties.traffic).toEqual({ green: 100 });
  });

  it('throttled requests (429 + Retry-After) are retried by the SDK', async () => {
    fake.faults.throttle({ method: 'GET', path: /\/workspaces\/mlws$/ });
    const report = await deploy();
    expect(report.error).toBeUndefined();
    expect(fake.requests.filter((r) => r.path.endsWith('/workspaces/mlws') && r.status === 429)).toHaveLength(1);
  });

  it('a hung operation fails after operationTimeoutMinutes with AZURE_OPERATION_TIMEOUT naming the operation', async () => {
    await writeConfig({ operationTimeoutMinutes: 0.005 });
    fake.faults.hangOperation('endpoint');
    const started = Date.now();
    const report = await deploy('hung');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(report.error).toMatchObject({ code: 'AZURE_OPERATION_TIMEOUT' });
    // Polling stopped with the wait: after a poll that was already in flight has landed, no more
    // requests arrive (the SDK polls every few ms in these tests, so a live poller would add many).
    await new Promise((r) => setTimeout(r, 300));
    const polls = fake.requests.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(fake.requests).toHaveLength(polls);
    expect(report.error!.message).toMatch(new RegExp(`^Gave up waiting for creating online endpoint adder-hung-azure after 0\\.\\d s \\(operationTimeoutMinutes allows 0\\.3 s\\); the operation ${fake.origin.replace(/\./g, '\\.')}/operations/[0-9a-f-]{36} is still running`));
  });

  it('a subscription without the Azure ML provider fails with AZURE_PROVIDER_NOT_REGISTERED and the az command', async () => {
    fake.faults.providerNotRegistered();
    const report = await deploy();
    expect(report.error).toMatchObject({ code: 'AZURE_PROVIDER_NOT_REGISTERED', message: expect.stringContaining('az provider register --namespace Microsoft.MachineLearningServices') });
  });

  it('without credentials it fails before uploading anything, with AZURE_CREDENTIALS_MISSING and `az login`', async () => {
    const saved = process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN;
    const savedChain = process.env.AZURE_TOKEN_CREDENTIALS;
    delete process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN;
    // Only the developer tools (az, azd, PowerShell), none of which is logged in here: no IMDS probe.
    process.env.AZURE_TOKEN_CREDENTIALS = 'dev';
    const requestsBefore = fake.requests.length;
    try {
      const report = await deploy();
      expect(report.error).toMatchObject({ code: 'AZURE_CREDENTIALS_MISSING', message: expect.stringContaining('az login') });
      expect(fake.requests).toHaveLength(requestsBefore);
    } finally {
      process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN = saved;
      if (savedChain === undefined) delete process.env.AZURE_TOKEN_CREDENTIALS;
      else process.env.AZURE_TOKEN_CREDENTIALS = savedChain;
    }
  });

  it('the endpoint key never appears in progress messages, reports or errors', () => {
    const key = endpoint()!.keys.primaryKey;
    expect(key.length).toBeGreaterThan(20);
    const everything = JSON.stringify({ reports, messages: host.messages });
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(endpoint()!.keys.secondaryKey);
  });

  it('a config that no longer plans cannot deploy, but status still reads the deployment by its names', async () => {
    // int8 without an engine cache path: the Triton planner refuses it, the schema does not.
    await writeConfig({ precision: 'int8', int8Calibration: { table: './calibration.flatbuffers' } });
    const project = await toolkit.load({ cwd: dir });
    await expect(toolkit.deploy(project)).rejects.toMatchObject({ code: 'TARGET_INVALID', message: expect.stringContaining('int8') });
    const [status] = await toolkit.status(project);
    expect(status).toMatchObject({ name: 'azure', state: 'running', version: expect.stringMatching(/^[0-9a-f]{12}$/) });
  });

  it('status reports the live deployment; destroy removes the endpoint, the model and the uploads', async () => {
    await writeConfig();
    const project = await toolkit.load({ cwd: dir });
    const [status] = await toolkit.status(project);
    expect(status).toMatchObject({ name: 'azure', state: 'running', endpoint: `${fake.origin}/endpoints/adder-dev-azure/score`, version: expect.stringMatching(/^[0-9a-f]{12}$/) });

    const [destroyed] = await toolkit.destroy(project);
    expect(destroyed).toEqual({ name: 'azure', removed: true });
    expect(endpoint()).toBeUndefined();
    expect(fake.state.models.has('adder-dev-azure')).toBe(false);
    const [blobs] = [...fake.state.blobs.values()];
    expect([...blobs.keys()].filter((k) => k.includes('/dev/'))).toEqual([]);
    expect((await toolkit.status(project))[0].state).toBe('not-deployed');
    await expect(toolkit.invoke(project, 'azure', { inputs: [] })).rejects.toMatchObject({ code: 'NOT_DEPLOYED' });
    expect(fake.internalErrors).toEqual([]);
  });
});

describe('azure-ml with authMode aml_token', () => {
  it('smoke-tests and serves with a short-lived Azure ML token instead of a key', async () => {
    await writeConfig({ authMode: 'aml_token', endpointName: 'adder-token-ep' });
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(endpoint('adder-token-ep')!.properties.authMode).toBe('AMLToken');
    expect(fake.requests.some((r) => r.method === 'POST' && r.path.endsWith('/onlineEndpoints/adder-token-ep/token'))).toBe(true);
    expect(fake.requests.some((r) => r.path.endsWith('/onlineEndpoints/adder-token-ep/listKeys'))).toBe(false);

    // Changing the auth mode of an existing endpoint is refused with the fix.
    await writeConfig({ authMode: 'key', endpointName: 'adder-token-ep' });
    const changed = await deploy();
    expect(changed.error).toMatchObject({ code: 'AZURE_AUTH_MODE_CHANGED', message: expect.stringContaining('deploy-model destroy --target azure') });
  });
});

describe('azure-ml probes for a TensorRT engine built at start-up', () => {
  const deploymentPuts = (endpointName: string) => fake.requests.filter((r) => r.method === 'PUT' && r.path.includes(`/onlineEndpoints/${endpointName}/deployments/`));

  it('a deployment that needs 15 minutes to build its engines before Triton answers survives: the liveness probe waits out the start-up budget', async () => {
    await writeConfig({ endpointName: 'adder-slow-ep', precision: 'fp16' });
    fake.faults.slowStartup(15 * 60);
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
  });

  it('with Azure\'s default liveness probe (10 s + 30 x 10 s) the same start-up is restarted until the deployment fails', async () => {
    await writeConfig({ endpointName: 'adder-slow-default', livenessProbe: { initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 30 } });
    fake.faults.slowStartup(15 * 60);
    const report = await deploy();
    expect(report.error).toMatchObject({ code: 'AZURE_OPERATION_FAILED', message: expect.stringMatching(/ResourceNotReady: User container has crashed or terminated: the liveness probe failed \(it allows 310 s/) });
    expect((deploymentPuts('adder-slow-default')[0].body as any).properties.livenessProbe).toEqual({ initialDelay: 'PT10S', period: 'PT10S', timeout: 'PT2S', failureThreshold: 30, successThreshold: 1 });
  });

  it('sends the config\'s overrides and the derived rest', async () => {
    await writeConfig({ endpointName: 'adder-override-ep', engine: 'onnxruntime', requestSettings: { requestTimeoutMs: 120_000, maxConcurrentRequestsPerInstance: 4 }, readinessProbe: { periodSeconds: 5 } });
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed' });
    expect((deploymentPuts('adder-override-ep')[0].body as any).properties).toMatchObject({
      livenessProbe: { initialDelay: 'PT600S' },
      readinessProbe: { initialDelay: 'PT10S', period: 'PT5S', failureThreshold: 118 },
      requestSettings: { requestTimeout: 'PT120S', maxConcurrentRequestsPerInstance: 4, maxQueueWait: 'PT0.5S' },
    });
  });
});
