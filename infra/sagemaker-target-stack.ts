/** The CDK stack of one aws-sagemaker target, built from the target's plan (or a config entry, resolved by the same planner). */
import { Aws, Duration, Stack, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ProjectConfig } from '../src/config/schema.js';
import { sageMakerStackPlan, type AwsSageMakerTargetConfig, type SageMakerStackPlan } from '../src/targets/aws-sagemaker/index.js';
import { TritonSageMakerEndpoint } from './triton-sagemaker-endpoint.js';

/** What the build stage produced for one aws-sagemaker target. */
export interface SageMakerStackArtifacts {
  /**
   * The reproducible model.tar.gz (Triton model repository at its root).
   * @default - none: `modelRepositoryPrefix` is required
   */
  readonly modelArchive?: string;
  /**
   * For a model kept in S3: the key prefix (ending with `/`) in the environment's CDK bootstrap
   * bucket that holds the uncompressed Triton repository, which the deploy fills before the stack.
   * @default - none: `modelArchive` is required
   */
  readonly modelRepositoryPrefix?: string;
  /**
   * sha256 of the archive (hex), as packing computed it.
   * @default - read from the file
   */
  readonly modelArchiveSha256?: string;
}

/** The stack of a planned target: every value from its plan. */
export interface SageMakerStackFromPlan {
  readonly plan: SageMakerStackPlan;
  readonly artifacts: SageMakerStackArtifacts;
}

/** The stack of a config's target entry, resolved by the target's planner, for CDK apps that hold no plan. */
export interface SageMakerStackFromConfig {
  readonly config: Pick<ProjectConfig, 'name'>;
  readonly targetName: string;
  readonly target: AwsSageMakerTargetConfig;
  readonly stage: string;
  readonly artifacts: SageMakerStackArtifacts & {
    /**
     * Triton's model name: the folder in the archive.
     * @default - the config's name, as the target's build names it
     */
    readonly tritonModel?: string;
  };
}

export type BuildSageMakerStackOptions = SageMakerStackFromPlan | SageMakerStackFromConfig;

/** The stack's resolved values: the plan's, or the planner's for a config entry. */
export function sageMakerStackPlanOf(options: BuildSageMakerStackOptions): SageMakerStackPlan {
  if ('plan' in options) return options.plan;
  const { config, stage, targetName, target, artifacts } = options;
  const plan = sageMakerStackPlan({ config, stage, targetName, target });
  return artifacts.tritonModel ? { ...plan, tritonModel: artifacts.tritonModel } : plan;
}

/** The stack of one aws-sagemaker target: the model archive, the endpoint on Triton, its alarm and autoscaling. */
export class SageMakerTargetStack extends Stack {
  readonly plan: SageMakerStackPlan;
  readonly endpoint: TritonSageMakerEndpoint;

  constructor(scope: Construct, options: BuildSageMakerStackOptions) {
    const plan = sageMakerStackPlanOf(options);
    const { artifacts } = options;
    super(scope, plan.stackName, {
      stackName: plan.stackName,
      // Region only: the account stays agnostic so synth needs no credentials.
      env: { region: plan.region },
      description: plan.description,
    });
    this.plan = plan;
    for (const [key, value] of Object.entries(plan.tags)) Tags.of(this).add(key, value);

    this.endpoint = new TritonSageMakerEndpoint(this, 'Endpoint', {
      ...(artifacts.modelRepositoryPrefix
        ? { modelRepository: { bucketName: bootstrapBucketName(this), prefix: artifacts.modelRepositoryPrefix } }
        : { modelArchive: artifacts.modelArchive, modelArchiveSha256: artifacts.modelArchiveSha256 }),
      modelName: plan.tritonModel,
      endpointName: plan.endpointName,
      instanceType: plan.instanceType,
      instanceCount: plan.instanceCount,
      image: plan.image,
      tritonVersion: plan.tritonVersion,
      inferenceAmiVersion: plan.inferenceAmiVersion,
      volumeSizeGb: plan.volumeSizeGb,
      startupHealthCheckTimeout: Duration.seconds(plan.startupHealthCheckTimeoutSeconds),
      modelDownloadTimeout: Duration.seconds(plan.modelDownloadTimeoutSeconds),
      bakingPeriod: Duration.seconds(plan.bakeSeconds),
      ...(plan.trafficRouting ? {
        trafficRouting: { type: plan.trafficRouting.type, sizePercent: plan.trafficRouting.sizePercent, waitInterval: Duration.seconds(plan.trafficRouting.waitIntervalSeconds) },
        maxErrorRate: plan.trafficRouting.alarms.maxErrorRate,
        ...(plan.trafficRouting.alarms.maxP99LatencyMs === undefined ? {} : { maxP99Latency: Duration.millis(plan.trafficRouting.alarms.maxP99LatencyMs) }),
      } : {}),
      logRetention: plan.logRetentionDays as logs.RetentionDays,
      vpc: plan.vpc && { subnetIds: [...plan.vpc.subnetIds], securityGroupIds: [...plan.vpc.securityGroupIds] },
      autoscaling: plan.autoscaling && {
        minCapacity: plan.autoscaling.min,
        maxCapacity: plan.autoscaling.max,
        targetInvocationsPerInstance: plan.autoscaling.targetInvocationsPerInstance,
      },
    });
    this.endpoint.addStackOutputs();
  }
}

/** The file-assets bucket of the default CDK bootstrap (qualifier hnb659fds), in the stack's account and region. */
export function bootstrapBucketName(stack: Stack): string {
  return `cdk-hnb659fds-assets-${Aws.ACCOUNT_ID}-${stack.region}`;
}

/** Builds the stack `<name>-<stage>-<target>` of one aws-sagemaker target into `scope` (an App or Stage). */
export function buildSageMakerStack(scope: Construct, options: BuildSageMakerStackOptions): SageMakerTargetStack {
  return new SageMakerTargetStack(scope, options);
}
