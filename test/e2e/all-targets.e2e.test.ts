/**
 * One config, every target, one deploy: local, aws-lambda, aws-sagemaker, gcp-vertex, azure-ml and
 * container deployed together, in parallel, by the built CLI (`npm run build` first), against the
 * loopback fakes, then destroyed.
 *
 * The container target needs a builder that runs images and the local base image;
 * `bash .ci/containers.sh` (as root) prepares both, and CI runs it. Without them this test deploys
 * the other five targets and says so in its title.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../../src/targets/container/_exec.js';
import { containerBuilder, TEST_BASE_IMAGE } from '../_helpers/container-builder.js';
import { alive, runCli, type CliRun } from '../_helpers/run-cli.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../emulators/aws/index.js';
import { sageMakerFake, type SageMakerFake } from '../emulators/aws/sagemaker.js';
import { startAzureFake, type AzureFake } from '../emulators/azure/index.js';
import { startVertexFake, type VertexFake } from '../emulators/vertex/index.js';

const REGION = 'us-east-1';
const OUTPUT = 'softmax_0.tmp_0';
const ENABLE = 'run `bash .ci/containers.sh` as root to install podman and build the base image';

const container = await containerBuilder();

/** Every target of the config; the container target only where it can be built and run. */
const TARGETS: Record<string, Record<string, unknown>> = {
  local: { type: 'local' },
  lambda: { type: 'aws-lambda', region: REGION },
  sagemaker: { type: 'aws-sagemaker', region: REGION, instanceType: 'ml.g5.xlarge' },
  vertex: {
    type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
    image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
  },
  azure: { type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3' },
  ...(container.builder ? { image: { type: 'container', baseImage: TEST_BASE_IMAGE, builder: container.builder.name } } : {}),
};
const NAMES = Object.keys(TARGETS);

/** Variables of the developer's shell that would point the CLI elsewhere than the fakes. */
const CLEARED = Object.fromEntries(['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SAGEMAKER', 'AWS_ENDPOINT_URL_SSM'].map((k) => [k, undefined]));

let aws: AwsFake;
let sm: SageMakerFake;
let vertex: VertexFake;
let azure: AzureFake;
let dir: string;
let destroyed = false;

/** The CLI in the project, with every fake's environment; the fakes settle at once, so poll every 20 ms. */
function cli(args: string[]): Promise<CliRun> {
  return runCli(args, { cwd: dir, env: { ...CLEARED, ...aws.env, ...vertex.env, ...azure.env, DEPLOY_MODEL_STACK_POLL_MS: '20' }, timeoutMs: 240_000 });
}

beforeAll(async () => {
  [aws, vertex, azure] = await Promise.all([startAwsFake({ region: REGION, functionRunner: localFunctionRunner() }), startVertexFake(), startAzureFake()]);
  aws.bootstrap();
  sm = sageMakerFake(aws.state);
  vertex.gcs.createBucket('dm-staging');
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-all-targets-'));
  await copyFile(REAL_MODELS.cls, path.join(dir, 'cls.onnx'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'cls',
    model: { path: './cls.onnx', inputs: { x: { shape: [1, 3, 48, 192] } } },
    targets: ${JSON.stringify(TARGETS)},
    smoke: { requests: 2, expectShapes: { '${OUTPUT}': [1, 2] } },
  };\n`);
});

afterAll(async () => {
  // A failed test must not leave the local server running or the image behind.
  if (dir && aws && !destroyed) await cli(['destroy', '--yes']).catch(() => undefined);
  await sm?.close();
  await Promise.all([aws?.stop(), vertex?.stop(), azure?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const title = `one config deployed to ${NAMES.join(', ')} in parallel through the CLI, then destroyed`;

describe(container.builder ? title : `${title} (the container target is left out: ${container.reason}; ${ENABLE})`, { timeout: 300_000 }, () => {
  type Report = { name: string; type: string; endpoint?: string; status: string; durationMs: number; details?: Record<string, any>; error?: unknown };
  let targets: Report[];

  it('deploy passes every target, in parallel: the whole deploy takes less than the sum of its targets', async () => {
    // WHEN (--verbose keeps the coded progress on stderr beside the JSON on stdout)
    const started = performance.now();
    const run = await cli(['deploy', '--json', '--verbose']);
    const wallMs = Math.round(performance.now() - started);

    // THEN one passed report per target, each with its endpoint
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    targets = run.json().targets;
    expect(targets.map((t) => t.name)).toEqual(NAMES);
    for (const t of targets) {
      expect(t, JSON.stringify(t.error)).toMatchObject({ name: t.name, type: TARGETS[t.name]!.type, status: 'passed', endpoint: expect.any(String), durationMs: expect.any(Number) });
    }
    // THEN each target's answers were compared with onnxruntime-node's on this CPU (golden outputs, on by default)
    for (const t of targets) {
      const golden = (t as Report & { checks: Array<{ name: string; passed: boolean; maxAbsError?: number; maxRelError?: number }> }).checks.filter((c) => c.maxAbsError !== undefined);
      expect(golden.length, `${t.name} compared no output with the golden outputs`).toBeGreaterThan(0);
      expect(golden.every((c) => c.passed)).toBe(true);
      console.info(`golden outputs, ${t.name} (${t.type}): ${golden.map((c) => `${c.name}: max abs ${c.maxAbsError} rel ${c.maxRelError}`).join('; ')}`);
    }
    const by = Object.fromEntries(targets.map((t) => [t.name, t]));
    expect(by.local!.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(by.lambda!.endpoint).toMatch(new RegExp(`^${aws.endpoint}/lambda-url/[0-9a-f]+/$`));
    expect(by.sagemaker!.endpoint).toBe(`https://runtime.sagemaker.${REGION}.amazonaws.com/endpoints/cls-dev-sagemaker/invocations`);
    expect(by.vertex!.endpoint).toMatch(/^projects\/123456789012\/locations\/us-central1\/endpoints\/\d+$/);
    expect(by.azure!.endpoint).toBe(`${azure.origin}/endpoints/cls-dev-azure/score`);
    if (by.image) expect(by.image.endpoint).toMatch(/^localhost\/cls:[0-9a-f]{12}$/);

    // THEN every target started before any finished: they ran side by side, not one after another
    const lines = run.stderr.split('\n');
    const lastStart = Math.max(...NAMES.map((n) => lines.findIndex((l) => l.startsWith(`[${n}] `) && l.includes('(DM_DEPLOY_START)'))));
    const firstDone = Math.min(...NAMES.map((n) => lines.findIndex((l) => l.startsWith(`[${n}] `) && l.includes('(DM_DEPLOY_DONE)'))));
    expect(lastStart).toBeGreaterThan(-1);
    expect(lastStart).toBeLessThan(firstDone);

    // THEN the command (node start, config, model and all) took less than the targets one after another
    const sumMs = targets.reduce((n, t) => n + t.durationMs, 0);
    const slowestMs = Math.max(...targets.map((t) => t.durationMs));
    console.info(`deploy of ${NAMES.length} targets: wall ${wallMs} ms, sum of target durations ${sumMs} ms, slowest ${slowestMs} ms (${targets.map((t) => `${t.name} ${t.durationMs}`).join(', ')})`);
    expect(slowestMs).toBeLessThanOrEqual(wallMs);
    expect(wallMs).toBeLessThan(sumMs);

    // THEN each cloud really serves it
    expect(sm.endpoints.get('cls-dev-sagemaker')).toMatchObject({ status: 'InService' });
    expect(aws.state.lambda.functions.size).toBe(1);
    expect([...vertex.state.endpoints.values()].map((e) => e.displayName)).toEqual(['cls-dev-vertex']);
    expect(azure.state.endpoints.get('cls-dev-azure')!.properties.traffic).toEqual({ blue: 100 });
    expect(alive(by.local!.details!.pid)).toBe(true);
    expect([...aws.internalErrors, ...vertex.internalErrors, ...azure.internalErrors]).toEqual([]);
  });

  it('a second deploy converges and prints one table with every target', async () => {
    expect(targets, 'the first deploy did not report').toBeDefined();
    // WHEN
    const run = await cli(['deploy']);
    // THEN one row per target, each passed, with the endpoint of the first deploy
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const header = run.stdout.split('\n')[0]!;
    // Golden outputs are on by default: each row shows the largest error against onnxruntime-node on CPU.
    expect(header.split(/\s+/)).toEqual(['TARGET', 'TYPE', 'ENDPOINT', 'STATUS', 'P50', 'GOLDEN', 'MAX', 'ERROR']);
    for (const t of targets) {
      // The local target restarts beside the old one, so its port changes; the others keep theirs.
      const endpoint = t.type === 'local' ? 'http://127\\.0\\.0\\.1:\\d+/' : t.endpoint!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      expect(run.stdout).toMatch(new RegExp(`^${t.name}\\s+${t.type}\\s+${endpoint}\\s+passed\\s+[\\d.]+ ms\\s+abs \\S+ rel \\S+\\s*$`, 'm'));
    }
    expect(run.stdout.split('\n').filter((l) => / passed /.test(l))).toHaveLength(NAMES.length);
    expect(sm.endpoints.size).toBe(1);
    expect(vertex.state.endpoints.size).toBe(1);
    expect(azure.state.endpoints.size).toBe(1);
  });

  it('destroy --yes removes every target from every fake', async () => {
    expect(targets, 'the first deploy did not report').toBeDefined();
    const local = (await cli(['status', '--json', '--target', 'local'])).json().targets[0];
    // WHEN
    const run = await cli(['destroy', '--yes', '--json']);
    destroyed = true;
    // THEN
    expect(run.code, run.stderr).toBe(0);
    // Only the Lambda function's log group is kept (DeletionPolicy: Retain), and destroy says so.
    expect(run.json().targets).toEqual(NAMES.map((name) => ({
      name, removed: true, ...(name === 'lambda' ? { retained: [expect.objectContaining({ type: 'AWS::Logs::LogGroup' })] } : {}),
    })));
    // local: the server is stopped
    expect(alive(local.details.pid)).toBe(false);
    // AWS: both stacks deleted, with what they held
    const stacks = [...aws.state.cloudformation.stacks.values()].filter((s) => s.stackName !== 'CDKToolkit');
    expect(stacks.map((s) => [s.stackName, s.status]).sort()).toEqual([['cls-dev-lambda', 'DELETE_COMPLETE'], ['cls-dev-sagemaker', 'DELETE_COMPLETE']]);
    expect(aws.state.lambda.functions.size).toBe(0);
    expect([sm.endpoints.size, sm.endpointConfigs.size, sm.models.size, sm.scalableTargets.size]).toEqual([0, 0, 0, 0]);
    // Vertex AI: endpoint, Models and staged repository gone
    expect([vertex.state.endpoints.size, vertex.state.models.size]).toEqual([0, 0]);
    expect([...vertex.gcs.buckets.get('dm-staging')!.keys()]).toEqual([]);
    // Azure ML: endpoint, model and uploads gone
    expect(azure.state.endpoints.size).toBe(0);
    expect(azure.state.models.has('cls-dev-azure')).toBe(false);
    expect([...azure.state.blobs.values()].flatMap((b) => [...b.keys()])).toEqual([]);
    // container: the local image is gone
    const image = targets.find((t) => t.name === 'image');
    if (image) expect((await exec([container.builder!.command, 'image', 'inspect', image.endpoint!])).code).not.toBe(0);
    // and every target says so, the container's record having gone with its image
    const status = (await cli(['status', '--json'])).json().targets as Array<{ name: string; type: string; state: string }>;
    expect(status.map((t) => [t.name, t.state])).toEqual(NAMES.map((n) => [n, 'not-deployed']));
    expect([...aws.internalErrors, ...vertex.internalErrors, ...azure.internalErrors]).toEqual([]);
  });
});
