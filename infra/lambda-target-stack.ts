/** The CDK stack of one aws-lambda target, built from the target's plan (or a config entry, resolved by the same planner). */
import { CfnOutput, Duration, Fn, Size, Stack, Tags } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ProjectConfig } from '../src/config/schema.js';
import { lambdaStackPlan, type AwsLambdaTargetConfig, type LambdaArtifacts, type LambdaStackPlan } from '../src/targets/aws-lambda/index.js';
import { DeployModelError } from '../src/errors.js';
import { OnnxModelFunction, type OnnxModelFunctionProps } from './onnx-model-function.js';
import { LAMBDA_PREVIOUS_VERSION_OUTPUT, LIVE_ALIAS_NAME } from './outputs.js';
import { OnnxRuntimeLayer } from './onnx-runtime-layer.js';
import { ModelWeights, type ModelWeightFile } from './model-weights.js';

/** What the build stage produced for one aws-lambda target. */
export interface LambdaStackArtifacts {
  /** The function zip (handler bundle + model). */
  readonly functionZip: string;
  /** The onnxruntime-node layer zip for the target's architecture. */
  readonly layerZip: string;
  /**
   * Size of the model in bytes, which the memory default is derived from.
   * @default - not needed with a plan, which has the memory
   */
  readonly modelBytes?: number;
  /**
   * Unzipped sizes, when the builders measured them.
   * @default - read from each zip's central directory
   */
  readonly unzippedBytes?: { readonly function?: number; readonly layer?: number };
  /**
   * With package 'image': the pushed image's tag, and the ECR repository it is in.
   * @default - none: the stack is for package 'zip'
   */
  readonly image?: LambdaStackImage;
  /**
   * With weights 's3': the model's files, uploaded as their own assets and fetched by the function at init.
   * @default - none: the model is in the function zip
   */
  readonly weights?: readonly ModelWeightFile[];
}

/** Where the function's image is: a repository of the stack's own account and region, and a tag. */
export interface LambdaStackImage {
  readonly tag: string;
  /**
   * The repository, as the environment's CDK bootstrap stack names it (`ImageRepositoryName`).
   * @default - the default bootstrap's `cdk-hnb659fds-container-assets-<account>-<region>`
   */
  readonly repositoryName?: string;
}

/** The container-assets repository of the default CDK bootstrap (qualifier hnb659fds), in the stack's account and region. */
export const DEFAULT_BOOTSTRAP_IMAGE_REPOSITORY = 'cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}';

/** The stack's artifacts from what the aws-lambda build recorded (`BuildResult.outputs`). */
export function lambdaStackArtifacts(built: LambdaArtifacts): LambdaStackArtifacts {
  return {
    functionZip: built.functionZip, layerZip: built.layerZip, modelBytes: built.modelBytes,
    unzippedBytes: { function: built.functionUnzippedBytes, layer: built.layerUnzippedBytes },
    ...(built.weights ? { weights: built.weights } : {}),
    ...(built.image ? { image: { tag: built.image.tag, ...(built.image.repositoryName ? { repositoryName: built.image.repositoryName } : {}) } } : {}),
  };
}

interface AliasOption {
  /**
   * Keep the `live` alias on this version (phase 1 of a deploy: publish and smoke-test the new
   * version first).
   * @default - the alias moves to the new version
   */
  readonly aliasVersion?: string;
  /**
   * The version the alias served before the last promotion, kept as the stack's
   * `PreviousVersion` output for `deploy-model rollback`.
   * @default - no output: nothing to roll back to
   */
  readonly previousVersion?: string;
  /**
   * A traffic step of a canary or linear rollout: the `live` alias (on `aliasVersion`) also routes
   * `weight` (0-1) of the requests to `version`, through its RoutingConfig.
   * @default - the alias routes every request to its version
   */
  readonly canary?: { readonly version: string; readonly weight: number };
}

/** The stack of a planned target: every value from its plan. */
export interface LambdaStackFromPlan extends AliasOption {
  readonly plan: LambdaStackPlan;
  readonly artifacts: LambdaStackArtifacts;
}

/** The stack of a config's target entry, resolved by the target's planner, for CDK apps that hold no plan. */
export interface LambdaStackFromConfig extends AliasOption {
  readonly config: Pick<ProjectConfig, 'name' | 'runtime'>;
  readonly targetName: string;
  readonly target: AwsLambdaTargetConfig;
  readonly stage: string;
  readonly artifacts: LambdaStackArtifacts & { readonly modelBytes: number };
}

export type BuildLambdaStackOptions = LambdaStackFromPlan | LambdaStackFromConfig;

