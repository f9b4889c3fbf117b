import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { gcpVertexTarget } from '../../../src/targets/gcp-vertex/index.js';
import type { GcpVertexPlan } from '../../../src/targets/gcp-vertex/plan.js';
import type { GcpVertexTargetConfig } from '../../../src/targets/gcp-vertex/schema.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { writeTinyModel } from '../../_helpers/onnx-models.js';
import { targetContext } from '../../_helpers/target-context.js';
import { startVertexFake, type VertexFake } from '../../emulators/vertex/index.js';

// GIVEN a project with the tiny `add` model and a gcp-vertex target, the Vertex AI fake, and the
// driver's diff run on a planned context with a real build of the Triton repository.

let fake: VertexFake;
let dir: string;
let restoreEnv: () => void;

const TARGET = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
};

async function writeConfig(model = './add.onnx'): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: ${JSON.stringify(model)} },
    targets: { vertex: ${JSON.stringify(TARGET)} },
    smoke: { requests: 1, expectShapes: { y: [1, 4] } },
  };\n`);
}

const toolkit = () => new Toolkit({ ioHost: new RecordingIoHost(), cacheDir: path.join(dir, '.cache') });

/** What a deploy of the config on disk would change, and the RPCs the diff made. */
async function diff() {
  const project = await toolkit().load({ cwd: dir });
  const ctx = targetContext<GcpVertexTargetConfig, GcpVertexPlan>({ config: project.loaded.config, targetName: 'vertex', signature: project.signature, dir: path.join(dir, '.deploy-model'), rootDir: dir });
  const driver = await gcpVertexTarget.driver();
  const build = await driver.build(ctx);
  const before = fake.calls.length;
  const result = await driver.diff!(ctx, build);
  return { result, methods: [...new Set(fake.calls.slice(before).map((c) => c.method))] };
}

async function deploy() {
  const tk = toolkit();
  return (await tk.deploy(await tk.load({ cwd: dir }))).targets[0];
}

beforeAll(async () => {
  fake = await startVertexFake();
  fake.gcs.createBucket('dm-staging');
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-vertex-diff-'));
  await writeTinyModel(dir, 'add');
  await writeTinyModel(dir, 'unnamed-dim');
  await writeConfig();
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('gcp-vertex diff against the Vertex AI fake', () => {
  it('nothing deployed: the endpoint, the Model, the deployed model and the traffic split are all created, reading only', async () => {
    const { result, methods } = await diff();
    expect(result).toEqual({
      unchanged: false,
      changes: [
        { resource: 'endpoint adder-dev-vertex', action: 'create', detail: expect.stringContaining('projects/my-project/locations/us-central1') },
        { resource: expect.stringMatching(/^model adder-dev-vertex-[0-9a-f]{12}$/), action: 'create', detail: expect.stringMatching(/^the Triton repository uploaded to gs:\/\/dm-staging\/models\/deploy-model\/adder\/dev\/vertex\/[0-9a-f]{12}, served by us-docker\.pkg\.dev/) },
        { resource: expect.stringMatching(/^deployed model adder-dev-vertex-[0-9a-f]{12}$/), action: 'create', detail: expect.stringMatching(/on 1 x g2-standard-4 \(1 x NVIDIA_L4\), deployed on adder-dev-vertex; smoke-tested there and undeployed if it fails$/) },
        { resource: 'traffic split of adder-dev-vertex', action: 'create', detail: expect.stringMatching(/^no traffic → 100% to adder-dev-vertex-[0-9a-f]{12}; nothing served before$/) },
      ],
    });
    expect(methods).toEqual(['ListEndpoints']);
    expect(fake.state.models.size).toBe(0);
  });

  it('the deployed version: unchanged, nothing to do', async () => {
    expect(await deploy()).toMatchObject({ status: 'passed', promoted: true });
    const { result } = await diff();
    expect(result).toEqual({ unchanged: true, changes: [] });
  });

  it('a changed model: a new Model and deployed model that replace the serving one after its smoke test; nothing disruptive', async () => {
    const live = [...fake.state.endpoints.values()][0]!;
    const [serving] = live.deployedModels;
    await writeConfig('./unnamed-dim.onnx');
    const { result, methods } = await diff();
    expect(methods).toEqual(['ListEndpoints']);
    expect(result.unchanged).toBe(false);
    expect(result.changes.map((c) => [c.resource.replace(/[0-9a-f]{12}$/, '<v>'), c.action])).toEqual([
      ['model adder-dev-vertex-<v>', 'create'],
      ['deployed model adder-dev-vertex-<v>', 'replace'],
      ['model adder-dev-vertex-<v>', 'update'],
      ['traffic split of adder-dev-vertex', 'update'],
    ]);
    const [model, deployed, oldModel, traffic] = result.changes;
    expect(model.resource).not.toBe(`model ${serving.displayName}`);
    expect(deployed).toMatchObject({
      disruptive: false,
      detail: expect.stringMatching(new RegExp(`^version ${serving.displayName.slice(-12)} → [0-9a-f]{12} on .*: smoke-tested alone on adder-dev-vertex-smoke first; the live ${serving.displayName} \\(version ${serving.displayName.slice(-12)}\\) is replaced only after the new model passed its smoke test, then undeployed$`)),
    });
    expect(oldModel).toMatchObject({ resource: `model ${serving.displayName}`, disruptive: false, detail: expect.stringMatching(new RegExp(`^${serving.model}, the Model of the replaced version, kept in the Model Registry .* for \`deploy-model rollback\`$`)) });
    expect(traffic).toMatchObject({ disruptive: false, detail: `100% to ${serving.displayName} → 100% to ${deployed.resource.replace('deployed model ', '')}, after its smoke test` });
    expect(result.changes.some((c) => c.disruptive)).toBe(false);
    // Nothing changed in the cloud.
    expect(live.deployedModels.map((d) => d.id)).toEqual([serving.id]);
    expect(fake.internalErrors).toEqual([]);
  });
});
