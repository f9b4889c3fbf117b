/** The aws-lambda target's plan: the stack, the function's settings and the rollout, every value resolved once. */
import { servingEnv } from '../../../handlers/serving-env.js';
import { LIVE_ALIAS_NAME } from '../../../infra/outputs.js';
import type { ProjectConfig } from '../../config/schema.js';
import type { ModelSignature } from '../../model/types.js';
import { defaultLambdaMemoryMb, LAMBDA_EPHEMERAL_STORAGE_MAX_MB } from '../../kits/aws/lambda-limits.js';
import { basePlan } from '../base-plan.js';
import { trafficPlan } from '../../config/rollout-schema.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaStackName } from './stack-name.js';
import { chooseLambdaPackage, HANDLER_ALLOWANCE_BYTES, ORT_LAYER_UNZIPPED_CEILING, type LambdaPackage, type PackageChoice } from './package-choice.js';
import { DeployModelError } from '../../errors.js';
import { LAMBDA_IMAGE_BASE } from '../../kits/container/base-images.js';
import type { ContainerBuilderName } from '../../kits/container/builder-names.js';

/** The function's container image, with `package: 'image'`. */
export interface LambdaImagePlan {
  /** The image is built FROM it. */
  readonly baseImage: string;
  /** @default - the first builder that works: docker, podman, buildah */
  readonly builder?: ContainerBuilderName;
  /** From the architecture: `linux/amd64` for x86_64, `linux/arm64` for arm64. */
  readonly platform: 'linux/amd64' | 'linux/arm64';
  /** Where the image holds the function code (Lambda's LAMBDA_TASK_ROOT) and onnxruntime (the layer's /opt). */
  readonly taskRoot: '/var/task';
  readonly optDir: '/opt';
}

/** The values the stack is built from: all of the plan but the model and the rollout. */
export interface LambdaStackPlan {
  /** `<name>-<stage>-<target>`, checked against CloudFormation's rules. */
  readonly stackName: string;
  readonly region: string;
  /** The stack's description. */
  readonly description: string;
  /** On the stack and every resource that takes tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** The model name the handler serves (`/v2/models/{name}`): the config's name. */
  readonly modelName: string;
  /** The onnxruntime layer (or the image) is built for it. */
  readonly architecture: 'x86_64' | 'arm64';
  /** How the function ships: a zip with the onnxruntime layer, or a container image. */
  readonly package: LambdaPackage;
  /** Why this package: an explicit config value, or the sizes it was chosen by. */
  readonly packageReason: string;
  /** @default - none: package 'zip' */
  readonly image?: LambdaImagePlan;
  /**
   * Where the weights live: in the function's code, or in S3 (their own content-addressed
   * objects, fetched into /tmp at init; `ephemeralStorageMb` is sized for them).
   */
  readonly weights: 'bundled' | 's3';
  /** The Lambda runtime: the one the handler bundle and the layer are built and tested for. */
  readonly runtime: 'nodejs22.x';
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly ephemeralStorageMb: number;
  /** @default - none: the account's unreserved concurrency */
  readonly reservedConcurrency?: number;
  /** On the live alias; 0 is none. */
  readonly provisionedConcurrency: number;
  readonly logRetentionDays: number;
  /** The Function URL's auth type. */
  readonly urlAuth: 'iam' | 'none';
  /** The alias that serves traffic, and that the Function URL is on. */
  readonly aliasName: typeof LIVE_ALIAS_NAME;
  /** The serving environment (`DM_*`). */
  readonly environment: Readonly<Record<string, string>>;
}

export interface AwsLambdaPlan extends TargetPlanBase, LambdaStackPlan {
  readonly type: 'aws-lambda';
}

/** What the stack's values are resolved from: a target entry of a config, and the model's size. */
export interface LambdaStackInput {
  /** `model.inputs`, when given, shapes the example request of the function's `/openapi.json`. */
  readonly config: Pick<ProjectConfig, 'name' | 'runtime'> & { readonly model?: Pick<ProjectConfig['model'], 'inputs'> };
  readonly stage: string;
  readonly targetName: string;
  readonly target: AwsLambdaTargetConfig;
  /** The model's size in bytes, with its external data, which the memory default is derived from. */
  readonly modelBytes: number;
}

/** The bytes the function holds for the model: the .onnx file, plus the initializers it keeps in external data files. */
export function lambdaModelBytes(signature: Pick<ModelSignature, 'bytes' | 'externalData' | 'initializerBytes'>): number {
  return signature.bytes + (signature.externalData.length > 0 ? signature.initializerBytes : 0);
}

/**
 * The stack's values from a target entry: the planner's work, shared with the CDK entry points
 * that build the stack from a config (`buildLambdaStack` with `config`), so they cannot drift.
 */
