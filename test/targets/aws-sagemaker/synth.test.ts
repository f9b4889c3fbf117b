import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { IoHelper, RecordingIoHost } from '../../../src/io/io-host.js';
import { sageMakerNames } from '../../../src/kits/sagemaker/names.js';
import type { AwsSageMakerTargetConfig } from '../../../src/targets/aws-sagemaker/schema.js';
import { synthSageMakerTarget } from '../../../src/targets/aws-sagemaker/synth.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dm-sagemaker-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(target: Record<string, unknown> = {}): { config: Config; target: AwsSageMakerTargetConfig } {
  const config = configSchema.parse({
    name: 'ocr-det',
    model: { path: './model.onnx' },
    targets: { sagemaker: { type: 'aws-sagemaker', region: 'eu-west-1', instanceType: 'ml.g5.xlarge', ...target } },
  });
  return { config, target: config.targets.sagemaker as AwsSageMakerTargetConfig };
}

function archive(content: string): string {
  const file = path.join(dir, 'model.tar.gz');
  writeFileSync(file, content);
  return file;
}

type Template = { Resources: Record<string, { Type: string; Properties: any }>; Outputs: Record<string, unknown> };

function synth(target: Record<string, unknown> = {}, content = 'archive v1') {
  const { config, target: t } = project(target);
  const host = new RecordingIoHost();
  const result = synthSageMakerTarget({
    config, targetName: 'sagemaker', target: t, stage: 'prod', rootDir: dir, io: new IoHelper(host),
    artifacts: { modelArchive: archive(content), tritonModel: 'ocr-det' },
  });
  const template = JSON.parse(readFileSync(result.templateFile, 'utf8')) as Template;
  const of = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).map((r) => r.Properties);
  return { result, template, of, host };
}

describe('synthSageMakerTarget', () => {
  it('writes cdk.out/<stack> with the endpoint named after the config, and passes AwsSolutionsChecks', () => {
    // WHEN
    const { result, template, host } = synth();

    // THEN
    expect(result).toMatchObject({ stackName: 'ocr-det-prod-sagemaker', endpointName: 'ocr-det-prod-sagemaker', nagFindings: [] });
    expect(result.assemblyDir).toBe(path.join(dir, 'cdk.out', 'ocr-det-prod-sagemaker'));
    expect(existsSync(path.join(result.assemblyDir, 'validation-report.json'))).toBe(true);
    expect(Object.keys(template.Outputs).sort()).toEqual(['EndpointConfigName', 'EndpointName', 'LogGroupName', 'ModelDataUrl', 'ModelName']);
    expect(host.codes()).toEqual(['DM_SYNTH_DONE']);
  });

  it('maps every target option onto the stack', () => {
    // GIVEN a target with every knob set
    const { of } = synth({
      instanceCount: 2, autoscaling: { min: 2, max: 6, targetInvocationsPerInstance: 300 }, startupHealthCheckTimeoutSeconds: 1800,
      modelDownloadTimeoutSeconds: 600, inferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-2-1', bakeSeconds: 60, logRetentionDays: 14,
      vpc: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] }, tritonVersion: '24.09',
    });

    // THEN
    expect(of('AWS::SageMaker::EndpointConfig')[0].ProductionVariants[0]).toMatchObject({
      InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 2, ContainerStartupHealthCheckTimeoutInSeconds: 1800,
      ModelDataDownloadTimeoutInSeconds: 600, InferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-2-1',
    });
    expect(of('AWS::SageMaker::Model')[0]).toMatchObject({
      PrimaryContainer: { Image: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:24.09-py3', Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'ocr-det' } },
      VpcConfig: { Subnets: ['subnet-0123456789abcdef0'], SecurityGroupIds: ['sg-0123456789abcdef0'] },
    });
    expect(of('AWS::SageMaker::Endpoint')[0].DeploymentConfig.BlueGreenUpdatePolicy.TerminationWaitInSeconds).toBe(60);
    expect(of('AWS::ApplicationAutoScaling::ScalableTarget')[0]).toMatchObject({ MinCapacity: 2, MaxCapacity: 6, ResourceId: 'endpoint/ocr-det-prod-sagemaker/variant/AllTraffic' });
    expect(of('AWS::ApplicationAutoScaling::ScalingPolicy')[0].TargetTrackingScalingPolicyConfiguration.TargetValue).toBe(300);
    expect(of('AWS::Logs::LogGroup')[0]).toMatchObject({ RetentionInDays: 14, LogGroupName: '/aws/sagemaker/Endpoints/ocr-det-prod-sagemaker' });
  });

  it("gives an onnxruntime engine a shorter startup check, and an image override the role's ECR access", () => {
    const { of } = synth({ engine: 'onnxruntime', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/triton@sha256:' + 'a'.repeat(64) });
    expect(of('AWS::SageMaker::EndpointConfig')[0].ProductionVariants[0].ContainerStartupHealthCheckTimeoutInSeconds).toBe(600);
    expect(of('AWS::SageMaker::Model')[0].PrimaryContainer.Image).toContain('111122223333.dkr.ecr.eu-west-1.amazonaws.com/triton@sha256:');
  });

  it('changes the model data key when the archive changes at the same path, in the same process', () => {
    // GIVEN two builds of different models written to the same model.tar.gz
    const first = synth({}, 'archive v1').of('AWS::SageMaker::Model')[0].PrimaryContainer.ModelDataUrl;
    const second = synth({}, 'archive v2').of('AWS::SageMaker::Model')[0].PrimaryContainer.ModelDataUrl;
    const same = synth({}, 'archive v2').of('AWS::SageMaker::Model')[0].PrimaryContainer.ModelDataUrl;

    // THEN a new archive is a new object (so CloudFormation replaces the Model), the same one is not
    expect(second).not.toEqual(first);
    expect(same).toEqual(second);
  });

  it('shortens endpoint names that SageMaker and CloudWatch could not take, keeping them unique', () => {
    const long = sageMakerNames('a-model-with-a-really-long-name-for-ocr', 'production-eu', 'sagemaker-gpu-fleet');
    expect(long.stackName).toBe('a-model-with-a-really-long-name-for-ocr-production-eu-sagemaker-gpu-fleet');
    expect(long.endpointName.length).toBeLessThanOrEqual(54);
    expect(long.endpointName).toMatch(/^a-model-with-a-really-long-name-for-ocr-produ.*-[0-9a-f]{8}$/);
    expect(sageMakerNames('a-model-with-a-really-long-name-for-ocr', 'production-eu', 'sagemaker-gpu-fleet2').endpointName).not.toBe(long.endpointName);
    expect(long.logGroupName).toBe(`/aws/sagemaker/Endpoints/${long.endpointName}`);
  });
});
