/** The TritonSageMakerEndpoint construct: an ONNX model served by NVIDIA Triton on a SageMaker real-time endpoint. */
import {
  Aws, CfnDeletionPolicy, CfnMapping, CfnOutput, Duration, Names, RemovalPolicy, Stack, Token, Validations, type CfnResource, type FileAssetLocation,
} from 'aws-cdk-lib';
import * as applicationautoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { DeployModelError } from '../src/errors.js';
import { executionPolicyStatements, wildcardReason } from '../src/kits/sagemaker/execution-policy.js';
import { endpointPropsProblem } from '../src/kits/sagemaker/endpoint-props-problem.js';
import { endpointLogGroup, ENDPOINT_NAME_MAX, sageMakerEndpointName } from '../src/kits/sagemaker/names.js';
import {
  DEFAULT_BAKE_SECONDS, DEFAULT_INFERENCE_AMI_VERSION, DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS, DEFAULT_STARTUP_TIMEOUT_SECONDS,
  DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE,
} from '../src/kits/sagemaker/defaults.js';
import {
  DEFAULT_SAGEMAKER_TRITON_VERSION, parseEcrImage, SAGEMAKER_TRITON_IMAGES, SAGEMAKER_TRITON_REPOSITORY, sageMakerTritonImage,
} from '../src/kits/sagemaker/triton-images.js';
import { stageModelArchive } from './_model-archive.js';
import { modelNameFromFile, resolveModelFile } from './_model-file.js';
import { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS, type TritonSageMakerEndpointOutputKey } from './outputs.js';
import type { TritonSageMakerAutoscaling, TritonSageMakerEndpointProps } from './triton-sagemaker-endpoint-props.js';

/** The one production variant: SageMaker's conventional name, also used by the alarms and autoscaling. */
export const VARIANT_NAME = 'AllTraffic';

/** Environment variable of SageMaker's Triton image naming the model folder to load. */
export const TRITON_MODEL_NAME_ENV = 'SAGEMAKER_TRITON_DEFAULT_MODEL_NAME';

export { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS, type TritonSageMakerEndpointOutputKey } from './outputs.js';

export type { TritonSageMakerAutoscaling, TritonSageMakerEndpointProps } from './triton-sagemaker-endpoint-props.js';

/**
 * An ONNX model served by NVIDIA Triton on a SageMaker real-time endpoint: the model archive as an
 * S3 asset, an execution role that may read only that archive and write the endpoint's logs, the
 * Model, the EndpointConfig and the Endpoint, with blue/green updates that roll back when the 5XX
 * alarm fires, and optional autoscaling. Needs no deploy-model config and no prior build: with
 * `model`, the archive is built at synth, in any CDK app.
 *
 * Model and EndpointConfig are replaced on every change, and the replaced ones are kept
 * (`UpdateReplacePolicy: Retain`) so that a deploy whose smoke test fails can put the endpoint
 * back on the previous configuration; deploy-model deletes them once a new version passed.
 */
export class TritonSageMakerEndpoint extends Construct {
  readonly endpointName: string;
  /** Triton's name of the model, its folder in the archive. */
  readonly modelName: string;
  /** Where the model archive is uploaded: the bootstrap bucket, key `<hash>.tar.gz`. */
  readonly modelData: FileAssetLocation;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly model: sagemaker.CfnModel;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly endpoint: sagemaker.CfnEndpoint;
  /** Fires on any 5XX answer (or, with maxErrorRate, on a share of them); rolls an update back. */
  readonly errorAlarm: cloudwatch.Alarm;
  /** Fires when the variant's p99 ModelLatency exceeds maxP99Latency; rolls an update back. */
  readonly latencyAlarm?: cloudwatch.Alarm;
  readonly scalableTarget?: applicationautoscaling.CfnScalableTarget;
  /** The serving image (a token for region-agnostic stacks). */
  readonly image: string;

