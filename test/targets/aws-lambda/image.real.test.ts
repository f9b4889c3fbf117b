// aws-lambda with package 'image' for real: the image built with podman, its ENTRYPOINT run against the Runtime API emulator, pushed to the local registry standing in for ECR, deployed against the AWS fake.
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LambdaClient, GetFunctionCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { exec } from '../../../src/kits/container/exec.js';
import { startImageRuntime } from '../../../src/lambda-emulator/image-runtime.js';
import type { LambdaArtifacts } from '../../../src/targets/aws-lambda/build.js';
import { buildLambdaImage } from '../../../src/targets/aws-lambda/build-image.js';
import type { AwsLambdaPlan } from '../../../src/targets/aws-lambda/plan.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { containerBuilder } from '../../_helpers/container-builder.js';
import { tinyModelBytes } from '../../_helpers/onnx-models.js';
import { signedFetch } from '../../emulators/aws/_cdk-app.js';
import { imageCode } from '../../emulators/aws/_lambda-images.js';
import { ecrFake } from '../../emulators/aws/ecr.js';
import { localFunctionRunner, startAwsFake, type AwsFake } from '../../emulators/aws/index.js';

// GIVEN the tiny `add` model (y = x + [1,2,3,4]) and an aws-lambda target with package 'image' on
// the local Node 22 base image; the AWS fake, bootstrapped (its ECR repository on the local
// registry), running deployed functions with the local executor.

const ENABLE = 'run `bash .ci/containers.sh` as root to install podman, build the base images and start the registry on 127.0.0.1:5000';
const BASE_IMAGE = process.env.DEPLOY_MODEL_TEST_LAMBDA_BASE_IMAGE ?? 'localhost/deploy-model-base:node22';
const REGISTRY = process.env.DEPLOY_MODEL_TEST_REGISTRY ?? '127.0.0.1:5000';
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const STACK = 'adder-dev-lambda';
const REPOSITORY = `cdk-hnb659fds-container-assets-${ACCOUNT}-${REGION}`;
const X = [-1, 2, -3, 4];
const REQUEST = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: X }] };

const env = await containerBuilder();
const baseThere = env.builder ? (await exec([env.builder.command, 'image', 'inspect', BASE_IMAGE], { timeoutMs: 30_000 })).code === 0 : false;
const registryUp = await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status === 200, () => false);
const reason = !env.builder ? env.reason : !baseThere ? `the base image ${BASE_IMAGE} is not there` : !registryUp ? `no registry on ${REGISTRY}` : undefined;
const title = 'aws-lambda container image built, run and deployed for real';

let fake: AwsFake;
let restoreEnv: () => void;
let dir: string;

beforeAll(async () => {
  fake = await startAwsFake({ accountId: ACCOUNT, region: REGION, functionRunner: localFunctionRunner() });
  restoreEnv = fake.applyEnv();
  fake.bootstrap();
  process.env.DEPLOY_MODEL_STACK_POLL_MS = '20';
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-image-'));
  await writeFile(path.join(dir, 'model.onnx'), tinyModelBytes('add'));
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: './model.onnx' },
    targets: { lambda: { type: 'aws-lambda', region: '${REGION}', package: 'image', image: { baseImage: '${BASE_IMAGE}' } } },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
});

afterAll(async () => {
  delete process.env.DEPLOY_MODEL_STACK_POLL_MS;
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the fake refuses an ImageUri Lambda would refuse', () => {
  it('an image of a repository that does not exist, of another region, or without a tag', async () => {
    const ctx = { accountId: ACCOUNT, region: REGION, state: fake.state, workDir: dir };
    await expect(imageCode(ctx, `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/no-such-repo:abc`)).rejects.toThrow(/Source image .*no-such-repo:abc does not exist\. Provide a valid source image\./);
    await expect(imageCode(ctx, `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${REPOSITORY}:abc`)).rejects.toThrow(/is not valid/);
    await expect(imageCode(ctx, `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${REPOSITORY}`)).rejects.toThrow(/is not valid/);
    // The bootstrap made the repository and names it, as `cdk bootstrap` does.
    expect(ecrFake(fake.state).repositories.has(REPOSITORY)).toBe(true);
    const toolkitStack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === 'CDKToolkit')!;
    expect(toolkitStack.outputs).toContainEqual({ OutputKey: 'ImageRepositoryName', OutputValue: REPOSITORY });
  });
});

