// The aws-lambda stack and OnnxModelFunction with package 'image': PackageType Image from the bootstrap ECR repository, cdk-nag and cfn-lint clean.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaStack } from '../../infra/lambda-target-stack.js';
import { OnnxModelFunction } from '../../infra/onnx-model-function.js';
import { DeployModelError } from '../../src/errors.js';
import { lambdaStackPlan } from '../../src/targets/aws-lambda/index.js';
import { synthChecked } from '../../src/targets/aws-lambda/synth.js';
import { cfnLintMissing, runCfnLint } from '../references/aws/run-cfn-lint.js';
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
});