  constructor(scope: Construct, id: string, props: TritonSageMakerEndpointProps) {
    super(scope, id);
    const instanceCount = props.instanceCount ?? 1;
    const tritonVersion = props.tritonVersion ?? DEFAULT_SAGEMAKER_TRITON_VERSION;
    const sources = [props.model, props.modelArchive, props.modelRepository].filter((v) => v !== undefined).length;
    if (sources !== 1) {
      throw new DeployModelError('SAGEMAKER_MODEL_SOURCE', `${this.node.path}: ${sources === 0 ? 'none of model, modelArchive and modelRepository is given' : 'more than one of model, modelArchive and modelRepository is given'}. Pass model (the .onnx file; the Triton archive is built at synth), modelArchive (an archive you built) or modelRepository (an uncompressed repository in S3), exactly one.`, { details: { model: props.model, modelArchive: props.modelArchive, modelRepository: props.modelRepository } });
    }
    if (props.triton && props.model === undefined) {
      throw new DeployModelError('SAGEMAKER_MODEL_SOURCE', `${this.node.path}: triton settings apply to the archive built from model, but ${props.modelArchive ? 'modelArchive' : 'modelRepository'} is given; its config.pbtxt is already written. Pass model instead, or leave triton out.`, { details: { modelArchive: props.modelArchive, modelRepository: props.modelRepository } });
    }
    if (props.modelRepository && !Token.isUnresolved(props.modelRepository.prefix) && !/^(?:[^/]+\/)+$/.test(props.modelRepository.prefix)) {
      // SageMaker's S3ModelDataSource: "A valid key name prefix identified by S3Uri always ends with a forward slash (/)."
      throw new DeployModelError('SAGEMAKER_MODEL_SOURCE', `${this.node.path}: modelRepository.prefix '${props.modelRepository.prefix}' does not end with '/' (or starts with one); SageMaker reads an uncompressed S3Prefix only when its key prefix ends with '/'. Pass e.g. 'models/adder/'.`, { details: { modelRepository: props.modelRepository } });
    }
    const model = props.model === undefined ? undefined : resolveModelFile(props.model, this.node.path);
    const modelName = props.modelName ?? (model ? modelNameFromFile(model.file) : undefined);
    if (modelName === undefined) {
      throw new DeployModelError('SAGEMAKER_MODEL_NAME', `${this.node.path}: modelName is not given; with modelArchive or modelRepository it must name the model's folder in the repository, which SageMaker's Triton image loads. Pass modelName.`, { details: { modelArchive: props.modelArchive } });
    }
    this.modelName = modelName;
    const problem = endpointPropsProblem({ ...props, modelName, instanceCount, tritonVersion: props.image ? undefined : tritonVersion });
    if (problem) throw new DeployModelError(problem.code, `${this.node.path}: ${problem.message}`, { details: problem.details });
    // The rest of the checks that need no build, before the model archive is built.
    const alarmCount = 1 + (props.maxP99Latency ? 1 : 0) + (props.rollbackAlarms?.length ?? 0);
    if (alarmCount > 10) {
      throw new DeployModelError('SAGEMAKER_TOO_MANY_ALARMS', `${this.node.path}: ${alarmCount} rollback alarms; SageMaker accepts at most 10 (the 5XX alarm plus 9 of rollbackAlarms). Combine alarms with a CloudWatch composite alarm.`, { details: { alarms: alarmCount } });
    }
    if (props.autoscaling) {
      const { minCapacity: min = 1, maxCapacity: max } = props.autoscaling;
      if (max < min || instanceCount < min || instanceCount > max) {
        throw new DeployModelError('SAGEMAKER_AUTOSCALING_RANGE', `${this.node.path}: autoscaling needs minCapacity <= instanceCount <= maxCapacity; got ${min} <= ${instanceCount} <= ${max}. Adjust the three.`, { details: { min, instanceCount, max } });
      }
    }

    this.endpointName = props.endpointName ?? sageMakerEndpointName(Names.uniqueResourceName(this, { maxLength: 256 }), ENDPOINT_NAME_MAX);
    this.image = props.image ?? this.defaultImage(tritonVersion);

    const repository = props.modelRepository;
    this.modelData = repository ? prefixLocation(repository.bucketName, repository.prefix) : stageModelArchive(this, model
      ? { model, modelName, tritonVersion, ...(props.triton ? { triton: props.triton } : {}) }
      : { archive: props.modelArchive!, ...(props.modelArchiveSha256 ? { sha256: props.modelArchiveSha256 } : {}) });
    // The name SageMaker writes to; created here so that it has a retention and goes with the stack.
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: endpointLogGroup(this.endpointName),
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // The name is fixed: a kept group would make the next create of the same endpoint fail.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = this.executionRole(props);

    this.model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      enableNetworkIsolation: props.networkIsolation ?? true,
      primaryContainer: {
        image: this.image,
        // An uncompressed repository is an S3Prefix ModelDataSource (SageMaker API S3ModelDataSource:
        // S3DataType S3Prefix, CompressionType None), which SageMaker copies to /opt/ml/model as is.
        ...(repository
          ? { modelDataSource: { s3DataSource: { s3Uri: this.modelData.s3ObjectUrl, s3DataType: 'S3Prefix', compressionType: 'None' } } }
          : { modelDataUrl: this.modelData.s3ObjectUrl }),
        environment: { ...props.environment, [TRITON_MODEL_NAME_ENV]: modelName },
      },
      vpcConfig: props.vpc ? { subnets: props.vpc.subnetIds, securityGroupIds: props.vpc.securityGroupIds } : undefined,
    });

    const startup = props.startupHealthCheckTimeout?.toSeconds() ?? DEFAULT_STARTUP_TIMEOUT_SECONDS.tensorrt;
    const download = props.modelDownloadTimeout?.toSeconds() ?? DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS;
    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      productionVariants: [{
        variantName: VARIANT_NAME,
        modelName: this.model.attrModelName,
        instanceType: props.instanceType,
        initialInstanceCount: instanceCount,
        initialVariantWeight: 1,
        containerStartupHealthCheckTimeoutInSeconds: startup,
        modelDataDownloadTimeoutInSeconds: download,
        volumeSizeInGb: props.volumeSizeGb,
        inferenceAmiVersion: props.inferenceAmiVersion ?? DEFAULT_INFERENCE_AMI_VERSION,
      }],
    });
    for (const resource of [this.model, this.endpointConfig]) keepWhenReplaced(resource);

    this.errorAlarm = props.maxErrorRate ? this.errorRateAlarm(props.maxErrorRate) : new cloudwatch.Alarm(this, 'Invocation5xxAlarm', {
      alarmDescription: `Any 5XX answer of SageMaker endpoint ${this.endpointName}; rolls an update back while it bakes`,
      metric: this.variantMetric('Invocation5XXErrors', 'Sum'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.maxP99Latency) {
      this.latencyAlarm = new cloudwatch.Alarm(this, 'ModelLatencyP99Alarm', {
        alarmDescription: `p99 ModelLatency of SageMaker endpoint ${this.endpointName} above ${props.maxP99Latency.toMilliseconds()} ms; rolls an update back`,
        // ModelLatency is reported in microseconds.
        metric: this.variantMetric('ModelLatency', 'p99'),
        threshold: props.maxP99Latency.toMilliseconds() * 1000,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    const alarms = [this.errorAlarm, ...(this.latencyAlarm ? [this.latencyAlarm] : []), ...(props.rollbackAlarms ?? [])];
    const baking = props.bakingPeriod?.toSeconds() ?? DEFAULT_BAKE_SECONDS;
    const routing = props.trafficRouting;
    const size = routing ? { type: 'CAPACITY_PERCENT', value: routing.sizePercent } : undefined;
    const waits = routing ? Math.ceil(100 / routing.sizePercent) * routing.waitInterval.toSeconds() : 0;
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      deploymentConfig: {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: routing
            ? { type: routing.type, waitIntervalInSeconds: routing.waitInterval.toSeconds(), ...(routing.type === 'CANARY' ? { canarySize: size } : { linearStepSize: size }) }
            : { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 0 },
          terminationWaitInSeconds: baking,
          // Room for new instances to download, start (TensorRT build included), take the traffic
          // step by step and bake; SageMaker accepts 600-28800 s.
          maximumExecutionTimeoutInSeconds: Math.min(routing ? 28_800 : 14_400, Math.max(600, download + startup + waits + baking + 600)),
        },
        autoRollbackConfiguration: { alarms: alarms.map((a) => ({ alarmName: a.alarmName })) },
      },
    });
    this.endpoint.node.addDependency(this.logGroup);

    if (props.autoscaling) this.scalableTarget = this.addAutoscaling(props.autoscaling);
  }

  /**
   * Writes the endpoint, endpoint config, model and log group names and the model's S3 URL as
   * stack outputs with the stable logical ids of `TRITON_SAGEMAKER_ENDPOINT_OUTPUTS`, each prefixed
   * with `prefix` (needed when a stack holds more than one endpoint).
   */
  addStackOutputs(prefix = ''): Record<TritonSageMakerEndpointOutputKey, CfnOutput> {
    const stack = Stack.of(this);
    const values: Record<TritonSageMakerEndpointOutputKey, [string, string]> = {
      endpointName: [this.endpoint.attrEndpointName, 'Name of the SageMaker endpoint'],
      endpointConfigName: [this.endpointConfig.attrEndpointConfigName, 'Endpoint configuration this deployment put on the endpoint'],
      modelName: [this.model.attrModelName, 'SageMaker Model of this deployment'],
      logGroupName: [this.logGroup.logGroupName, "The endpoint's container logs"],
      modelDataUrl: [this.modelData.s3ObjectUrl, 'The model archive (Triton model repository)'],
    };
    const outputs = {} as Record<TritonSageMakerEndpointOutputKey, CfnOutput>;
    for (const key of Object.keys(values) as TritonSageMakerEndpointOutputKey[]) {
      const [value, description] = values[key];
      outputs[key] = new CfnOutput(stack, `${prefix}${TRITON_SAGEMAKER_ENDPOINT_OUTPUTS[key]}`, { value: Token.asString(value), description });
    }
    return outputs;
  }

  /** A metric of the endpoint's one variant, per minute. */
  private variantMetric(metricName: string, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/SageMaker', metricName, statistic, period: Duration.minutes(1),
      dimensionsMap: { EndpointName: this.endpointName, VariantName: VARIANT_NAME },
    });
  }

  /** Fires when more than `rate` of the invocations in a minute answered 5XX. */
  private errorRateAlarm(rate: number): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, 'ErrorRateAlarm', {
      alarmDescription: `Share of 5XX answers of SageMaker endpoint ${this.endpointName} above ${rate}; rolls an update back`,
      metric: new cloudwatch.MathExpression({
        expression: 'IF(invocations > 0, errors / invocations, 0)',
        usingMetrics: { errors: this.variantMetric('Invocation5XXErrors', 'Sum'), invocations: this.variantMetric('Invocations', 'Sum') },
        period: Duration.minutes(1),
      }),
      threshold: rate,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private defaultImage(tritonVersion: string): string {
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region)) return sageMakerTritonImage(region, tritonVersion);
    const registries = SAGEMAKER_TRITON_IMAGES[tritonVersion];
    if (!registries) sageMakerTritonImage('us-east-1', tritonVersion); // throws the unknown-release error
    // A region-agnostic stack: CloudFormation picks the account when the region is known.
    const mapping = new CfnMapping(this, 'TritonImageAccounts', {
      mapping: Object.fromEntries(Object.entries(registries!).map(([r, account]) => [r, { account }])),
    });
    return `${mapping.findInMap(Aws.REGION, 'account')}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${SAGEMAKER_TRITON_REPOSITORY}:${tritonVersion}-py3`;
  }

  /** Our own role instead of AmazonSageMakerFullAccess; see executionPolicyStatements. */
  private executionRole(props: TritonSageMakerEndpointProps): iam.Role {
    const stack = Stack.of(this);
    const parsed = Token.isUnresolved(this.image) ? undefined : parseEcrImage(this.image);
    if (!Token.isUnresolved(this.image) && !parsed) {
      throw new DeployModelError('SAGEMAKER_IMAGE_INVALID', `${this.node.path}: image '${this.image}' is not an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>); SageMaker pulls serving images from ECR.`, { details: { image: this.image } });
    }
    const repositoryArn = parsed
      ? stack.formatArn({ service: 'ecr', account: parsed.account, region: parsed.region, resource: 'repository', resourceName: parsed.repository })
      : stack.formatArn({ service: 'ecr', account: '*', resource: 'repository', resourceName: SAGEMAKER_TRITON_REPOSITORY });
    const statements = executionPolicyStatements({
      ...(props.modelRepository
        ? {
          modelPrefix: {
            bucketArn: stack.formatArn({ service: 's3', region: '', account: '', resource: this.modelData.bucketName }),
            prefix: this.modelData.objectKey,
          },
        }
        : { modelObjectArn: stack.formatArn({ service: 's3', region: '', account: '', resource: this.modelData.bucketName, resourceName: this.modelData.objectKey }) }),
      repositoryArn,
      logGroupArn: this.logGroup.logGroupArn,
      vpc: props.vpc !== undefined,
    });
    const role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `Execution role of SageMaker endpoint ${this.endpointName}: reads its model archive, pulls its image, writes its logs`,
      inlinePolicies: { Serving: new iam.PolicyDocument({ statements }) },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: wildcardReason(props.vpc !== undefined),
    });
    if (props.modelRepository) {
      const objects = stack.formatArn({ service: 's3', region: '', account: '', resource: this.modelData.bucketName, resourceName: `${this.modelData.objectKey}*` });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagText(stack, objects)}]`,
        reason: "SageMaker reads an uncompressed model as every object under its key prefix (S3DataType S3Prefix); the wildcard is that one prefix, named by the repository's content.",
      });
    }
    return role;
  }

  private addAutoscaling(scaling: TritonSageMakerAutoscaling): applicationautoscaling.CfnScalableTarget {
    const min = scaling.minCapacity ?? 1;
    // No RoleARN: Application Auto Scaling then uses (and creates) its service-linked role for SageMaker.
    const target = new applicationautoscaling.CfnScalableTarget(this, 'ScalableTarget', {
      serviceNamespace: 'sagemaker',
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      resourceId: `endpoint/${this.endpointName}/variant/${VARIANT_NAME}`,
      minCapacity: min,
      maxCapacity: scaling.maxCapacity,
    });
    target.addResourceDependency(this.endpoint);
    new applicationautoscaling.CfnScalingPolicy(this, 'ScalingPolicy', {
      policyName: `${this.endpointName}-invocations`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: target.ref,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: scaling.targetInvocationsPerInstance ?? DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE,
        predefinedMetricSpecification: { predefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        scaleInCooldown: (scaling.scaleInCooldown ?? Duration.minutes(5)).toSeconds(),
        scaleOutCooldown: (scaling.scaleOutCooldown ?? Duration.minutes(5)).toSeconds(),
      },
    });
    return target;
  }
}

/** A value as cdk-nag writes it in a finding's id: intrinsics as `<AWS::AccountId>`, `<Logical.Attr>`. */
function nagText(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o.Ref !== undefined) return `<${String(o.Ref)}>`;
    if (o['Fn::GetAtt'] !== undefined) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (o['Fn::Join'] !== undefined) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    return JSON.stringify(v);
  };
  return render(stack.resolve(value));
}

/** The location of a key prefix, in the shape of an asset's (`s3ObjectUrl` is `s3://bucket/prefix/`). */
function prefixLocation(bucketName: string, prefix: string): FileAssetLocation {
  const s3ObjectUrl = `s3://${bucketName}/${prefix}`;
  return { bucketName, objectKey: prefix, s3ObjectUrl, httpUrl: `https://s3.${Aws.URL_SUFFIX}/${bucketName}/${prefix}` };
}

/**
 * A replaced Model or EndpointConfig stays in the account (the endpoint can be put back on it),
 * while deleting the stack still deletes the current one.
 */
function keepWhenReplaced(resource: CfnResource): void {
  resource.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
  resource.cfnOptions.deletionPolicy = CfnDeletionPolicy.DELETE;
}
