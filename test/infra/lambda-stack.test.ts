import { Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaStack } from '../../infra/lambda-target-stack.js';
import { DeployModelError } from '../../src/errors.js';
import { lambdaStackName, lambdaStackPlan } from '../../src/targets/aws-lambda/index.js';
import { dummyZips, fastApp, lambdaConfig, MB, tempDir, type DummyZips } from './_fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let zips: DummyZips;
beforeAll(() => { tmp = tempDir(); zips = dummyZips(tmp.dir); });
afterAll(() => tmp.cleanup());

function build(target: Record<string, unknown> = {}, aliasVersion?: string) {
  const { config, target: t } = lambdaConfig(target);
  return buildLambdaStack(fastApp(), {
    config, targetName: 'lambda', target: t, stage: 'prod', aliasVersion,
    artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, modelBytes: 5 * MB },
  });
}

describe('buildLambdaStack', () => {
  it('names the stack <name>-<stage>-<target>, in the target region with an agnostic account', () => {
    // WHEN
    const stack = build();

    // THEN
    expect(stack.stackName).toBe('ocr-det-prod-lambda');
    expect(stack.region).toBe('eu-west-1');
    expect(Token.isUnresolved(stack.account)).toBe(true);
  });

  it('tags the stack and its resources with name, stage and target', () => {
    // WHEN
    const stack = build();

    // THEN (tags are applied by an aspect during synth)
    const template = Template.fromStack(stack);
    expect(stack.tags.tagValues()).toEqual({ 'deploy-model:name': 'ocr-det', 'deploy-model:stage': 'prod', 'deploy-model:target': 'lambda' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([
        { Key: 'deploy-model:name', Value: 'ocr-det' },
        { Key: 'deploy-model:stage', Value: 'prod' },
        { Key: 'deploy-model:target', Value: 'lambda' },
      ]),
    });
  });

  it('maps the target config onto the constructs', () => {
    // GIVEN a target with every knob set
    const stack = build({
      architecture: 'arm64', memoryMb: 2048, timeoutSeconds: 60, ephemeralStorageMb: 1024,
      reservedConcurrency: 5, provisionedConcurrency: 1, logRetentionDays: 14, url: { auth: 'none' },
    });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 2048, Timeout: 60,
      EphemeralStorage: { Size: 1024 }, ReservedConcurrentExecutions: 5,
      Environment: { Variables: { DM_MODEL_NAME: 'ocr-det' } },
    });
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
    template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 1 } });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('uses the schema defaults: memory from the model, IAM auth, no provisioned concurrency', () => {
    const template = Template.fromStack(build());
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024, Timeout: 30, Architectures: ['x86_64'] });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: Match.absent() });
  });

  it('has the stable outputs status reads', () => {
    const outputs = Template.fromStack(build()).findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(['AliasArn', 'FunctionName', 'FunctionUrl', 'LiveVersion', 'LogGroupName', 'NewVersion']);
  });

  it('builds the same stack from the plan the target resolved, which is what deploys use', () => {
    // GIVEN the stack values the planner resolves for the same entry
    const { config, target } = lambdaConfig({ architecture: 'arm64', memoryMb: 2048, provisionedConcurrency: 1, url: { auth: 'none' } });
    const plan = lambdaStackPlan({ config, stage: 'prod', targetName: 'lambda', target, modelBytes: 5 * MB });
    const artifacts = { functionZip: zips.functionZip, layerZip: zips.layerZip };

    // WHEN
    const fromPlan = Template.fromStack(buildLambdaStack(fastApp(), { plan, artifacts })).toJSON();
    const fromConfig = Template.fromStack(buildLambdaStack(fastApp(), { config, targetName: 'lambda', target, stage: 'prod', artifacts: { ...artifacts, modelBytes: 5 * MB } })).toJSON();

    // THEN the plan carries everything: no model size is needed, and the templates are the same
    expect(fromPlan).toEqual(fromConfig);
    expect(JSON.stringify(fromPlan)).toContain('"MemorySize":2048');
  });

  it('passes aliasVersion through for the two-phase deploy', () => {
    const template = Template.fromStack(build({}, '12'));
    template.hasResourceProperties('AWS::Lambda::Alias', { FunctionVersion: '12' });
    template.hasOutput('LiveVersion', { Value: '12' });
  });
});

describe('lambdaStackName', () => {
  it('accepts names built from valid config parts', () => {
    expect(lambdaStackName('ocr-det', 'dev', 'Lambda-eu')).toBe('ocr-det-dev-Lambda-eu');
  });

  it('rejects characters and lengths CloudFormation does not allow', () => {
    for (const [name, stage, target] of [['ocr', 'dev', 'my_target'], ['ocr', 'dev', 'a.b'], ['9ocr', 'dev', 'x'], ['a'.repeat(100), 'prod', 'b'.repeat(40)]]) {
      try {
        lambdaStackName(name, stage, target);
        expect.unreachable(`${name}-${stage}-${target} should be rejected`);
      } catch (e) {
        expect(e).toBeInstanceOf(DeployModelError);
        expect((e as DeployModelError).code).toBe('STACK_NAME_INVALID');
      }
    }
  });
});
