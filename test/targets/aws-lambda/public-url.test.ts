/** `url: { auth: 'none' }` is said at synth and at deploy, on stderr and in the --json report. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../_helpers/run-cli.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

const REGION = 'us-east-1';
const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;

function config(auth: 'iam' | 'none'): string {
  return `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}', url: { auth: '${auth}' } } },
    smoke: { requests: 1 },
  };\n`;
}

function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: dir, env: { ...CLEARED, ...fake.env, DEPLOY_MODEL_STACK_POLL_MS: '20' } });
}

type Reported = { targets: Array<{ name: string; warnings?: Array<{ code: string; message: string }> }> };
const warningsOf = (run: CliRun) => (run.json() as Reported).targets.find((t) => t.name === 'lambda')!.warnings ?? [];

beforeAll(async () => {
  fake = await startAwsFake({ accountId: '123456789012', region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-public-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
});

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("an aws-lambda Function URL with auth 'none'", { timeout: 120_000 }, () => {
  it('the default (iam) says nothing about it', async () => {
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config('iam'));
    const synth = await cli(['synth', '--json']);
    expect(synth.code, synth.stderr).toBe(0);
    expect(warningsOf(synth)).toEqual([]);
    expect(synth.stderr).not.toContain('unauthenticated');
  });

  it('synth warns on stderr and in --json, with the fix', async () => {
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config('none'));
    const synth = await cli(['synth', '--json']);
    expect(synth.code, synth.stderr).toBe(0);
    expect(warningsOf(synth)).toEqual([expect.objectContaining({ code: 'DM_LAMBDA_URL_PUBLIC', message: expect.stringMatching(/unauthenticated requests \(url\.auth: 'none'\).*url\.auth: 'iam'/) })]);
    expect(synth.stderr.match(/takes unauthenticated requests/g)).toHaveLength(1);
  });

  it('deploy warns once, deploys, and the --json report carries the warning beside the passed target', async () => {
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), config('none'));
    const deploy = await cli(['deploy', '--json']);
    expect(deploy.code, deploy.stderr).toBe(0);
    const target = (deploy.json() as Reported & { targets: Array<{ status: string }> }).targets[0]!;
    expect(target).toMatchObject({ name: 'lambda', status: 'passed' });
    expect(warningsOf(deploy).map((w) => w.code)).toEqual(['DM_LAMBDA_URL_PUBLIC']);
    expect(deploy.stderr.match(/takes unauthenticated requests/g)).toHaveLength(1);
  });
});
