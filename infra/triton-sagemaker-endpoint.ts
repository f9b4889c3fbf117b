/** The TritonSageMakerEndpoint construct: an ONNX model served by NVIDIA Triton on a SageMaker real-time endpoint. */
import {
  AssetHashType, AssetStaging, Aws, CfnDeletionPolicy, CfnMapping, CfnOutput, Duration, FileAssetPackaging, Names, RemovalPolicy, Stack, Token, Validations,
  type CfnResource, type FileAssetLocation,
} from 'aws-cdk-lib';
import * as applicationautoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { DeployModelError } from '../src/errors.js';
import { executionPolicyStatements, wildcardReason } from '../src/kits/sagemaker/execution-policy.js';
import { archiveSha256 } from '../src/kits/sagemaker/sha256-archive.js';
import { endpointPropsProblem } from '../src/kits/sagemaker/endpoint-props-problem.js';
import { endpointLogGroup, ENDPOINT_NAME_MAX, sageMakerEndpointName } from '../src/kits/sagemaker/names.js';
import {
  DEFAULT_BAKE_SECONDS, DEFAULT_INFERENCE_AMI_VERSION, DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS, DEFAULT_STARTUP_TIMEOUT_SECONDS,
  DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE,
} from '../src/kits/sagemaker/defaults.js';
import {
  DEFAULT_SAGEMAKER_TRITON_VERSION, parseEcrImage, SAGEMAKER_TRITON_IMAGES, SAGEMAKER_TRITON_REPOSITORY, sageMakerTritonImage,
} from '../src/kits/sagemaker/triton-images.js';
import { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS, type TritonSageMakerEndpointOutputKey } from './outputs.js';

/** The one production variant: SageMaker's conventional name, also used by the alarms and autoscaling. */
export const VARIANT_NAME = 'AllTraffic';

/** Environment variable of SageMaker's Triton image naming the model folder to load. */
export const TRITON_MODEL_NAME_ENV = 'SAGEMAKER_TRITON_DEFAULT_MODEL_NAME';

export { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS, type TritonSageMakerEndpointOutputKey } from './outputs.js';

export interface TritonSageMakerAutoscaling {
  /**
   * Fewest instances.
   * @default 1
   */
  readonly minCapacity?: number;
  /** Most instances. */
  readonly maxCapacity: number;
  /**
   * Invocations per instance per minute that target tracking holds each instance at.
   * @default 1000
   */
  readonly targetInvocationsPerInstance?: number;
  /**
   * Wait after a scale-in before the next one.
   * @default Duration.minutes(5)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Wait after a scale-out before the next one; a GPU instance with a TensorRT build takes
   * minutes to serve.
   * @default Duration.minutes(5)
   */
  readonly scaleOutCooldown?: Duration;
}

export interface TritonSageMakerEndpointProps {
  /**
   * Path of the model archive written by `packTritonRepository`: the Triton model repository at
   * its root (`<modelName>/config.pbtxt`, `<modelName>/1/model.onnx`). Uploaded as an S3 asset.
   */
  readonly modelArchive: string;

  /**
   * sha256 of `modelArchive` (hex), when the caller already has it from packing.
   * @default - computed from the file
   */
  readonly modelArchiveSha256?: string;

  /**
   * Triton's name of the model: its folder in the archive. SageMaker's Triton image loads it
   * through `SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`.
   */
  readonly modelName: string;

  /** Instance type with an NVIDIA GPU, e.g. `ml.g5.xlarge`. */
  readonly instanceType: string;

  /**
   * Instances the endpoint starts with; each is billed per hour while the endpoint exists.
   * @default 1
   */
  readonly instanceCount?: number;

  /**
   * The serving image.
   * @default - SageMaker's Triton image for the stack's region and `tritonVersion`
   * (`sageMakerTritonImage`; a region-agnostic stack picks it with a CloudFormation mapping)
   */
  readonly image?: string;

  /**
   * Triton release of SageMaker's image. Ignored when `image` is given.
   * @default DEFAULT_SAGEMAKER_TRITON_VERSION
   */
  readonly tritonVersion?: string;

