// The local target's package 'image' without a container engine: the schema's defaults, the plan's image, the builder validation, and which images pruning a kept version removes.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import type { DaemonFunctionSpec } from '../../../src/targets/local/daemon-protocol.js';
import { keepArtifacts, pruneKept, readKept, removeKept, writeKept } from '../../../src/targets/local/kept-versions.js';
import { planLocal } from '../../../src/targets/local/plan.js';
import type { LocalTargetConfig } from '../../../src/targets/local/schema.js';
import { validateLocal } from '../../../src/targets/local/validate-local.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';

let dir: string;
let signature: ModelSignature;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-local-image-plan-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  signature = await inspectModel(path.join(dir, 'model.onnx'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function input(local: Record<string, unknown>) {
  const config = configSchema.parse({ name: 'adder', model: { path: './model.onnx' }, targets: { local: { type: 'local', ...local } } });
  return { config, stage: 'dev', targetName: 'local', target: config.targets.local as LocalTargetConfig, signature, rootDir: dir };
}

describe('plan', () => {
  it("package defaults to 'zip': no image is planned, the zips are kept for rollback", () => {
    const plan = planLocal(input({}));
    expect(plan.package).toBe('zip');
    expect(plan.image).toBeUndefined();
    expect(plan.rollout.steps.map((s) => s.action).join('\n')).toMatch(/keeping its zips/);
  });

  it("package 'image' plans aws-lambda's image for this machine, tagged in the deployment's local repository", () => {
    const plan = planLocal(input({ package: 'image', image: { baseImage: 'localhost/base:node22', builder: 'podman' } }));
    expect(plan).toMatchObject({
      package: 'image',
      image: { baseImage: 'localhost/base:node22', builder: 'podman', platform: process.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64', taskRoot: '/var/task', optDir: '/opt', repository: 'localhost/deploy-model-local/adder-dev-local' },
    });
    expect(plan.rollout.steps[0]).toEqual({ phase: 'stage', action: expect.stringMatching(/^build the aws-lambda image localhost\/deploy-model-local\/adder-dev-local:<content hash> FROM localhost\/base:node22 \(linux\/(amd64|arm64)\) with podman, and run it/) });
    expect(plan.rollout.steps.map((s) => s.action).join('\n')).toMatch(/keeping its image/);
  });

  it("the image's base defaults to aws-lambda's", () => {
    expect(planLocal(input({ package: 'image' })).image?.baseImage).toBe('docker.io/library/node:22-bookworm-slim');
  });
});

describe('validate', () => {
  it('refuses buildah, which cannot run the image', async () => {
    const problems = await validateLocal(input({ package: 'image', image: { builder: 'buildah' } }), 'linux', 'x64');
    expect(problems).toEqual([expect.objectContaining({ path: 'targets.local.image.builder', value: 'buildah', fix: expect.stringContaining("builder: 'podman'") })]);
    expect(await validateLocal(input({ package: 'image', image: { builder: 'podman' } }), 'linux', 'x64')).toEqual([]);
  });
});

describe('kept image versions', () => {
  it('pruning a version removes its image unless a kept version runs the same image; removing all removes every image', async () => {
    // GIVEN a stand-in builder that records what it is asked to run
    const calls = path.join(dir, 'calls.txt');
    const builder = path.join(dir, 'fake-builder.sh');
    await writeFile(builder, `#!/bin/sh\necho "$@" >> '${calls}'\n`);
    await chmod(builder, 0o755);
    const stateDir = path.join(dir, 'state');
    await mkdir(stateDir, { recursive: true });
    const spec = (ref: string, memoryMb = 1024): DaemonFunctionSpec => ({ functionName: 'adder', handler: 'index.handler', memoryMb, timeoutSeconds: 30, image: { ref, id: `sha256:${ref.slice(-4)}`, builder } });
    // v1 and v2 run image one (a settings change), v3 runs image two
    for (const [v, s] of [['v1', spec('localhost/x:one')], ['v2', spec('localhost/x:one', 2048)], ['v3', spec('localhost/x:two')]] as const) {
      expect(await keepArtifacts(stateDir, 'k', v, s)).toEqual(s);
    }
    // WHEN v2 is current and v3 previous: v1 goes, and its image stays (v2 runs it)
    await writeKept(stateDir, 'k', { current: { version: 'v2', spec: spec('localhost/x:one', 2048), since: 'now' }, previous: { version: 'v3', spec: spec('localhost/x:two'), since: 'then' } });
    expect(await readFile(calls, 'utf8').catch(() => '')).toBe('');
    // WHEN only v2 is kept: v3's image goes
    expect(await pruneKept(stateDir, 'k', { current: (await readKept(stateDir, 'k')).current! })).toEqual([]);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['rmi localhost/x:two']);
    // WHEN everything goes (destroy)
    expect(await removeKept(stateDir, 'k')).toEqual([]);
    expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual(['rmi localhost/x:two', 'rmi localhost/x:one']);
  });

  it('an image the builder cannot remove is reported, with why', async () => {
    const builder = path.join(dir, 'refusing-builder.sh');
    await writeFile(builder, '#!/bin/sh\necho "Error: image used by container abc: image is in use by a container" >&2\nexit 2\n');
    await chmod(builder, 0o755);
    const stateDir = path.join(dir, 'state2');
    await keepArtifacts(stateDir, 'k', 'v1', { functionName: 'adder', handler: 'index.handler', memoryMb: 1024, timeoutSeconds: 30, image: { ref: 'localhost/x:one', builder } });
    expect(await removeKept(stateDir, 'k')).toEqual([{ version: 'v1', image: { ref: 'localhost/x:one', builder }, problem: expect.stringContaining('in use by a container') }]);
  });
});
