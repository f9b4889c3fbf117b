import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TritonSageMakerEndpoint, type TritonSageMakerEndpointProps } from '../../infra/triton-sagemaker-endpoint.js';
import { readValidationReport } from '../../src/targets/aws-lambda/synth.js';
import { fastApp, tempDir } from './_fixtures.js';

let tmp: ReturnType<typeof tempDir>;
let archive: string;
beforeAll(() => {
  tmp = tempDir();
  archive = path.join(tmp.dir, 'model.tar.gz');
  writeFileSync(archive, 'a model archive');
});
afterAll(() => tmp.cleanup());

function endpointIn(stack: Stack, props: Partial<TritonSageMakerEndpointProps> = {}): TritonSageMakerEndpoint {
  return new TritonSageMakerEndpoint(stack, 'Ocr', { modelArchive: archive, modelName: 'ocr', instanceType: 'ml.g5.xlarge', endpointName: 'ocr-prod', ...props });
}

function synth(props: Partial<TritonSageMakerEndpointProps> = {}, region: string | null = 'eu-west-1') {
  const stack = new Stack(fastApp(), 'Serving', region ? { env: { region } } : {});
  const endpoint = endpointIn(stack, props);
  return { stack, endpoint, template: Template.fromStack(stack) };
}

/** The one policy document of the execution role. */
function rolePolicy(template: Template): Array<{ Sid: string; Action: string | string[]; Resource: unknown; Condition?: unknown }> {
  const roles = Object.values(template.findResources('AWS::IAM::Role')) as Array<{ Properties: { Policies: Array<{ PolicyDocument: { Statement: never[] } }> } }>;
  expect(roles).toHaveLength(1);
  return roles[0]!.Properties.Policies[0]!.PolicyDocument.Statement;
}

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