  /**
   * The instances' AMI, which fixes the NVIDIA driver.
   * @default 'al2-ami-sagemaker-inference-gpu-3-1'
   */
  readonly inferenceAmiVersion?: string;

  /**
   * EBS volume per instance in GB; EBS-backed families (ml.p3) only.
   * @default - the instance's own storage
   */
  readonly volumeSizeGb?: number;

  /**
   * How long SageMaker waits for the container to pass /ping; covers the TensorRT engine build.
   * @default Duration.seconds(1200)
   */
  readonly startupHealthCheckTimeout?: Duration;

  /**
   * How long SageMaker may take to download and extract the model archive.
   * @default Duration.seconds(900)
   */
  readonly modelDownloadTimeout?: Duration;

  /**
   * Target-tracking autoscaling on invocations per instance.
   * @default - none: `instanceCount` instances, always
   */
  readonly autoscaling?: TritonSageMakerAutoscaling;

  /**
   * Subnets and security groups for the instances' network interfaces.
   * @default - no VPC
   */
  readonly vpc?: { readonly subnetIds: string[]; readonly securityGroupIds: string[] };

  /**
   * The endpoint's name. It is fixed so that the log group, the alarms and the autoscaling
   * target can name it before it exists.
   * @default - derived from the construct's path, at most 54 characters
   */
  readonly endpointName?: string;

  /**
   * How long the endpoint's logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * During an update, how long SageMaker keeps the previous instances after the traffic moved,
   * rolling back if an alarm fires.
   * @default Duration.seconds(300)
   */
  readonly bakingPeriod?: Duration;

  /**
   * More alarms that roll an update back (up to 9 besides the 5XX alarm this construct creates).
   * @default - none
   */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];

  /**
   * Keeps the container off the network (SageMaker itself still downloads the model); Triton
   * needs no network.
   * @default true
   */
  readonly networkIsolation?: boolean;

  /**
   * More environment variables for the container. `SAGEMAKER_TRITON_DEFAULT_MODEL_NAME` is always
   * set from `modelName`.
   * @default - none
   */
  readonly environment?: Record<string, string>;
}

/**
 * An ONNX model served by NVIDIA Triton on a SageMaker real-time endpoint: the model archive as an
 * S3 asset, an execution role that may read only that archive and write the endpoint's logs, the
 * Model, the EndpointConfig and the Endpoint, with blue/green updates that roll back when the 5XX
 * alarm fires, and optional autoscaling. Needs no deploy-model config: any CDK app can use it.
 *
 * Model and EndpointConfig are replaced on every change, and the replaced ones are kept
 * (`UpdateReplacePolicy: Retain`) so that a deploy whose smoke test fails can put the endpoint
 * back on the previous configuration; deploy-model deletes them once a new version passed.
 */
export class TritonSageMakerEndpoint extends Construct {
  readonly endpointName: string;
  /** Where the model archive is uploaded: the bootstrap bucket, key `<hash>.tar.gz`. */
  readonly modelData: FileAssetLocation;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly model: sagemaker.CfnModel;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly endpoint: sagemaker.CfnEndpoint;
  /** Fires on any 5XX answer; rolls an update back while it bakes. */
  readonly errorAlarm: cloudwatch.Alarm;
  readonly scalableTarget?: applicationautoscaling.CfnScalableTarget;
  /** The serving image (a token for region-agnostic stacks). */
  readonly image: string;