/** The stack's resolved values: the plan's, or the planner's for a config entry. */
export function lambdaStackPlanOf(options: BuildLambdaStackOptions): LambdaStackPlan {
  if ('plan' in options) return options.plan;
  const { config, stage, targetName, target, artifacts } = options;
  return lambdaStackPlan({ config, stage, targetName, target, modelBytes: artifacts.modelBytes });
}

const RUNTIMES: Record<LambdaStackPlan['runtime'], lambda.Runtime> = { 'nodejs22.x': lambda.Runtime.NODEJS_22_X };

/** The stack of one aws-lambda target: the onnxruntime layer, the model's function, its version, `live` alias and Function URL. */
export class LambdaTargetStack extends Stack {
  readonly plan: LambdaStackPlan;
  readonly model: OnnxModelFunction;
  /** With package 'zip'; an image holds onnxruntime itself. */
  readonly layer?: OnnxRuntimeLayer;

  constructor(scope: Construct, options: BuildLambdaStackOptions) {
    const plan = lambdaStackPlanOf(options);
    const { artifacts } = options;
    super(scope, plan.stackName, {
      stackName: plan.stackName,
      // Region only: the account stays agnostic so synth needs no credentials.
      env: { region: plan.region },
      description: plan.description,
    });
    this.plan = plan;
    for (const [key, value] of Object.entries(plan.tags)) Tags.of(this).add(key, value);

    const architecture = plan.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    let source: Pick<OnnxModelFunctionProps, 'code' | 'unzippedBytes' | 'layer' | 'image'>;
    if (plan.package === 'image') {
      if (!artifacts.image) {
        throw new DeployModelError('LAMBDA_CODE_SOURCE', `${plan.stackName}: the plan ships the function as a container image (package: 'image') but the build recorded no image. Build the target again (deploy-model build).`, { details: { stackName: plan.stackName }, kind: 'internal' });
      }
      const repositoryName = artifacts.image.repositoryName ?? Fn.sub(DEFAULT_BOOTSTRAP_IMAGE_REPOSITORY);
      source = { image: { repository: ecr.Repository.fromRepositoryName(this, 'ImageRepository', repositoryName), tagOrDigest: artifacts.image.tag } };
    } else {
      this.layer = new OnnxRuntimeLayer(this, 'OnnxRuntime', {
        code: artifacts.layerZip,
        architecture,
        unzippedBytes: artifacts.unzippedBytes?.layer,
      });
      source = { code: artifacts.functionZip, unzippedBytes: artifacts.unzippedBytes?.function, layer: this.layer };
    }
    if (plan.weights === 's3' && !artifacts.weights?.length) {
      throw new DeployModelError('LAMBDA_CODE_SOURCE', `${plan.stackName}: the plan keeps the weights in S3 (weights: 's3') but the build recorded no weight files. Build the target again (deploy-model build).`, { details: { stackName: plan.stackName }, kind: 'internal' });
    }
    const weights = plan.weights === 's3' ? new ModelWeights(this, 'Weights', { files: artifacts.weights! }) : undefined;
    this.model = new OnnxModelFunction(this, 'Model', {
      ...source,
      modelName: plan.modelName,
      environment: { ...plan.environment, ...weights?.environment },
      architecture,
      runtime: RUNTIMES[plan.runtime],
      memorySize: plan.memoryMb,
      timeout: Duration.seconds(plan.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(plan.ephemeralStorageMb),
      reservedConcurrentExecutions: plan.reservedConcurrency,
      provisionedConcurrentExecutions: plan.provisionedConcurrency,
      logRetention: plan.logRetentionDays as logs.RetentionDays,
      urlAuth: plan.urlAuth,
      aliasVersion: options.aliasVersion,
    });
    weights?.grantRead(this.model.function);
    this.model.addStackOutputs();
    if (options.canary) {
      // Alias routing weights: the platform's own traffic split (AWS::Lambda::Alias RoutingConfig).
      const alias = this.model.alias.node.defaultChild as lambda.CfnAlias;
      alias.routingConfig = { additionalVersionWeights: [{ functionVersion: options.canary.version, functionWeight: options.canary.weight }] };
    }
    if (options.previousVersion !== undefined) {
      new CfnOutput(this, LAMBDA_PREVIOUS_VERSION_OUTPUT, { value: options.previousVersion, description: `Version the ${LIVE_ALIAS_NAME} alias served before the last promotion (deploy-model rollback returns to it)` });
    }
  }
}

/** Builds the stack `<name>-<stage>-<target>` of one aws-lambda target into `scope` (an App or Stage). */
export function buildLambdaStack(scope: Construct, options: BuildLambdaStackOptions): LambdaTargetStack {
  return new LambdaTargetStack(scope, options);
}