describe.skipIf(reason !== undefined)(reason ? `${title} (skipped: ${reason}; ${ENABLE})` : title, () => {
  const builder = env.builder!;
  let host: RecordingIoHost;
  let toolkit: Toolkit;
  let built: LambdaArtifacts;
  let plan: AwsLambdaPlan;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    host = new RecordingIoHost();
    toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
  });

  afterAll(async () => {
    if (built?.image) await exec([builder.command, 'rmi', '--force', built.image.localRef, `${REGISTRY}/${REPOSITORY}:${built.image.tag}`], { timeoutMs: 60_000 });
    console.info(`aws-lambda image timings (ms): ${JSON.stringify(timings)}`);
  });

  it('builds an image FROM the Node base with the handler, onnxruntime and the model laid out as Lambda does', async () => {
    // WHEN
    const project = await toolkit.load({ cwd: dir });
    const t0 = Date.now();
    const result = (await toolkit.build(project)).lambda!;
    timings.build = Date.now() - t0;
    plan = (await toolkit.plan(project)).lambda as AwsLambdaPlan;
    built = result.outputs as LambdaArtifacts;
    // THEN
    expect(plan.package).toBe('image');
    expect(built.image).toMatchObject({ platform: 'linux/amd64', builder: builder.name, localRef: expect.stringMatching(/^localhost\/deploy-model-lambda\/adder-dev-lambda:[0-9a-f]{20}$/) });
    expect(built.image!.bytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(host.codes()).toContain('DM_LAMBDA_IMAGE_BUILT');
    const listing = await exec([builder.command, 'run', '--rm', '--entrypoint', 'sh', built.image!.localRef, '-c',
      'ls /var/task /var/task/model /var/runtime && ls /opt/nodejs/node_modules && find /opt -name "onnxruntime_binding.node"'], { timeoutMs: 60_000 });
    expect(listing.code, listing.stderr).toBe(0);
    expect(listing.stdout).toMatch(/index\.mjs/);
    expect(listing.stdout).toMatch(/model\.onnx/);
    expect(listing.stdout).toMatch(/bootstrap\.mjs/);
    expect(listing.stdout).toMatch(/onnxruntime-node/);
    // Only the layer's architecture: the pruned package, not the 300 MB npm one.
    expect(listing.stdout).toMatch(/linux\/x64\/onnxruntime_binding\.node/);
    expect(listing.stdout).not.toMatch(/arm64\/onnxruntime_binding/);
    // Built again from the same content: the same tag.
    const again = (await toolkit.build(project)).lambda!.outputs as LambdaArtifacts;
    expect(again.image!.tag).toBe(built.image!.tag);
  }, 600_000);

  it('runs its ENTRYPOINT against the Runtime API, which admits the container and refuses other local processes', async () => {
    // GIVEN the image started the way a local run starts it: on the host network, the Runtime API
    // answering only conmon's process tree (the container's parent)
    let refused = 0;
    const lines: string[] = [];
    const t0 = Date.now();
    const image = await startImageRuntime({ image: built.image!.localRef, builder: builder.command, env: plan.environment, memoryMb: plan.memoryMb, functionName: 'adder', onLine: (l) => lines.push(l), onRefused: () => { refused++; } });
    try {
      // WHEN
      const first = await image.invoke(REQUEST);
      timings.containerFirstAnswer = Date.now() - t0;
      const second = await image.invoke(REQUEST);
      // THEN the handler answered through the image's own Runtime API client, twice (one environment)
      for (const outcome of [first, second]) {
        expect(outcome.kind).toBe('response');
        expect(JSON.parse(outcome.body.toString())).toMatchObject({ outputs: [{ name: 'y', shape: [1, 4], data: [0, 4, 0, 8] }] });
      }
      // AND a process outside the container is refused (its connection closed unanswered)
      const before = refused;
      const status = await new Promise<string>((resolve) => {
        const [hostName, port] = image.runtimeApi.split(':');
        http.get({ host: hostName, port: Number(port), path: '/2018-06-01/runtime/invocation/next', timeout: 5_000 }, (res) => resolve(String(res.statusCode))).on('error', (e) => resolve(e.message));
      });
      expect(status).not.toBe('200');
      expect(refused).toBe(before + 1);
      // AND the image still answers afterwards: the refusal took nothing from its queue
      expect((await image.invoke(REQUEST)).kind).toBe('response');
    } finally {
      await image.stop();
    }
    await expect(image.invoke(REQUEST)).rejects.toMatchObject({ code: 'LOCAL_FUNCTION_STOPPED' });
  }, 120_000);

  it('refuses to deploy when the bootstrap ECR repository is missing, before anything changes', async () => {
    // GIVEN the environment's repository deleted
    const ecr = ecrFake(fake.state);
    const repo = ecr.repositories.get(REPOSITORY)!;
    ecr.repositories.delete(REPOSITORY);
    try {
      const from = fake.calls.length;
      // WHEN
      const report = (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
      // THEN
      expect(report.status).toBe('failed');
      expect(report.error).toMatchObject({ code: 'LAMBDA_IMAGE_REPOSITORY_MISSING', message: expect.stringContaining('cdk bootstrap aws://ACCOUNT/us-east-1') });
      const calls = fake.calls.slice(from).map((c) => `${c.service}:${c.action}`);
      expect(calls.filter((c) => c.startsWith('cloudformation:') && !c.endsWith(':DescribeStacks'))).toEqual([]);
      expect(calls).toContain('ecr:DescribeRepositories');
    } finally {
      ecr.repositories.set(REPOSITORY, repo);
    }
  }, 600_000);

  it('deploys: pushed to the registry, a PackageType Image function, smoke-tested before the live alias and the Function URL serve it', async () => {
    // WHEN
    const marks: Array<[string, number]> = [];
    const t0 = Date.now();
    const report = (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
    timings.deploy = Date.now() - t0;
    for (const m of host.messages.filter((x) => x.time.getTime() >= t0)) if (/IMAGE|PUBLISH|SMOKE_VERSION|PROMOTE|LIVE/.test(m.code)) marks.push([m.code, m.time.getTime() - t0]);
    timings.steps = marks as never;
    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', version: '1', promoted: true });
    expect(host.codes()).toContain('DM_LAMBDA_IMAGE_PUSHED');
    const tags = await (await fetch(`http://${REGISTRY}/v2/${REPOSITORY}/tags/list`)).json() as { tags: string[] };
    expect(tags.tags).toContain(built.image!.tag);
    const lambda = new LambdaClient({});
    try {
      const fn = await lambda.send(new GetFunctionCommand({ FunctionName: String(report.details?.functionName), Qualifier: 'live' }));
      expect(fn.Configuration).toMatchObject({ PackageType: 'Image', Version: '1', Layers: [] });
      const deployed = fake.state.lambda.functions.get(String(report.details?.functionName))!;
      expect(deployed.latest.image?.uri).toBe(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${REPOSITORY}:${built.image!.tag}`);
    } finally {
      lambda.destroy();
    }
    // The Function URL (IAM auth) answers through the live alias.
    const credentials = { accessKeyId: fake.env.AWS_ACCESS_KEY_ID!, secretAccessKey: fake.env.AWS_SECRET_ACCESS_KEY! };
    const signed = await signedFetch(`${report.endpoint}v2/models/adder/infer`, { method: 'POST', body: JSON.stringify(REQUEST) }, credentials, REGION);
    expect(signed.status).toBe(200);
    expect(await signed.json()).toMatchObject({ model_name: 'adder', outputs: [{ name: 'y', shape: [1, 4], data: [0, 4, 0, 8] }] });
    // Deployed again unchanged: the same image tag, no new version.
    const again = (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
    expect(again).toMatchObject({ status: 'passed', version: '1' });
    const stack = [...fake.state.cloudformation.stacks.values()].find((s) => s.stackName === STACK && !s.deleted)!;
    expect(stack.status).toMatch(/_COMPLETE$/);
    // AND diff, which synthesises without pushing, sees the deployed template as unchanged.
    const [diff] = await toolkit.diff(await toolkit.load({ cwd: dir }));
    expect(diff).toMatchObject({ supported: true, unchanged: true });
  }, 600_000);

  it('builds for arm64 from an arm64 base, and refuses native files of another architecture', async (ctx) => {
    // GIVEN the same project with an arm64 target (the base image's arm64 variant, made by .ci/containers.sh)
    const armBase = `${BASE_IMAGE}-arm64`;
    const armThere = (await exec([builder.command, 'image', 'inspect', armBase], { timeoutMs: 30_000 })).code === 0;
    if (!armThere) ctx.skip(`the arm64 base image ${armBase} is not there (${ENABLE})`);
    const configFile = path.join(dir, 'arm.config.mjs');
    await writeFile(configFile, `export default { name: 'adder', model: { path: './model.onnx' }, targets: { arm: { type: 'aws-lambda', region: '${REGION}', architecture: 'arm64', package: 'image', image: { baseImage: '${armBase}' } } } };\n`);
    // WHEN
    const arm = (await toolkit.build(await toolkit.load({ configFile }))).arm!.outputs as LambdaArtifacts;
    try {
      // THEN the image is linux/arm64 and its onnxruntime binding is aarch64 (the ELF check passed)
      expect(arm.image).toMatchObject({ platform: 'linux/arm64' });
      const arch = await exec([builder.command, 'image', 'inspect', '--format', '{{.Architecture}}', arm.image!.localRef], { timeoutMs: 30_000 });
      expect(arch.stdout.trim()).toBe('arm64');
      // AND an x86_64 layer in an arm64 image is refused before the builder runs
      await expect(buildLambdaImage({
        image: { baseImage: armBase, platform: 'linux/arm64', taskRoot: '/var/task', optDir: '/opt' },
        stackName: 'adder-dev-wrong', functionZip: built.functionZip, layerZip: built.layerZip, outDir: path.join(dir, 'wrong'),
      })).rejects.toMatchObject({ code: 'CONTAINER_WRONG_ARCHITECTURE', message: expect.stringMatching(/linux\/arm64.*onnxruntime_binding\.node is x86-64/s) });
    } finally {
      await exec([builder.command, 'rmi', '--force', arm.image!.localRef], { timeoutMs: 60_000 });
    }
  }, 600_000);

  it('says which builder is missing when no podman or docker is on PATH', async () => {
    const path0 = process.env.PATH;
    process.env.PATH = path.join(dir, 'empty-bin');
    try {
      const project = await toolkit.load({ cwd: dir });
      await expect(toolkit.build(project)).rejects.toMatchObject({ code: 'CONTAINER_NO_BUILDER', message: expect.stringMatching(/docker \(not installed\); podman \(not installed\); buildah \(not installed\)/) });
    } finally {
      process.env.PATH = path0;
    }
  }, 120_000);
});