  constructor(scope: Construct, id: string, props: TritonSageMakerEndpointProps) {
    super(scope, id);
    const instanceCount = props.instanceCount ?? 1;
    const tritonVersion = props.tritonVersion ?? DEFAULT_SAGEMAKER_TRITON_VERSION;
    const problem = endpointPropsProblem({ ...props, instanceCount, tritonVersion: props.image ? undefined : tritonVersion });
    if (problem) throw new DeployModelError(problem.code, `${this.node.path}: ${problem.message}`, { details: problem.details });

    this.endpointName = props.endpointName ?? sageMakerEndpointName(Names.uniqueResourceName(this, { maxLength: 256 }), ENDPOINT_NAME_MAX);
    this.image = props.image ?? this.defaultImage(tritonVersion);

    this.modelData = this.addModelArchive(props.modelArchive, props.modelArchiveSha256);
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
        modelDataUrl: this.modelData.s3ObjectUrl,
        environment: { ...props.environment, [TRITON_MODEL_NAME_ENV]: props.modelName },
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

    this.errorAlarm = new cloudwatch.Alarm(this, 'Invocation5xxAlarm', {
      alarmDescription: `Any 5XX answer of SageMaker endpoint ${this.endpointName}; rolls an update back while it bakes`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName: 'Invocation5XXErrors',
        dimensionsMap: { EndpointName: this.endpointName, VariantName: VARIANT_NAME },
        statistic: 'Sum',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarms = [this.errorAlarm, ...(props.rollbackAlarms ?? [])];
    if (alarms.length > 10) {
      throw new DeployModelError('SAGEMAKER_TOO_MANY_ALARMS', `${this.node.path}: ${alarms.length} rollback alarms; SageMaker accepts at most 10 (the 5XX alarm plus 9 of rollbackAlarms). Combine alarms with a CloudWatch composite alarm.`, { details: { alarms: alarms.length } });
    }
    const baking = props.bakingPeriod?.toSeconds() ?? DEFAULT_BAKE_SECONDS;
    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      deploymentConfig: {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: { type: 'ALL_AT_ONCE', waitIntervalInSeconds: 0 },
          terminationWaitInSeconds: baking,
          // Room for new instances to download, start (TensorRT build included) and bake.
          maximumExecutionTimeoutInSeconds: Math.min(14_400, Math.max(600, download + startup + baking + 600)),
        },
        autoRollbackConfiguration: { alarms: alarms.map((a) => ({ alarmName: a.alarmName })) },
      },
    });
    this.endpoint.node.addDependency(this.logGroup);

    if (props.autoscaling) this.scalableTarget = this.addAutoscaling(props.autoscaling, instanceCount);
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

  /**
   * Stages the archive like an `Asset` does, but asks for the object key `<hash>.tar.gz`, the
   * suffix SageMaker documents for model data: the synthesizer appends only the last extension of
   * the file (`<hash>.gz`, aws/aws-cdk#30257), so the `.tar` goes into the asset's source hash.
   * The hash is the archive's content hash: AssetStaging caches hashes by path for the life of the
   * process, and the build rewrites the archive at the same path.
   */
  private addModelArchive(file: string, sha256?: string): FileAssetLocation {
    const staging = new AssetStaging(this, 'ModelArchive', {
      sourcePath: file, assetHashType: AssetHashType.CUSTOM, assetHash: sha256 ?? archiveSha256(file),
    });
    const tar = /\.tar\.gz$/.test(file) ? '.tar' : '';
    return Stack.of(this).synthesizer.addFileAsset({
      fileName: staging.relativeStagedPath(Stack.of(this)),
      packaging: FileAssetPackaging.FILE,
      sourceHash: `${staging.assetHash}${tar}`,
      displayName: `${this.node.path}/ModelArchive`,
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
      modelObjectArn: stack.formatArn({ service: 's3', region: '', account: '', resource: this.modelData.bucketName, resourceName: this.modelData.objectKey }),
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
    return role;
  }

  private addAutoscaling(scaling: TritonSageMakerAutoscaling, instanceCount: number): applicationautoscaling.CfnScalableTarget {
    const min = scaling.minCapacity ?? 1;
    if (scaling.maxCapacity < min || instanceCount < min || instanceCount > scaling.maxCapacity) {
      throw new DeployModelError('SAGEMAKER_AUTOSCALING_RANGE', `${this.node.path}: autoscaling needs minCapacity <= instanceCount <= maxCapacity; got ${min} <= ${instanceCount} <= ${scaling.maxCapacity}. Adjust the three.`, { details: { min, instanceCount, max: scaling.maxCapacity } });
    }
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

/**
 * A replaced Model or EndpointConfig stays in the account (the endpoint can be put back on it),
 * while deleting the stack still deletes the current one.
 */
function keepWhenReplaced(resource: CfnResource): void {
  resource.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
  resource.cfnOptions.deletionPolicy = CfnDeletionPolicy.DELETE;
}
