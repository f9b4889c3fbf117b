/** The props of TritonSageMakerEndpoint. */
import type { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { TritonModelOptions } from './build-assets.js';

/** An uncompressed Triton model repository under a key prefix of an S3 bucket. */
export interface TritonSageMakerModelRepository {
  readonly bucketName: string;
  /** The key prefix, ending with `/`, e.g. `deploy-model/triton/<digest>/`. */
  readonly prefix: string;
}

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
   * Path of the .onnx model, relative to the directory the CDK app runs in, or absolute. At synth
   * the Triton model repository is generated from it (`config.pbtxt` from the graph's signature
   * and `triton`, the model as `<modelName>/1/model.onnx`) and packed into a reproducible
   * model.tar.gz, cached by content: the same model and settings give the same asset hash.
   * Give `model` or `modelArchive`, not both.
   * @default - none: `modelArchive` is required
   */
  readonly model?: string;

  /**
   * Settings of the generated `config.pbtxt` (engine, precision, INT8 calibration, batching,
   * warmup shapes, ...); with `model` only.
   * @default - TensorRT in fp16, one instance per GPU, warmup on, no dynamic batching
   */
  readonly triton?: TritonModelOptions;

  /**
   * Path of a model archive you built, e.g. with `buildTritonModelArchive`: the Triton model
   * repository at its root (`<modelName>/config.pbtxt`, `<modelName>/1/model.onnx`). Uploaded as
   * an S3 asset. Give `model` or `modelArchive`, not both.
   * @default - built at synth from `model`
   */
  readonly modelArchive?: string;

  /**
   * An uncompressed Triton model repository already in S3 (`<prefix><modelName>/config.pbtxt`,
   * `<prefix><modelName>/1/model.onnx`), which SageMaker reads in place as an S3Prefix
   * ModelDataSource with CompressionType None: nothing is packed or uploaded at synth, and the
   * execution role may read that prefix only. `prefix` must end with `/`. Give one of `model`,
   * `modelArchive` and `modelRepository`.
   * @default - the archive of `model` or `modelArchive`
   */
  readonly modelRepository?: TritonSageMakerModelRepository;

  /**
   * sha256 of `modelArchive` (hex), when the caller already has it from packing.
   * @default - computed from the file
   */
  readonly modelArchiveSha256?: string;

  /**
   * Triton's name of the model: its folder in the archive. SageMaker's Triton image loads it
   * through `SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`.
   * @default - with `model`, the file's name without `.onnx`; required with `modelArchive`
   */
  readonly modelName?: string;

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
   * SageMaker's traffic routing for blue/green updates (deployment guardrails): CANARY turns traffic
   * on for `sizePercent` of the new fleet's capacity (at most 50), then for the rest; LINEAR for
   * `sizePercent` (10-50) at a time. SageMaker waits `waitInterval` between steps.
   * @default - ALL_AT_ONCE
   */
  readonly trafficRouting?: TritonSageMakerTrafficRouting;

  /**
   * With a value above 0, the error alarm that rolls an update back fires when
   * Invocation5XXErrors / Invocations over a minute exceeds it, instead of on any 5XX answer.
   * @default 0 - any 5XX answer fires it
   */
  readonly maxErrorRate?: number;

  /**
   * Adds a rollback alarm on the variant's p99 ModelLatency above this.
   * @default - no latency alarm
   */
  readonly maxP99Latency?: Duration;

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

/** SageMaker's TrafficRoutingConfig of a blue/green update, in capacity percent. */
export interface TritonSageMakerTrafficRouting {
  readonly type: 'CANARY' | 'LINEAR';
  /** CanarySize or LinearStepSize, in percent of the new fleet's capacity. */
  readonly sizePercent: number;
  /** WaitIntervalInSeconds: how long each step serves before the next (0-3600 s). */
  readonly waitInterval: Duration;
}
