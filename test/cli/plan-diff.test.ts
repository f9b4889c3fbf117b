import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { runCli } from '../_helpers/run-cli.js';

// GIVEN a project with a local target on a real model
let dir: string;
const config = (extra: string) => `export default {
  name: 'cls',
  model: { path: ${JSON.stringify(REAL_MODELS.cls)}, inputs: { x: { shape: [1, 3, 48, 192] } } },
  targets: { local: { type: 'local'${extra} } },
  smoke: { requests: 2 },
};\n`;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-plan-'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), config(''));
});
afterAll(async () => {
  await runCli(['destroy', '--yes'], { cwd: dir });
  await rm(dir, { recursive: true, force: true });
});

describe('deploy-model plan and diff on the local target', () => {
  it('plan prints every resolved value without building, the same twice', async () => {
    const [a, b] = [await runCli(['plan', '--json'], { cwd: dir }), await runCli(['plan', '--json'], { cwd: dir })];
    expect(a.code, a.stderr).toBe(0);
    expect(a.json()).toEqual(b.json());
    const [plan] = a.json().targets;
    // The memory aws-lambda would give the same 0.6 MB model, and the serving environment.
    expect(plan).toMatchObject({
      type: 'local', targetName: 'local', stage: 'dev', resourceName: 'cls-dev-local', functionName: 'cls-dev-local', memoryMb: 1024, timeoutSeconds: 30,
      runtime: 'nodejs22.x', environment: { DM_MODEL_NAME: 'cls', DM_EXECUTION_PROVIDERS: 'cpu' },
      model: { file: REAL_MODELS.cls, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      rollout: { strategy: 'all-at-once', steps: expect.arrayContaining([expect.objectContaining({ phase: 'smoke' })]) },
    });
    const human = await runCli(['plan'], { cwd: dir });
    expect(human.stdout).toMatch(/^local \(local\)\n {2}type: local\n/);
  });

  it('plan refuses a config that deploy would refuse, naming every problem (exit 1)', async () => {
    await writeFile(path.join(dir, 'bad.config.mjs'), config('').replace("inputs: { x:", 'inputs: { nope: { shape: [1] }, x:'));
    const run = await runCli(['plan', '--config', 'bad.config.mjs'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/TARGET_INVALID.*\n.*model\.inputs\.nope.*the model has no input 'nope'/);
  });

  it('diff: everything to create, then nothing after a deploy (exit 0), then the new version after a change (exit 1)', async () => {
    const before = await runCli(['diff', '--json'], { cwd: dir });
    expect(before.code, before.stderr).toBe(1);
    expect(before.json().targets[0]).toMatchObject({ name: 'local', supported: true, unchanged: false, changes: [{ action: 'create', resource: 'cls-dev-local' }] });

    const deploy = await runCli(['deploy', '--json'], { cwd: dir, timeoutMs: 240_000 });
    expect(deploy.code, deploy.stderr).toBe(0);
    const same = await runCli(['diff'], { cwd: dir });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/local \(local\): no changes/);

    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config(', memoryMb: 2048'));
    const changed = await runCli(['diff', '--json'], { cwd: dir });
    expect(changed.code).toBe(1);
    // The new version is swapped in behind the same URL after its smoke test: an update, not a replacement.
    expect(changed.json().targets[0].changes).toEqual([expect.objectContaining({ action: 'update', detail: expect.stringMatching(/^version [0-9a-f]{12} → [0-9a-f]{12}; memory 1024 → 2048 MB \(swapped in behind http:\/\/127\.0\.0\.1:\d+\/ after its smoke test\)$/) })]);
    expect(changed.json().targets[0].changes[0]).not.toHaveProperty('disruptive');
  }, 300_000);
});
