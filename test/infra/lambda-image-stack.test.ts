// The aws-lambda stack and OnnxModelFunction with package 'image': PackageType Image from the bootstrap ECR repository, cdk-nag and cfn-lint clean.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaStack } from '../../infra/lambda-target-stack.js';
import { OnnxModelFunction } from '../../infra/onnx-model-function.js';
import { DeployModelError } from '../../src/errors.js';
import { lambdaStackPlan } from '../../src/targets/aws-lambda/index.js';
import { synthChecked } from '../../src/targets/aws-lambda/synth.js';
import { cfnLintMissing, runCfnLint } from '../references/aws/run-cfn-lint.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { dummyZips, fastApp, fastStack, lambdaConfig, MB, tempDir, type DummyZips } from './_fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let zips: DummyZips;
beforeAll(() => { tmp = tempDir(); zips = dummyZips(tmp.dir); });
afterAll(() => tmp.cleanup());

const TAG = '0123456789abcdef0123';

function imagePlan(target: Record<string, unknown> = {}) {
  const { config, target: t } = lambdaConfig({ package: 'image', ...target });
  return lambdaStackPlan({ config, stage: 'prod', targetName: 'lambda', target: t, modelBytes: 5 * MB });
}

describe('the aws-lambda stack with package image', () => {
  it('ships the function as an image of the bootstrap ECR repository, with no layer, handler or runtime', () => {
    // GIVEN a plan with package 'image' and a build that recorded the image's tag
    const plan = imagePlan({ architecture: 'arm64' });
    // WHEN
    const stack = buildLambdaStack(fastApp(), { plan, artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, image: { tag: TAG } } });
    // THEN
    const template = Template.fromStack(stack);
    expect(stack.layer).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Architectures: ['arm64'],
      Code: { ImageUri: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::Sub': 'cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}' }, `:${TAG}`])] } },
      Handler: Match.absent(),
      Runtime: Match.absent(),
      Layers: Match.absent(),
      Environment: { Variables: Match.objectLike({ DM_MODEL_NAME: 'ocr-det' }) },
    });
    // The same version, live alias and Function URL as the zip.
    template.resourceCountIs('AWS::Lambda::Version', 1);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live' });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });

  it('names the repository the environment publishes when the deploy passes it', () => {
    const plan = imagePlan();
    const stack = buildLambdaStack(fastApp(), { plan, artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, image: { tag: TAG, repositoryName: 'my-assets' } } });
    const json = JSON.stringify(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(json).toContain(`/my-assets:${TAG}`);
  });

  it('refuses an image plan without a built image', () => {
    const plan = imagePlan();
    expect(() => buildLambdaStack(fastApp(), { plan, artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip } })).toThrow(/recorded no image/);
  });

  it('passes cdk-nag and cfn-lint', async (ctx) => {
    // GIVEN
    const plan = imagePlan();
    const outdir = mkdtempSync(path.join(os.tmpdir(), 'dm-image-stack-'));
    try {
      // WHEN synthesised as the deploy does (cdk-nag findings fail it)
      const synth = synthChecked({ plan, artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, image: { tag: TAG } }, aliasVersion: '2', rootDir: outdir });
      // THEN
      expect(synth.nagFindings).toEqual([]);
      const missing = cfnLintMissing();
      if (missing) ctx.skip(missing);
      const findings = await runCfnLint([synth.templateFile], ['eu-west-1']);
      expect(findings.filter((f) => f.level === 'Error')).toEqual([]);
      // No warning but what the zip stack also has: W3005, CDK's DependsOn on the role it also reads
      // with GetAtt (informational ones, such as I1022 on CDK's Fn::Join of the ImageUri, are style).
      expect(findings.filter((f) => f.level === 'Warning' && f.rule !== 'W3005')).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('OnnxModelFunction with image', () => {
  it('makes a PackageType Image function from an ECR repository and tag', () => {
    // GIVEN
    const stack = fastStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'models');
    // WHEN
    const fn = new OnnxModelFunction(stack, 'Model', { image: { repository, tagOrDigest: 'v1' }, modelName: 'det', modelBytes: 300 * MB });
    // THEN
    expect(fn.package).toBe('image');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { PackageType: 'Image', Handler: Match.absent(), Runtime: Match.absent(), Layers: Match.absent(), MemorySize: 1728 });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    // Lambda pulls through the repository's own policy (the bootstrap repository lets lambda.amazonaws.com
    // pull): the execution role gets no ECR permission.
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('takes no 250 MB zip limit for an image, but still refuses two sources or a layer', () => {
    const stack = fastStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'models');
    expect(() => new OnnxModelFunction(stack, 'Big', { image: { repository, tagOrDigest: 'v1' }, modelName: 'det', modelBytes: 2000 * MB, unzippedBytes: 2000 * MB })).not.toThrow();
    const two = (() => { try { new OnnxModelFunction(stack, 'Two', { image: { repository, tagOrDigest: 'v1' }, code: zips.functionZip, modelName: 'det', modelBytes: MB }); } catch (e) { return e; } })();
    expect(two).toBeInstanceOf(DeployModelError);
    expect(two).toMatchObject({ code: 'LAMBDA_CODE_SOURCE', message: expect.stringContaining('code and image are given') });
    const other = new Stack(fastApp(), 'Other', { env: { region: 'eu-west-1' } });
    const layered = (() => { try { new OnnxModelFunction(other, 'L', { image: { repository: ecr.Repository.fromRepositoryName(other, 'R', 'm'), tagOrDigest: 'v1' }, layer: { layerVersionArn: 'arn:aws:lambda:eu-west-1:1:layer:x:1' } as never, modelName: 'det', modelBytes: MB }); } catch (e) { return e; } })();
    expect(layered).toMatchObject({ code: 'LAMBDA_CODE_SOURCE', message: expect.stringContaining('no layers') });
  });

  it('builds the image context from a model at synth with package image, handed to CDK as an image asset', () => {
    // GIVEN the tiny add model
    const model = path.join(tmp.dir, 'adder.onnx');
    writeFileSync(model, tinyModelBytes('add'));
    const stack = fastStack();
    // WHEN
    const fn = new OnnxModelFunction(stack, 'Model', { model, package: 'image', imageBase: 'localhost/deploy-model-base:node22', architecture: lambda.Architecture.ARM_64 });
    // THEN a PackageType Image function from an image asset of the bootstrap repository, no layer
    expect(fn.package).toBe('image');
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image', Architectures: ['arm64'], Handler: Match.absent(), Runtime: Match.absent(), MemorySize: 1024,
      Code: { ImageUri: { 'Fn::Sub': Match.stringLikeRegexp('/cdk-hnb659fds-container-assets-\\$\\{AWS::AccountId\\}-eu-west-1:[0-9a-f]{64}$') } },
    });
    // AND the image asset's folder (staged in the cloud assembly) is the context: Dockerfile FROM
    // the base, the handler, the model, arm64 onnxruntime
    const assembly = (stack.node.root as App).synth();
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as { dockerImages: Record<string, { source: { directory: string; platform?: string } }> };
    const [image] = Object.values(manifest.dockerImages);
    expect(image!.source.platform).toBe('linux/arm64');
    const contextDir = path.join(assembly.directory, image!.source.directory);
    expect(readFileSync(path.join(contextDir, 'Dockerfile'), 'utf8')).toMatch(/^FROM localhost\/deploy-model-base:node22$/m);
    expect(existsSync(path.join(contextDir, 'task', 'index.mjs'))).toBe(true);
    expect(existsSync(path.join(contextDir, 'task', 'model', 'model.onnx'))).toBe(true);
    expect(existsSync(path.join(contextDir, 'opt', 'nodejs', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'arm64', 'onnxruntime_binding.node'))).toBe(true);
  }, 120_000);

  it('refuses package image with a zip given as code', () => {
    const stack = fastStack();
    const e = (() => { try { new OnnxModelFunction(stack, 'M', { code: zips.functionZip, package: 'image', modelName: 'det', modelBytes: MB }); } catch (err) { return err; } })();
    expect(e).toMatchObject({ code: 'LAMBDA_CODE_SOURCE', message: expect.stringContaining("package 'image' does not go with code") });
  });
});
