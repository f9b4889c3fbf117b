import { Duration, Stack, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TritonSageMakerEndpoint } from '../../../infra/triton-sagemaker-endpoint.js';
import type { ProjectConfig } from '../../config/schema.js';
import { sageMakerNames } from '../../kits/sagemaker/names.js';
import { startupTimeoutSeconds, type AwsSageMakerTargetConfig } from './schema.js';

/** What the build stage produced for one aws-sagemaker target. */
export interface SageMakerStackArtifacts {
  /** The reproducible model.tar.gz (Triton model repository at its root). */
  readonly modelArchive: string;
  /** Triton's model name: the folder in the archive. */
  readonly tritonModel: string;
  /**
   * sha256 of the archive (hex), as packing computed it.
   * @default - read from the file
   */
  readonly modelArchiveSha256?: string;
}

export interface BuildSageMakerStackOptions {
  readonly config: ProjectConfig;
  readonly targetName: string;
  readonly target: AwsSageMakerTargetConfig;
  readonly stage: string;
  readonly artifacts: SageMakerStackArtifacts;
}

/** The stack of one aws-sagemaker target. */
export class SageMakerTargetStack extends Stack {
  readonly endpoint: TritonSageMakerEndpoint;

  constructor(scope: Construct, options: BuildSageMakerStackOptions) {
    const { config, targetName, target, stage, artifacts } = options;
    const names = sageMakerNames(config.name, stage, targetName);
    super(scope, names.stackName, {
      stackName: names.stackName,
      // Region only: the account stays agnostic so synth needs no credentials.
      env: { region: target.region },
      description: `deploy-model ${config.name}: target ${targetName} (aws-sagemaker), stage ${stage}`,
    });
    Tags.of(this).add('deploy-model:name', config.name);
    Tags.of(this).add('deploy-model:stage', stage);
    Tags.of(this).add('deploy-model:target', targetName);

    this.endpoint = new TritonSageMakerEndpoint(this, 'Endpoint', {
      modelArchive: artifacts.modelArchive,
      modelArchiveSha256: artifacts.modelArchiveSha256,
      modelName: artifacts.tritonModel,
      endpointName: names.endpointName,
      instanceType: target.instanceType,
      instanceCount: target.instanceCount,
      image: target.image,
      tritonVersion: target.tritonVersion,
      inferenceAmiVersion: target.inferenceAmiVersion,
      volumeSizeGb: target.volumeSizeGb,
      startupHealthCheckTimeout: Duration.seconds(startupTimeoutSeconds(target)),
      modelDownloadTimeout: Duration.seconds(target.modelDownloadTimeoutSeconds),
      bakingPeriod: Duration.seconds(target.bakeSeconds),
      logRetention: target.logRetentionDays as logs.RetentionDays,
      vpc: target.vpc,
      autoscaling: target.autoscaling && {
        minCapacity: target.autoscaling.min,
        maxCapacity: target.autoscaling.max,
        targetInvocationsPerInstance: target.autoscaling.targetInvocationsPerInstance,
      },
    });
    this.endpoint.addStackOutputs();
  }
}

/** Builds the stack `<name>-<stage>-<target>` of one aws-sagemaker target into `scope` (an App or Stage). */
export function buildSageMakerStack(scope: Construct, options: BuildSageMakerStackOptions): SageMakerTargetStack {
  return new SageMakerTargetStack(scope, options);
}