export function lambdaStackPlan(input: LambdaStackInput): LambdaStackPlan {
  const { config, stage, targetName, target, modelBytes } = input;
  const weights = target.weights ?? 'bundled';
  const choice = weights === 's3' ? weightsInS3Choice(targetName, target, modelBytes) : chooseLambdaPackage({ requested: target.package, modelBytes, architecture: target.architecture, targetName });
  const image: LambdaImagePlan | undefined = choice.package === 'image'
    ? {
      baseImage: target.image?.baseImage ?? LAMBDA_IMAGE_BASE,
      ...(target.image?.builder ? { builder: target.image.builder } : {}),
      platform: target.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64',
      taskRoot: '/var/task',
      optDir: '/opt',
    }
    : undefined;
  return {
    stackName: lambdaStackName(config.name, stage, targetName),
    region: target.region,
    description: `deploy-model ${config.name}: target ${targetName} (aws-lambda), stage ${stage}`,
    tags: { 'deploy-model:name': config.name, 'deploy-model:stage': stage, 'deploy-model:target': targetName },
    modelName: config.name,
    architecture: target.architecture,
    package: choice.package,
    packageReason: choice.reason,
    ...(image ? { image } : {}),
    weights,
    runtime: 'nodejs22.x',
    memoryMb: target.memoryMb ?? defaultLambdaMemoryMb(modelBytes),
    timeoutSeconds: target.timeoutSeconds,
    ephemeralStorageMb: weights === 's3' ? Math.max(target.ephemeralStorageMb, weightsTmpMb(modelBytes)) : target.ephemeralStorageMb,
    ...(target.reservedConcurrency === undefined ? {} : { reservedConcurrency: target.reservedConcurrency }),
    provisionedConcurrency: target.provisionedConcurrency,
    logRetentionDays: target.logRetentionDays,
    urlAuth: target.url.auth,
    aliasName: LIVE_ALIAS_NAME,
    environment: servingEnv({ modelName: config.name, runtime: config.runtime, inputs: config.model?.inputs, entry: 'lambda' }),
  };
}

/** /tmp for weights fetched at init: the model's MB plus 64 MB for onnxruntime and the handler's own files. */
export function weightsTmpMb(modelBytes: number): number {
  return Math.ceil(modelBytes / (1024 * 1024)) + 64;
}

/** With weights in S3 the zip holds the handler and the signature only, and /tmp must hold the weights. */
function weightsInS3Choice(targetName: string, target: AwsLambdaTargetConfig, modelBytes: number): PackageChoice {
  if (target.package === 'image') {
    throw new DeployModelError('LAMBDA_WEIGHTS_S3_NEEDS_ZIP', `targets.${targetName}: weights: 's3' fetches the weights into /tmp beside a zip, and package: 'image' ships them in the image. Choose one: remove package: 'image' (the zip then holds only the handler), or remove weights: 's3'.`, { kind: 'usage', details: { target: targetName } });
  }
  const tmpMb = weightsTmpMb(modelBytes);
  if (tmpMb > LAMBDA_EPHEMERAL_STORAGE_MAX_MB) {
    throw new DeployModelError('LAMBDA_WEIGHTS_TOO_LARGE_FOR_TMP', `targets.${targetName}: weights: 's3' needs ${tmpMb} MB of /tmp for a ${Math.ceil(modelBytes / (1024 * 1024))} MB model, and Lambda allows ${LAMBDA_EPHEMERAL_STORAGE_MAX_MB} MB. Ship it in a container image (package: 'image', up to 10 GB, without weights: 's3'), or deploy it with an aws-sagemaker or container target.`, { kind: 'usage', details: { target: targetName, modelBytes, tmpMb } });
  }
  const zipBytes = HANDLER_ALLOWANCE_BYTES + ORT_LAYER_UNZIPPED_CEILING[target.architecture];
  return { package: 'zip', reason: `zip: the weights are kept in S3 (weights: 's3') and fetched into /tmp (${tmpMb} MB) at init, so the zip holds the handler and the signature only`, zipBytes, imageBytes: zipBytes };
}

function rolloutSteps(stackName: string, image: boolean, weights: 'bundled' | 's3'): RolloutStep[] {
  const push = image ? 'push the function image to the CDK bootstrap ECR repository, then ' : weights === 's3' ? 'upload the weights to the CDK bootstrap bucket unless an object with their content is there already, then ' : '';
  return [
    { phase: 'stage', action: `${push}deploy stack ${stackName}: CloudFormation publishes the new version beside the one the ${LIVE_ALIAS_NAME} alias serves, and the alias stays` },
    { phase: 'smoke', action: 'invoke the new version by its number with Lambda Invoke' },
    { phase: 'promote', action: `deploy stack ${stackName} again with the ${LIVE_ALIAS_NAME} alias, and the Function URL on it, on the new version` },
    { phase: 'rollback', action: `nothing to move: the ${LIVE_ALIAS_NAME} alias stays on the version it serves (on a first deploy it already serves the new one)` },
  ];
}

/** Resolves the target: pure, no I/O; throws STACK_NAME_INVALID for a name CloudFormation refuses. */
export function planAwsLambda(input: PlanInput<AwsLambdaTargetConfig>): AwsLambdaPlan {
  const { config, stage, targetName, target, signature } = input;
  const stack = lambdaStackPlan({ config, stage, targetName, target, modelBytes: lambdaModelBytes(signature) });
  const base = basePlan(input, rolloutSteps(stack.stackName, stack.package === 'image', stack.weights));
  const traffic = trafficPlan(target.rollout);
  if (!traffic) return { ...base, type: 'aws-lambda', ...stack };
  const steps: RolloutStep[] = [
    ...base.rollout.steps.filter((s) => s.phase !== 'promote' && s.phase !== 'rollback'),
    ...traffic.percents.map((p): RolloutStep => ({ phase: 'promote', action: `deploy stack ${stack.stackName} with the ${LIVE_ALIAS_NAME} alias routing ${p} % of requests to the new version; after ${traffic.intervalSeconds} s, smoke-test the new version and send ${traffic.alarms.probeRequests} requests through the alias (error rate <= ${traffic.alarms.maxErrorRate}${traffic.alarms.maxP99LatencyMs ? `, p99 <= ${traffic.alarms.maxP99LatencyMs} ms` : ''})` })),
    { phase: 'promote', action: `deploy stack ${stack.stackName} again with the ${LIVE_ALIAS_NAME} alias on the new version alone` },
    { phase: 'rollback', action: `a failed step: deploy stack ${stack.stackName} with the ${LIVE_ALIAS_NAME} alias on the version it served and no routing weights` },
  ];
  return { ...base, rollout: { strategy: target.rollout!.strategy, steps, traffic }, type: 'aws-lambda', ...stack };
}
