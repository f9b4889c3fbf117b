import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModelFunction, type OnnxModelFunctionProps } from '../../infra/onnx-model-function.js';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { LAMBDA_UNZIPPED_LIMIT_BYTES } from '../../src/kits/aws/lambda-limits.js';
import { DeployModelError } from '../../src/errors.js';
import { dummyZips, fastStack, MB, tempDir, type DummyZips } from './_fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let mapsTmp: ReturnType<typeof tempDir>;
let zips: DummyZips;
let zipsWithMaps: DummyZips;

beforeAll(() => {
  tmp = tempDir();
  mapsTmp = tempDir();
  zips = dummyZips(tmp.dir);
  zipsWithMaps = dummyZips(mapsTmp.dir, { sourceMap: true });
});
afterAll(() => { tmp.cleanup(); mapsTmp.cleanup(); });

function model(stack: Stack, props: Partial<OnnxModelFunctionProps> = {}): OnnxModelFunction {
  return new OnnxModelFunction(stack, 'Model', { code: zips.functionZip, modelBytes: 5 * MB, modelName: 'ocr-det', ...props });
}

function caught(fn: () => unknown): DeployModelError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DeployModelError);
    return e as DeployModelError;
  }
  throw new Error('expected a DeployModelError');
}

describe('OnnxModelFunction', () => {
  it('works in a plain CDK app with construct props only', () => {
    // GIVEN an app that knows nothing about deploy-model configs
    const app = new App();
    const stack = new Stack(app, 'PlainStack');

    // WHEN
    new OnnxModelFunction(stack, 'Model', { code: zips.functionZip, modelBytes: 5 * MB, modelName: 'plain' });

    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live' });
  });

  it('defaults: nodejs22.x, x86_64, index.handler, 30 s, 512 MiB /tmp, model name in the environment, no layer', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack);

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['x86_64'],
      Handler: 'index.handler',
      Timeout: 30,
      EphemeralStorage: { Size: 512 },
      Environment: { Variables: { DM_MODEL_NAME: 'ocr-det', NODE_OPTIONS: Match.absent() } },
      Layers: Match.absent(),
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it('derives memory from the model size', () => {
    // GIVEN a small model and a 300 MB one
    const small = fastStack();
    const large = fastStack();

    // WHEN
    model(small, { modelBytes: 5 * MB });
    const big = model(large, { modelBytes: 300 * MB });

    // THEN max(1024, 4 x MB + 512) rounded up to 64
    Template.fromStack(small).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024 });
    Template.fromStack(large).hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1728 });
    expect(big.memorySize).toBe(1728);
  });

  it('takes explicit memory, timeout, storage, architecture and environment', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack, {
      memorySize: 3008,
      timeout: Duration.seconds(120),
      ephemeralStorageSize: Size.gibibytes(2),
      architecture: lambda.Architecture.ARM_64,
      environment: { LOG_LEVEL: 'debug' },
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 3008,
      Timeout: 120,
      EphemeralStorage: { Size: 2048 },
      Architectures: ['arm64'],
      Environment: { Variables: { LOG_LEVEL: 'debug', DM_MODEL_NAME: 'ocr-det' } },
    });
  });

  it('rejects memory outside Lambda range', () => {
    const e = caught(() => model(fastStack(), { memorySize: 64 }));
    expect(e.code).toBe('LAMBDA_MEMORY_INVALID');
    expect(e.message).toMatch(/between 128 and 10240/);
  });

  it('needs the model size only to derive the memory', () => {
    // GIVEN no model size: with memory it synthesises, without it says what to pass
    Template.fromStack(((stack) => (model(stack, { modelBytes: undefined, memorySize: 2048 }), stack))(fastStack()))
      .hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048 });
    const e = caught(() => model(fastStack(), { modelBytes: undefined }));
    expect(e.code).toBe('LAMBDA_MEMORY_INVALID');
    expect(e.message).toMatch(/Pass modelBytes .* or memorySize/);
  });

  it('sets --enable-source-maps only when the zip ships source maps', () => {
    // GIVEN a zip with index.mjs.map
    const stack = fastStack();

    // WHEN
    model(stack, { code: zipsWithMaps.functionZip });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
  });

  it('attaches the onnxruntime layer', () => {
    // GIVEN
    const stack = fastStack();
    const layer = new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip });

    // WHEN
    model(stack, { layer });

    // THEN
    const template = Template.fromStack(stack);
    const [layerId] = Object.keys(template.findResources('AWS::Lambda::LayerVersion'));
    template.hasResourceProperties('AWS::Lambda::Function', { Layers: [{ Ref: layerId }] });
  });

  it('refuses a layer built for another architecture', () => {
    // GIVEN an arm64 layer
    const stack = fastStack();
    const layer = new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip, architecture: lambda.Architecture.ARM_64 });

    // WHEN / THEN an x86_64 function cannot load its binaries
    const e = caught(() => model(stack, { layer }));
    expect(e.code).toBe('LAMBDA_LAYER_ARCHITECTURE_MISMATCH');
    expect(e.message).toMatch(/arm64.*x86_64/);
  });

  it('publishes a retained version and points the live alias at it', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack);

    // THEN
    const template = Template.fromStack(stack);
    template.hasResource('AWS::Lambda::Version', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const [versionId] = Object.keys(template.findResources('AWS::Lambda::Version'));
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
      ProvisionedConcurrencyConfig: Match.absent(),
    });
  });

  it('keeps the alias on aliasVersion while still publishing the new version', () => {
    // GIVEN version 7 is live
    const stack = fastStack();

    // WHEN
    const fn = model(stack, { aliasVersion: '7' });
    fn.addStackOutputs();

    // THEN the alias stays, the new version exists and both numbers are outputs
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Version', 1);
    const [versionId] = Object.keys(template.findResources('AWS::Lambda::Version'));
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: '7' });
    template.hasOutput('LiveVersion', { Value: '7' });
    template.hasOutput('NewVersion', { Value: { 'Fn::GetAtt': [versionId, 'Version'] } });
  });

  it('rejects an aliasVersion that is not a version number', () => {
    const e = caught(() => model(fastStack(), { aliasVersion: '$LATEST' }));
    expect(e.code).toBe('LAMBDA_ALIAS_VERSION_INVALID');
  });

  it('puts a Function URL with AWS_IAM auth on the alias by default, without warnings', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack);

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', Qualifier: 'live' });
    template.resourceCountIs('AWS::Lambda::Permission', 0);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  it("makes the URL public with urlAuth 'none' and warns about it", () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack, { urlAuth: 'none' });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', Qualifier: 'live' });
    Annotations.fromStack(stack).hasWarning('/TestStack/Model', Match.stringLikeRegexp("auth 'none': anyone on the internet can invoke"));
  });

  it('sets provisioned concurrency on the alias and reserved concurrency on the function', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack, { provisionedConcurrentExecutions: 2, reservedConcurrentExecutions: 10 });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 10 });
  });

  it('treats provisioned concurrency 0 as none', () => {
    const stack = fastStack();
    model(stack, { provisionedConcurrentExecutions: 0 });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: Match.absent() });
  });

  it('rejects provisioned concurrency above the reserved concurrency', () => {
    const e = caught(() => model(fastStack(), { provisionedConcurrentExecutions: 5, reservedConcurrentExecutions: 2 }));
    expect(e.code).toBe('LAMBDA_CONCURRENCY_INVALID');
  });

  it('logs to its own log group, kept one month by default', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack);

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    template.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: logGroupId } } });
    // No deprecated log-retention custom resource.
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  it('takes an explicit log retention and rejects one CloudWatch does not offer', () => {
    const stack = fastStack();
    model(stack, { logRetention: logs.RetentionDays.ONE_WEEK });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });

    const e = caught(() => model(fastStack(), { logRetention: 10 as logs.RetentionDays }));
    expect(e.code).toBe('LAMBDA_LOG_RETENTION_INVALID');
  });

  it('gives the execution role only log writes to its own log group', () => {
    // GIVEN
    const stack = fastStack();

    // WHEN
    model(stack);

    // THEN no managed policy, no separate policy resource, one statement scoped to the log group
    const template = Template.fromStack(stack);
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
      ManagedPolicyArns: Match.absent(),
      Policies: [{
        PolicyName: 'Logs',
        PolicyDocument: {
          Statement: [{
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          }],
        },
      }],
    });
  });

  it('writes stack outputs with stable names', () => {
    // GIVEN
    const stack = fastStack();
    const fn = model(stack);

    // WHEN
    fn.addStackOutputs();

    // THEN
    const template = Template.fromStack(stack);
    const id = (type: string) => Object.keys(template.findResources(type))[0];
    template.hasOutput('FunctionName', { Value: { Ref: id('AWS::Lambda::Function') } });
    template.hasOutput('AliasArn', { Value: { Ref: id('AWS::Lambda::Alias') } });
    template.hasOutput('FunctionUrl', { Value: { 'Fn::GetAtt': [id('AWS::Lambda::Url'), 'FunctionUrl'] } });
    template.hasOutput('NewVersion', { Value: { 'Fn::GetAtt': [id('AWS::Lambda::Version'), 'Version'] } });
    template.hasOutput('LiveVersion', { Value: { 'Fn::GetAtt': [id('AWS::Lambda::Version'), 'Version'] } });
    template.hasOutput('LogGroupName', { Value: { Ref: id('AWS::Logs::LogGroup') } });
  });

  it('prefixes outputs so two models fit in one stack', () => {
    const stack = fastStack();
    new OnnxModelFunction(stack, 'A', { code: zips.functionZip, modelBytes: MB, modelName: 'a' }).addStackOutputs('A');
    new OnnxModelFunction(stack, 'B', { code: zips.functionZip, modelBytes: MB, modelName: 'b' }).addStackOutputs('B');
    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['AFunctionName', 'BFunctionName', 'AFunctionUrl', 'BFunctionUrl']));
  });

  describe('package size', () => {
    it('rejects function + layer over 250 MB unzipped, naming both sizes, the limit and the way out', () => {
      // GIVEN a 200 MB function and a 60 MB layer
      const stack = fastStack();
      const layer = new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip, unzippedBytes: 60 * MB });

      // WHEN / THEN
      const e = caught(() => model(stack, { layer, unzippedBytes: 200 * MB }));
      expect(e.code).toBe('LAMBDA_PACKAGE_TOO_LARGE');
      expect(e.message).toContain('200.0 MB');
      expect(e.message).toContain('60.0 MB');
      expect(e.message).toContain('250.0 MB');
      expect(e.message).toMatch(/'container' target/);
      expect(e.message).toMatch(/container-image Lambda/);
      expect(e.details).toMatchObject({ functionBytes: 200 * MB, layerBytes: 60 * MB, limitBytes: LAMBDA_UNZIPPED_LIMIT_BYTES });
    });

    it('counts a foreign layer through layerUnzippedBytes', () => {
      const stack = fastStack();
      const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'Ext', 'arn:aws:lambda:eu-west-1:123456789012:layer:ort:3');
      const e = caught(() => model(stack, { layer, layerUnzippedBytes: 100 * MB, unzippedBytes: 151 * MB }));
      expect(e.code).toBe('LAMBDA_PACKAGE_TOO_LARGE');
    });

    it('accepts a package exactly at the limit', () => {
      const stack = fastStack();
      const layer = new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip, unzippedBytes: 50 * MB });
      expect(() => model(stack, { layer, unzippedBytes: LAMBDA_UNZIPPED_LIMIT_BYTES - 50 * MB })).not.toThrow();
    });
  });
});
