/**
 * Shared by the permissions tests: a project with the tiny `add` model, the deploy cycle whose calls
 * the fakes record, and the permissions the CLI prints for it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { TargetPermissions } from '../../src/permissions/index.js';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { RecordingIoHost } from '../../src/io/io-host.js';
import { tinyModelBytes, type TinyModelKind } from '../_helpers/onnx-models.js';
import { runCli } from '../_helpers/run-cli.js';

export const TARGET = 't';

/** Writes the config (target `t`) and a model: `add` and `unnamed-dim` answer y [1, 4]; `identity-float32` answers [1, 2] and fails the smoke test. */
export async function writeProject(dir: string, entry: Record<string, unknown>, model: TinyModelKind = 'add'): Promise<void> {
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes(model));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { ${TARGET}: ${JSON.stringify(entry)} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

/**
 * Every path of the driver a CI pipeline runs: a first deploy, an update, an update that fails its
 * smoke test (the rollback), diff, status, smoke, invoke, destroy, and status and destroy again
 * with nothing deployed.
 */
export async function runDeployCycle(dir: string, entry: Record<string, unknown>): Promise<void> {
  const toolkit = new Toolkit({ ioHost: new RecordingIoHost(), cacheDir: path.join(dir, '.cache') });
  const load = () => toolkit.load({ cwd: dir });
  const deployed = async (expected: 'passed' | 'failed') => {
    const report = await toolkit.deploy(await load());
    expect(report.targets[0], JSON.stringify(report.targets[0]?.error)).toMatchObject({ status: expected });
  };
  await writeProject(dir, entry, 'add');
  await deployed('passed');
  await writeProject(dir, entry, 'unnamed-dim');
  await deployed('passed');
  await writeProject(dir, entry, 'identity-float32');
  await deployed('failed');
  await writeProject(dir, entry, 'unnamed-dim');
  const project = await load();
  await toolkit.diff(project);
  expect((await toolkit.status(project))[0]).toMatchObject({ state: 'running' });
  expect((await toolkit.smoke(project)).targets[0]).toMatchObject({ status: 'passed' });
  expect(await toolkit.invoke(project, TARGET, { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [-1, 2, -3, 4] }] })).toMatchObject({ status: 200 });
  expect((await toolkit.destroy(project))[0]).toMatchObject({ removed: true });
  expect((await toolkit.status(project))[0]).toMatchObject({ state: 'not-deployed' });
  expect((await toolkit.destroy(project))[0]).toMatchObject({ removed: false });
}

/** What `deploy-model permissions --json` prints for the project's target. */
export async function printedPermissions(dir: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<TargetPermissions> {
  const run = await runCli(['permissions', '--target', TARGET, '--json', ...args], { cwd: dir, env });
  expect(run.code, run.stderr).toBe(0);
  return run.json().targets[0];
}

/** The document `--format <id>` names, from a report. */
export function documentOf<T>(report: TargetPermissions, id: string): T {
  const doc = report.documents.find((d) => d.id === id);
  if (!doc) throw new Error(`${report.target} has no ${id} document: ${report.documents.map((d) => d.id).join(', ')}`);
  return doc.content as T;
}
