import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servingEnv } from '../../handlers/serving-env.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import { writeTinyModel } from '../_helpers/onnx-models.js';

// onnxruntime-node 1.30 starts a telemetry uploader with its first session on Linux: it writes a
// device id and an offline queue (onnxruntime.db) under ~/.cache/Microsoft/DeveloperTools/ and
// posts to mobile.events.data.microsoft.com. It stays silent under CI variables, so each child
// process here runs with those removed and its own empty HOME; the folder is the evidence.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ORT = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
/** The variables onnxruntime reads as "running in CI" (from its library's strings), removed from each child. */
const CI_VARIABLES = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER', 'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI', 'ORT_DISABLE_TELEMETRY'];

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-telemetry-'));
  model = await writeTinyModel(dir, 'add');
  await writeFile(path.join(dir, 'signature.json'), JSON.stringify(await inspectModel(model)));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** Runs `script` (an ES module, with tsx) in a child with a fresh HOME; returns what onnxruntime left in HOME. */
async function homeAfter(name: string, script: string, env: Record<string, string> = {}): Promise<string[]> {
  const home = path.join(dir, `home-${name}`);
  const file = path.join(dir, `${name}.mts`);
  await writeFile(file, script);
  const childEnv: Record<string, string | undefined> = { ...process.env, HOME: home, XDG_CACHE_HOME: undefined, ...env };
  for (const k of CI_VARIABLES) if (!(k in env)) delete childEnv[k];
  await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: childEnv as NodeJS.ProcessEnv, timeout: 60_000 });
  return readdir(home, { recursive: true }).catch(() => []);
}

/** Creates a session, runs it once and lingers a moment, as a serving process would. */
const LINGER = 'await new Promise((r) => setTimeout(r, 1000));';

describe("onnxruntime's telemetry", { timeout: 120_000 }, () => {
  it('a bare onnxruntime-node session writes its telemetry folder (the check below can fail)', async () => {
    const left = await homeAfter('bare', `
      const ort = await import(${JSON.stringify(ORT)});
      await ort.InferenceSession.create(${JSON.stringify(model)});
      ${LINGER}`);
    expect(left).toEqual(expect.arrayContaining([path.join('.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime', 'onnxruntime.db')]));
  });

  it('is off in the in-process core (the Lambda handler and DM_WORKERS=0)', async () => {
    const left = await homeAfter('core', `
      import { createCoreFromEnv } from ${JSON.stringify(path.join(ROOT, 'handlers/runtime-config.ts'))};
      const core = await createCoreFromEnv({ DM_MODEL_PATH: ${JSON.stringify(model)}, DM_SIGNATURE_PATH: ${JSON.stringify(path.join(dir, 'signature.json'))} });
      await core.infer({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
      ${LINGER}`);
    expect(left).toEqual([]);
  });

  it("is off in the server's worker pool, whose threads get a copy of the environment", async () => {
    const left = await homeAfter('pool', `
      import { createServingCoreFromEnv } from ${JSON.stringify(path.join(ROOT, 'handlers/create-serving-core-from-env.ts'))};
      const pool = await createServingCoreFromEnv({ DM_MODEL_PATH: ${JSON.stringify(model)}, DM_SIGNATURE_PATH: ${JSON.stringify(path.join(dir, 'signature.json'))}, DM_WORKERS: '1' });
      await pool.infer({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
      ${LINGER}
      await pool.close?.();`);
    expect(left).toEqual([]);
  });

  it('every target that runs the runtime ships the switch in its environment', () => {
    expect(servingEnv({ modelName: 'm', runtime: { executionProviders: ['cpu'] }, entry: 'lambda' })).toMatchObject({ ORT_DISABLE_TELEMETRY: '1' });
    expect(servingEnv({ modelName: 'm', runtime: { executionProviders: ['cpu'] }, entry: 'server' })).toMatchObject({ ORT_DISABLE_TELEMETRY: '1' });
  });
});
