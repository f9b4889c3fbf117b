// The aws-lambda plan's package: zip when the model fits 250 MB with the layer, image otherwise (a ~260 MB model with external data), the 10 GB error.
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { DeployModelError } from '../../../src/errors.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import type { ModelSignature } from '../../../src/model/types.js';
import { awsLambdaTarget, type AwsLambdaPlan, type AwsLambdaTargetConfig } from '../../../src/targets/aws-lambda/index.js';
import { renderLambdaDockerfile } from '../../../src/targets/aws-lambda/build-image.js';
import type { PlanInput } from '../../../src/targets/target-module.js';
import { encodeModel, nodeProto, onnx, tensorInfo, tinyModelBytes } from '../../_helpers/onnx-models.js';

// GIVEN the tiny `add` model, and a model whose initializer lives in a 260 MB external data file
// (sparse, written here at test time so the repository stays small)

const T = onnx.TensorProto.DataType;
let dir: string;
let small: ModelSignature;
let big: ModelSignature;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-lambda-package-'));
  await writeFile(path.join(dir, 'small.onnx'), tinyModelBytes('add'));
  small = await inspectModel(path.join(dir, 'small.onnx'));
  const floats = 65_000_000;
  await writeFile(path.join(dir, 'big.onnx'), encodeModel({
    nodes: [nodeProto('ReduceSum', ['big'], ['total']), nodeProto('Add', ['x', 'total'], ['y'])],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
    initializers: [{
      name: 'big', dataType: T.FLOAT, dims: [floats], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'big.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: String(floats * 4) }],
    }],
  }));
  await writeFile(path.join(dir, 'big.bin'), '');
  await truncate(path.join(dir, 'big.bin'), floats * 4);
  big = await inspectModel(path.join(dir, 'big.onnx'));
});
afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

function input(signature: ModelSignature, target: Record<string, unknown> = {}): PlanInput<AwsLambdaTargetConfig> {
  const config: Config = configSchema.parse({ name: 'm', model: { path: path.basename(signature.file) }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1', ...target } } });
  return { config, stage: 'dev', targetName: 'lambda', target: config.targets.lambda as AwsLambdaTargetConfig, signature, rootDir: dir };
}
const plan = (i: PlanInput<AwsLambdaTargetConfig>): AwsLambdaPlan => awsLambdaTarget.plan(i) as AwsLambdaPlan;

describe('the aws-lambda package', () => {
  it('is a zip for a model that fits 250 MB with the layer, and the plan says why', () => {
    const p = plan(input(small));
    expect(p.package).toBe('zip');
    expect(p.image).toBeUndefined();
    expect(p.packageReason).toMatch(/^zip: model 0\.0 MB \+ handler \+ onnxruntime layer \(x86_64\) = 50\.0 MB unzipped fit Lambda's 250 MB limit/);
    expect(p.rollout.steps[0]!.action).not.toMatch(/ECR/);
  });

  it('is an image for a model of 260 MB (external data), built for the architecture', () => {
    // WHEN
    const p = plan(input(big, { architecture: 'arm64' }));
    // THEN
    expect(big.externalData).toEqual(['big.bin']);
    expect(p.package).toBe('image');
    expect(p.packageReason).toMatch(/^image: model 24[78]\.\d MB .* pass Lambda's 250 MB limit for a zip and its layers; a container image may hold 10 GB/);
    expect(p.image).toEqual({ baseImage: 'docker.io/library/node:22-bookworm-slim', platform: 'linux/arm64', taskRoot: '/var/task', optDir: '/opt' });
    expect(p.rollout.steps[0]!.action).toMatch(/^push the function image to the CDK bootstrap ECR repository, then deploy stack m-dev-lambda/);
    // The memory default follows the model's size, as for a zip.
    expect(p.memoryMb).toBe(1536);
  });

  it('validate passes the image, and refuses the same model as an explicit zip, pointing at the image', async () => {
    expect(await awsLambdaTarget.validate!(input(big))).toEqual([]);
    const problems = await awsLambdaTarget.validate!(input(big, { package: 'zip' }));
    expect(problems).toEqual([expect.objectContaining({ path: 'targets.lambda', rule: expect.stringContaining('250 MB unzipped'), fix: expect.stringContaining("package: 'image'") })]);
    expect(plan(input(big, { package: 'zip' })).package).toBe('zip');
  });

  it('is an image when the config says so, whatever the size, with the base image and builder given', () => {
    const p = plan(input(small, { package: 'image', image: { baseImage: 'localhost/deploy-model-base:node22', builder: 'podman' } }));
    expect(p).toMatchObject({ package: 'image', packageReason: expect.stringMatching(/^package: 'image' in the config/), image: { baseImage: 'localhost/deploy-model-base:node22', builder: 'podman', platform: 'linux/amd64' } });
  });

  it('past 10 GB, throws LAMBDA_IMAGE_TOO_LARGE suggesting aws-sagemaker or the container target', () => {
    const huge = { ...big, initializerBytes: 10 * 1024 ** 3 };
    for (const target of [{}, { package: 'image' }, { package: 'zip' }]) {
      const e = (() => { try { plan(input(huge, target)); } catch (err) { return err; } })();
      expect(e).toBeInstanceOf(DeployModelError);
      expect(e).toMatchObject({ code: 'LAMBDA_IMAGE_TOO_LARGE', message: expect.stringMatching(/targets\.lambda.*10240\.0 MB.*aws-sagemaker.*'container'/s) });
    }
  });

  it('renders a Dockerfile with the Runtime API client as ENTRYPOINT and the handler as CMD', () => {
    expect(renderLambdaDockerfile({ baseImage: 'localhost/deploy-model-base:node22', taskRoot: '/var/task', optDir: '/opt' })).toBe([
      '# Generated by deploy-model from the config; rebuilt on every build, do not edit.',
      'FROM localhost/deploy-model-base:node22',
      'COPY opt/ /opt/',
      'COPY task/ /var/task/',
      'COPY runtime/ /var/runtime/',
      'ENV DM_RUNTIME_LOG_MARKERS=off \\',
      '    LAMBDA_RUNTIME_DIR=/var/runtime \\',
      '    LAMBDA_TASK_ROOT=/var/task \\',
      '    NODE_PATH=/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task \\',
      '    TZ=:UTC',
      'WORKDIR /var/task',
      'ENTRYPOINT ["node", "/var/runtime/bootstrap.mjs"]',
      'CMD ["index.handler"]',
      '',
    ].join('\n'));
  });
});