describe('TritonSageMakerEndpoint', () => {
  it("serves the archive with SageMaker's Triton image for the region, the model named by SAGEMAKER_TRITON_DEFAULT_MODEL_NAME", () => {
    // WHEN
    const { template } = synth();

    // THEN
    template.hasResourceProperties('AWS::SageMaker::Model', {
      EnableNetworkIsolation: true,
      PrimaryContainer: {
        Image: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-tritonserver:25.09-py3',
        Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'ocr' },
        // The key keeps the .tar.gz suffix SageMaker documents for model data.
        ModelDataUrl: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-hnb659fds-assets-\\$\\{AWS::AccountId\\}-eu-west-1/[0-9a-f]{64}\\.tar\\.gz$') },
      },
      VpcConfig: Match.absent(),
    });
  });

  it('puts the TensorRT-friendly defaults on the production variant', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [{
        VariantName: 'AllTraffic',
        ModelName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OcrModel'), 'ModelName'] },
        InstanceType: 'ml.g5.xlarge',
        InitialInstanceCount: 1,
        InitialVariantWeight: 1,
        ContainerStartupHealthCheckTimeoutInSeconds: 1200,
        ModelDataDownloadTimeoutInSeconds: 900,
        InferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-3-1',
        VolumeSizeInGB: Match.absent(),
      }],
    });
  });

  it('keeps replaced Models and EndpointConfigs for rollback, and deletes them with the stack', () => {
    const { template } = synth();
    for (const type of ['AWS::SageMaker::Model', 'AWS::SageMaker::EndpointConfig']) {
      template.hasResource(type, { UpdateReplacePolicy: 'Retain', DeletionPolicy: 'Delete' });
    }
  });

  it('updates blue/green, rolling back on the 5XX alarm while the old fleet bakes', () => {
    // WHEN
    const { template } = synth({ bakingPeriod: Duration.minutes(10) });

    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors', Statistic: 'Sum', Period: 60, Threshold: 1,
      Dimensions: [{ Name: 'EndpointName', Value: 'ocr-prod' }, { Name: 'VariantName', Value: 'AllTraffic' }],
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      EndpointName: 'ocr-prod',
      EndpointConfigName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OcrEndpointConfig'), 'EndpointConfigName'] },
      DeploymentConfig: {
        BlueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
          TerminationWaitInSeconds: 600,
          MaximumExecutionTimeoutInSeconds: 900 + 1200 + 600 + 600,
        },
        AutoRollbackConfiguration: { Alarms: [{ AlarmName: { Ref: Match.stringLikeRegexp('^OcrInvocation5xxAlarm') } }] },
      },
    });
  });

  it('creates the log group SageMaker writes to, with a retention, before the endpoint', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/sagemaker/Endpoints/ocr-prod', RetentionInDays: 30 });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    template.hasResource('AWS::SageMaker::Endpoint', { DependsOn: [Match.stringLikeRegexp('^OcrLogGroup')] });
  });

  it('gives the execution role the archive, the image repository and the log group only', () => {
    // WHEN
    const { template } = synth();

    // THEN
    const statements = rolePolicy(template);
    expect(statements.map((s) => s.Sid)).toEqual(['ReadModelArchive', 'PullImage', 'EcrLogin', 'WriteLogs', 'WriteMetrics']);
    const read = statements[0]!;
    expect(read.Action).toBe('s3:GetObject');
    expect(JSON.stringify(read.Resource)).toMatch(/cdk-hnb659fds-assets-\$\{AWS::AccountId\}-eu-west-1.*"\/[0-9a-f]{64}\.tar\.gz"/);
    expect(JSON.stringify(statements[1]!.Resource)).toContain(':ecr:eu-west-1:763104351884:repository/sagemaker-tritonserver');
    expect(statements[3]!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^OcrLogGroup/), 'Arn'] });
    expect(statements[4]!.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints' } });
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'sagemaker.amazonaws.com' } }] }, ManagedPolicyArns: Match.absent() });
  });

  it('runs in a VPC with the network-interface permissions SageMaker needs', () => {
    // WHEN
    const { template } = synth({ vpc: { subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-01'] } });

    // THEN
    template.hasResourceProperties('AWS::SageMaker::Model', { VpcConfig: { Subnets: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: ['sg-01'] } });
    expect(rolePolicy(template).map((s) => s.Sid)).toContain('VpcNetworkInterfaces');
  });

  it('scales on invocations per instance through the service-linked role', () => {
    // WHEN
    const { template } = synth({ instanceCount: 2, autoscaling: { minCapacity: 1, maxCapacity: 4, targetInvocationsPerInstance: 600 } });

    // THEN
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker', ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      ResourceId: 'endpoint/ocr-prod/variant/AllTraffic', MinCapacity: 1, MaxCapacity: 4, RoleARN: Match.absent(),
    });
    template.hasResource('AWS::ApplicationAutoScaling::ScalableTarget', { DependsOn: [Match.stringLikeRegexp('^OcrEndpoint')] });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 600, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' }, ScaleInCooldown: 300, ScaleOutCooldown: 300,
      },
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { ProductionVariants: [Match.objectLike({ InitialInstanceCount: 2 })] });
  });

  it('has no autoscaling unless asked', () => {
    synth().template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  it('picks the image with a mapping in a region-agnostic stack', () => {
    // WHEN
    const { template } = synth({}, null);

    // THEN
    const image = JSON.stringify(template.findResources('AWS::SageMaker::Model'));
    expect(image).toContain('Fn::FindInMap');
    const mappings = Object.values(template.toJSON().Mappings ?? {}) as Array<Record<string, { account: string }>>;
    expect(mappings[0]!['eu-south-2']).toEqual({ account: '503227376785' });
  });

  it('uses an image override and lets the role pull only from its repository', () => {
    // WHEN
    const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/tritonserver:25.06-py3';
    const { template } = synth({ image, tritonVersion: '99.99' });

    // THEN
    template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: Match.objectLike({ Image: image }) });
    expect(JSON.stringify(rolePolicy(template)[1]!.Resource)).toContain(':ecr:eu-west-1:123456789012:repository/team/tritonserver');
  });

  it('derives a valid endpoint name from the construct path when none is given', () => {
    const stack = new Stack(fastApp(), 'A-very-long-stack-name-for-a-model-that-serves-ocr-in-production', { env: { region: 'us-east-1' } });
    const endpoint = new TritonSageMakerEndpoint(stack, 'Endpoint', { modelArchive: archive, modelName: 'ocr', instanceType: 'ml.g6.xlarge' });
    expect(endpoint.endpointName).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,53}$/);
  });

  it.each([
    [{ instanceType: 'ml.m5.xlarge' }, 'SAGEMAKER_INSTANCE_TYPE', /'ml.m5.xlarge' has no NVIDIA GPU/],
    [{ instanceType: 'ml.p3.2xlarge' }, 'SAGEMAKER_INSTANCE_TYPE', /compute capability 7/],
    [{ volumeSizeGb: 100 }, 'SAGEMAKER_VOLUME_SIZE', /NVMe instance storage/],
    [{ tritonVersion: '22.01' }, 'SAGEMAKER_TRITON_IMAGE_UNKNOWN', /no Triton image for tritonVersion '22.01'/],
    [{ endpointName: 'bad_name' }, 'SAGEMAKER_ENDPOINT_NAME', /not a SageMaker endpoint name/],
    [{ startupHealthCheckTimeout: Duration.hours(2) }, 'SAGEMAKER_TIMEOUT', /7200 s is outside/],
    [{ autoscaling: { minCapacity: 3, maxCapacity: 2 } }, 'SAGEMAKER_AUTOSCALING_RANGE', /minCapacity <= instanceCount <= maxCapacity/],
    [{ image: 'nvcr.io/nvidia/tritonserver:25.06-py3' }, 'SAGEMAKER_IMAGE_INVALID', /not an ECR image/],
  ] as const)('refuses %j with %s', (props, code, message) => {
    expect(() => synth(props as Partial<TritonSageMakerEndpointProps>)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  it('accepts a volume size on an EBS-backed family with an older Triton', () => {
    const { template } = synth({ instanceType: 'ml.p3.2xlarge', tritonVersion: '24.09', volumeSizeGb: 100 });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { ProductionVariants: [Match.objectLike({ VolumeSizeInGB: 100 })] });
  });

  it("passes aws-cdk-lib's CloudFormation validation", () => {
    // GIVEN every optional resource
    const app = new App({ outdir: path.join(tmp.dir, 'cfn-validation'), builtinCloudFormationValidation: true, context: { '@aws-cdk/core:failSynthOnValidationErrors': true } });
    const stack = new Stack(app, 'Validated', { env: { region: 'eu-west-1' } });
    endpointIn(stack, { autoscaling: { maxCapacity: 3 }, vpc: { subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] } });
    // WHEN / THEN
    expect(() => app.synth()).not.toThrow();
  }, 120_000);
});

