import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModelFunction } from '../../infra/onnx-model-function.js';
import { OnnxRuntimeLayer } from '../../infra/onnx-runtime-layer.js';
import { IoHelper, RecordingIoHost } from '../../src/io/io-host.js';
import { readValidationReport, synthLambdaTarget } from '../../src/targets/aws-lambda/synth.js';
import { dummyZips, lambdaConfig, MB, tempDir, type DummyZips } from './_fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let zips: DummyZips;
beforeAll(() => { tmp = tempDir(); zips = dummyZips(tmp.dir); });
afterAll(() => tmp.cleanup());

/** Synthesises a stack built by `body` with AwsSolutionsChecks and returns the unacknowledged findings. */
function nagFindingsOf(body: (stack: Stack) => void) {
  const outdir = path.join(tmp.dir, `nag-${Math.random().toString(36).slice(2)}`);
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: { '@aws-cdk/core:failSynthOnValidationErrors': false } });
  const stack = new Stack(app, 'NagStack', { env: { region: 'eu-west-1' } });
  body(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  expect(existsSync(path.join(outdir, 'validation-report.json'))).toBe(true);
  return readValidationReport(outdir);
}

function modelIn(stack: Stack, props: Partial<ConstructorParameters<typeof OnnxModelFunction>[2]> = {}): OnnxModelFunction {
  const layer = props.runtime ? undefined : new OnnxRuntimeLayer(stack, 'Ort', { code: zips.layerZip });
  return new OnnxModelFunction(stack, 'Model', { code: zips.functionZip, modelBytes: MB, modelName: 'm', layer, ...props });
}

describe('synthLambdaTarget', () => {
  it('writes the cloud assembly to cdk.out/<stack> and passes AwsSolutionsChecks with zero findings', () => {
    // GIVEN
    const { config, target } = lambdaConfig();
    const host = new RecordingIoHost();

    // WHEN
    const result = synthLambdaTarget({
      config, targetName: 'lambda', target, stage: 'dev', rootDir: tmp.dir, io: new IoHelper(host),
      artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, modelBytes: 5 * MB },
    });

    // THEN
    expect(result.stackName).toBe('ocr-det-dev-lambda');
    expect(result.assemblyDir).toBe(path.join(tmp.dir, 'cdk.out', 'ocr-det-dev-lambda'));
    expect(result.templateFile).toBe(path.join(result.assemblyDir, 'ocr-det-dev-lambda.template.json'));
    const template = JSON.parse(readFileSync(result.templateFile, 'utf8')) as { Resources: Record<string, { Type: string }> };
    expect(Object.values(template.Resources).map((r) => r.Type)).toContain('AWS::Lambda::Url');
    // The plugin ran (it writes the report) and found nothing unacknowledged.
    expect(existsSync(path.join(result.assemblyDir, 'validation-report.json'))).toBe(true);
    expect(result.nagFindings).toEqual([]);
    expect(host.codes()).toEqual(['DM_SYNTH_DONE']);
  });

  it('passes AwsSolutionsChecks with public URL, provisioned concurrency and a pinned alias too', () => {
    const { config, target } = lambdaConfig({ url: { auth: 'none' }, provisionedConcurrency: 2, reservedConcurrency: 4 });
    const result = synthLambdaTarget({
      config, targetName: 'lambda', target, stage: 'dev', rootDir: tmp.dir, aliasVersion: '3',
      artifacts: { functionZip: zips.functionZip, layerZip: zips.layerZip, modelBytes: 5 * MB },
    });
    expect(result.nagFindings).toEqual([]);
  });
});

describe('cdk-nag on OnnxModelFunction', () => {
  it('finds nothing on the construct as shipped', () => {
    expect(nagFindingsOf((stack) => modelIn(stack))).toEqual([]);
  });

  it('reports AwsSolutions-L1 once the acknowledged runtime is swapped for an old one', () => {
    // GIVEN the construct acknowledges L1 only for nodejs22.x; nodejs20.x is not acknowledged
    const findings = nagFindingsOf((stack) => modelIn(stack, { runtime: lambda.Runtime.NODEJS_20_X }));

    // THEN the rule really runs
    expect(findings).toEqual([expect.objectContaining({ ruleId: 'AwsSolutions-L1', constructPath: 'NagStack/Model/Function/Resource', plugin: 'AwsSolutions' })]);
  });

  it('reports AwsSolutions-IAM5 when a wildcard is added to the execution role', () => {
    // GIVEN someone widens the role
    const findings = nagFindingsOf((stack) => {
      const fn = modelIn(stack);
      fn.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    });

    // THEN
    expect(findings.map((f) => f.ruleId)).toContain('AwsSolutions-IAM5[Resource::*]');
  });

  it('reports AwsSolutions-IAM4 for the managed policy a default Lambda role would carry', () => {
    const findings = nagFindingsOf((stack) => {
      new lambda.Function(stack, 'Plain', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromAsset(zips.functionZip) });
    });
    expect(findings.map((f) => f.ruleId)).toEqual([expect.stringMatching(/^AwsSolutions-IAM4\[Policy::.*AWSLambdaBasicExecutionRole\]$/)]);
  });
});
