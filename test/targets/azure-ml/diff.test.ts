import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { azureMlTarget } from '../../../src/targets/azure-ml/index.js';
import type { AzureMlPlan } from '../../../src/targets/azure-ml/plan.js';
import type { AzureMlTargetConfig } from '../../../src/targets/azure-ml/schema.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { targetContext } from '../../_helpers/target-context.js';
import { startAzureFake, type AzureFake } from '../../emulators/azure/index.js';

// GIVEN a project with the tiny `add` model and an azure-ml target, the Azure fake, and the
// driver's diff run on a planned context with a real build of the Triton repository.

let fake: AzureFake;
let dir: string;
let restoreEnv: () => void;

const TARGET = { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3' };

async function writeConfig(options: { model?: string; target?: Record<string, unknown> } = {}): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: ${JSON.stringify(options.model ?? './add.onnx')} },
    targets: { azure: ${JSON.stringify({ ...TARGET, ...options.target })} },
    smoke: { requests: 1, expectShapes: { y: [1, 4] } },
  };\n`);
}

const toolkit = () => new Toolkit({ ioHost: new RecordingIoHost(), cacheDir: path.join(dir, '.cache') });

/** What a deploy of the config on disk would change, and the HTTP methods the diff used. */
async function diff() {
  const project = await toolkit().load({ cwd: dir });
  const ctx = targetContext<AzureMlTargetConfig, AzureMlPlan>({ config: project.loaded.config, targetName: 'azure', signature: project.signature, dir: path.join(dir, '.deploy-model'), rootDir: dir });
  const driver = await azureMlTarget.driver();
  const build = await driver.build(ctx);
  const before = fake.requests.length;
  const result = await driver.diff!(ctx, build);
  return { result, methods: [...new Set(fake.requests.slice(before).map((r) => r.method))] };
}

async function deploy() {
  const tk = toolkit();
  return (await tk.deploy(await tk.load({ cwd: dir }))).targets[0];
}

beforeAll(async () => {
  fake = await startAzureFake();
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-azure-diff-'));
  await writeTinyModel(dir, 'add');
  await writeTinyModel(dir, 'unnamed-dim');
  await writeConfig();
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('azure-ml diff against the Azure fake', () => {
  it('nothing deployed: the endpoint, the model version, the deployment and the traffic are all created, reading only', async () => {
    const { result, methods } = await diff();
    expect(result).toEqual({
      unchanged: false,
      changes: [
        { resource: 'online endpoint adder-dev-azure', action: 'create', detail: 'auth mode Key, in the region of workspace mlws' },
        { resource: 'model adder-dev-azure version 1', action: 'create', detail: expect.stringMatching(/^a triton_model of the repository [0-9a-f]{12}, uploaded to deploy-model\/adder\/dev\/azure\/[0-9a-f]{12} in the workspace's default datastore$/) },
        { resource: 'deployment blue', action: 'create', detail: expect.stringMatching(/^version [0-9a-f]{12} on 1 x Standard_NC4as_T4_v3, created without traffic and smoke-tested through azureml-model-deployment before it gets any$/) },
        { resource: 'traffic of adder-dev-azure', action: 'create', detail: 'no traffic → 100% to blue, after its smoke test', disruptive: false },
      ],
    });
    expect(methods).toEqual(['GET']);
    expect(fake.state.endpoints.size).toBe(0);
  });

  it('the deployed version: unchanged, nothing to do', async () => {
    expect(await deploy()).toMatchObject({ status: 'passed', promoted: true });
    const { result, methods } = await diff();
    expect(result).toEqual({ unchanged: true, changes: [] });
    expect(methods).toEqual(['GET']);
  });

  it('a changed model: a new model version and a deployment that replaces blue after its smoke test; nothing disruptive', async () => {
    const live = fake.state.deployments.get('adder-dev-azure')!.get('blue')!.tags['deploy-model-spec'];
    await writeConfig({ model: './unnamed-dim.onnx' });
    const { result, methods } = await diff();
    expect(methods).toEqual(['GET']);
    expect(result).toEqual({
      unchanged: false,
      changes: [
        { resource: 'model adder-dev-azure version 2', action: 'create', detail: expect.stringContaining('a triton_model of the repository') },
        {
          resource: 'deployment green', action: 'replace', disruptive: false,
          detail: expect.stringMatching(new RegExp(`^version ${live} → [0-9a-f]{12} on 1 x Standard_NC4as_T4_v3: created beside blue without traffic and smoke-tested through azureml-model-deployment; the live blue is replaced only after green passed its smoke test, then deleted$`)),
        },
        { resource: 'traffic of adder-dev-azure', action: 'update', detail: '100% to blue → 100% to green, after its smoke test', disruptive: false },
      ],
    });
    expect(fake.state.endpoints.get('adder-dev-azure')!.properties.traffic).toEqual({ blue: 100 });
  });

  it('a changed auth mode replaces the endpoint, and what serves on it: disruptive', async () => {
    await writeConfig({ target: { authMode: 'aml_token' } });
    const { result } = await diff();
    expect(result.unchanged).toBe(false);
    expect(result.changes[0]).toEqual({
      resource: 'online endpoint adder-dev-azure', action: 'replace', disruptive: true,
      detail: expect.stringMatching(/^auth mode Key → AMLToken: Azure fixes the auth mode when the endpoint is created, so the endpoint and its deployments \(now serving 100% to blue\) would be deleted and created again, and clients need a new token\. deploy refuses this change: set authMode back, or run `deploy-model destroy --target azure` and deploy again$/),
    });
    // The endpoint comes back empty: its deployment and traffic are created anew; the model version is reused.
    expect(result.changes.slice(1).map((c) => [c.resource, c.action])).toEqual([['deployment blue', 'create'], ['traffic of adder-dev-azure', 'create']]);
    expect(result.changes.filter((c) => c.disruptive).map((c) => c.resource)).toEqual(['online endpoint adder-dev-azure']);
    expect(fake.internalErrors).toEqual([]);
  });
});