describe('cdk-nag on TritonSageMakerEndpoint', () => {
  it('finds nothing on the construct as shipped, with and without a VPC and autoscaling', () => {
    expect(nagFindingsOf((stack) => endpointIn(stack))).toEqual([]);
    expect(nagFindingsOf((stack) => endpointIn(stack, { autoscaling: { maxCapacity: 2 }, vpc: { subnetIds: ['subnet-0a'], securityGroupIds: ['sg-01'] } }))).toEqual([]);
  });

  it('acknowledges only the Resource::* finding: a wildcard action added to the role is reported', () => {
    // GIVEN someone widens the role's actions
    const findings = nagFindingsOf((stack) => {
      const endpoint = endpointIn(stack);
      endpoint.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['arn:aws:s3:::some-bucket/*'] }));
    });

    // THEN the rule really runs
    expect(findings.map((f) => f.ruleId)).toEqual(expect.arrayContaining(['AwsSolutions-IAM5[Action::s3:*]']));
  });
});

describe('TritonSageMakerEndpoint with an uncompressed repository in S3 (modelRepository)', () => {
  const REPOSITORY = { bucketName: 'models-eu', prefix: 'triton/ocr-v3/' };
  const inS3 = (stack: Stack, props: Partial<TritonSageMakerEndpointProps> = {}) =>
    new TritonSageMakerEndpoint(stack, 'Ocr', { modelRepository: REPOSITORY, modelName: 'ocr', instanceType: 'ml.g5.xlarge', endpointName: 'ocr-prod', ...props });

  it('names the prefix as an S3Prefix ModelDataSource with CompressionType None, and no ModelDataUrl or asset', () => {
    // GIVEN
    const stack = new Stack(fastApp(), 'Serving', { env: { region: 'eu-west-1' } });
    // WHEN
    const endpoint = inS3(stack);
    const template = Template.fromStack(stack);
    // THEN
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        ModelDataSource: { S3DataSource: { S3Uri: 's3://models-eu/triton/ocr-v3/', S3DataType: 'S3Prefix', CompressionType: 'None' } },
        ModelDataUrl: Match.absent(),
        Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'ocr' },
      },
    });
    expect(endpoint.node.tryFindChild('ModelArchive')).toBeUndefined();
    expect(endpoint.modelData.s3ObjectUrl).toBe('s3://models-eu/triton/ocr-v3/');
  });

  it('lets the execution role read and list that prefix only', () => {
    const stack = new Stack(fastApp(), 'Serving', { env: { region: 'eu-west-1' } });
    inS3(stack);
    const statements = rolePolicy(Template.fromStack(stack));
    const read = statements.find((s) => s.Sid === 'ReadModelRepository')!;
    const list = statements.find((s) => s.Sid === 'ListModelRepository')!;
    expect(read.Action).toBe('s3:GetObject');
    expect(JSON.stringify(read.Resource)).toContain(':s3:::models-eu/triton/ocr-v3/*');
    expect(list).toMatchObject({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['triton/ocr-v3/*'] } } });
    expect(JSON.stringify(list.Resource)).toContain(':s3:::models-eu"');
    expect(statements.find((s) => s.Sid === 'ReadModelArchive')).toBeUndefined();
  });

  it('refuses a prefix that does not end with /, and more than one model source', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => inS3(new Stack(fastApp(), 'A'), { modelRepository: { bucketName: 'models-eu', prefix: 'triton/ocr-v3' } }))).toBe('SAGEMAKER_MODEL_SOURCE');
    expect(code(() => inS3(new Stack(fastApp(), 'B'), { modelArchive: archive }))).toBe('SAGEMAKER_MODEL_SOURCE');
  });

  it('is cdk-nag clean: the one prefix wildcard is acknowledged, and nothing else', () => {
    expect(nagFindingsOf((stack) => inS3(stack))).toEqual([]);
    // A bucket named by tokens (the bootstrap bucket of the stack's account) too
    expect(nagFindingsOf((stack) => inS3(stack, { modelRepository: { bucketName: `cdk-hnb659fds-assets-${stack.account}-${stack.region}`, prefix: 'deploy-model/triton/abc/' } }))).toEqual([]);
    const widened = nagFindingsOf((stack) => {
      inS3(stack).role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::models-eu/*'] }));
    });
    expect(widened.map((f) => f.ruleId)).toEqual(['AwsSolutions-IAM5[Resource::arn:aws:s3:::models-eu/*]']);
  });
});
