/** The aws-sagemaker target's plan: the stack, the endpoint's settings, the Triton config and the rollout, every value resolved once. */
import path from 'node:path';
import type { ProjectConfig } from '../../config/schema.js';
import { DEFAULT_STARTUP_TIMEOUT_SECONDS } from '../../kits/sagemaker/defaults.js';
import { sageMakerNames } from '../../kits/sagemaker/names.js';
import { parseEcrImage, sageMakerTritonImage } from '../../kits/sagemaker/triton-images.js';
import { DeployModelError } from '../../errors.js';
import { CONTAINER_LOCAL_ENGINE_CACHE, engineCacheLocation, planTritonConfig, type EngineCacheLocation, type TritonModelConfig } from '../../kits/triton/index.js';
import { basePlan } from '../base-plan.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import type { AwsSageMakerTargetConfig } from './schema.js';
import { sageMakerTrafficRouting, type SageMakerTrafficRouting } from './traffic-routing.js';

/** What the endpoint's execution role may do, beyond reading this stack's model archive. */
export interface SageMakerExecutionPolicy {
  /** The ECR repository of the serving image, which the role may pull from. */
  readonly imageRepository: { readonly account: string; readonly region: string; readonly repository: string };
  /** The endpoint's log group, the one the role may write to. */
  readonly logGroupName: string;
  /** The EC2 network-interface actions SageMaker needs to place instances in a VPC. */
  readonly vpcNetworkInterfaces: boolean;
}

/** The values the stack is built from: all of the plan but the model, the Triton repository and the rollout. */
export interface SageMakerStackPlan {
  /** `<name>-<stage>-<target>`, checked against CloudFormation's rules. */
  readonly stackName: string;
  /** The stack name, shortened with a hash when SageMaker and CloudWatch could not take it. */
  readonly endpointName: string;
  readonly region: string;
  readonly description: string;
  /** On the stack and every resource that takes tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Triton's model name: the folder in model.tar.gz, loaded through SAGEMAKER_TRITON_DEFAULT_MODEL_NAME. */
  readonly tritonModel: string;
  /** Where SageMaker writes the endpoint's container logs. */
  readonly logGroupName: string;
  /** The serving image: the config's, else SageMaker's Triton image for the region and release. */
  readonly image: string;
  readonly tritonVersion: string;
  readonly inferenceAmiVersion: string;
  readonly instanceType: string;
  readonly instanceCount: number;
  /** @default - the instance's own storage */
  readonly volumeSizeGb?: number;
  /** @default - none: `instanceCount` instances, always */
  readonly autoscaling?: { readonly min: number; readonly max: number; readonly targetInvocationsPerInstance: number };
  /** The config's, else the engine's default (a TensorRT build takes longer). */
  readonly startupHealthCheckTimeoutSeconds: number;
  readonly modelDownloadTimeoutSeconds: number;
  readonly bakeSeconds: number;
  /** SageMaker's traffic routing of a canary or linear rollout, with its rollback alarms. @default - all at once */
  readonly trafficRouting?: SageMakerTrafficRouting;
  readonly logRetentionDays: number;
  /** @default - no VPC */
  readonly vpc?: { readonly subnetIds: readonly string[]; readonly securityGroupIds: readonly string[] };
  readonly executionPolicy: SageMakerExecutionPolicy;
}

export interface AwsSageMakerPlan extends TargetPlanBase, SageMakerStackPlan {
  readonly type: 'aws-sagemaker';
  readonly engine: AwsSageMakerTargetConfig['engine'];
  /** config.pbtxt, as data: what the build writes into the repository. */
  readonly tritonConfig: TritonModelConfig;
  /** Where TensorRT caches its engines on the instances. @default - none: engine 'onnxruntime' */
  readonly engineCache?: EngineCacheLocation;
  /** The INT8 calibration table the build ships, as an absolute path. @default - none */
  readonly int8CalibrationTable?: string;
}

/** What the stack's values are resolved from: a target entry of a config. */
export interface SageMakerStackInput {
  readonly config: Pick<ProjectConfig, 'name'>;
  readonly stage: string;
  readonly targetName: string;
  readonly target: AwsSageMakerTargetConfig;
}

/**
 * The stack's values from a target entry: the planner's work, shared with the CDK entry points
 * that build the stack from a config (`buildSageMakerStack` with `config`), so they cannot drift.
 */
export function sageMakerStackPlan(input: SageMakerStackInput): SageMakerStackPlan {
  const { config, stage, targetName, target } = input;
  const names = sageMakerNames(config.name, stage, targetName);
  const image = target.image ?? sageMakerTritonImage(target.region, target.tritonVersion);
  const repository = parseEcrImage(image)!;
  const scaling = target.autoscaling;
  const trafficRouting = sageMakerTrafficRouting(target.rollout);
  return {
    stackName: names.stackName,
    endpointName: names.endpointName,
    region: target.region,
    description: `deploy-model ${config.name}: target ${targetName} (aws-sagemaker), stage ${stage}`,
    tags: { 'deploy-model:name': config.name, 'deploy-model:stage': stage, 'deploy-model:target': targetName },
    tritonModel: names.tritonModel,
    logGroupName: names.logGroupName,
    image,
    tritonVersion: target.tritonVersion,
    inferenceAmiVersion: target.inferenceAmiVersion,
    instanceType: target.instanceType,
    instanceCount: target.instanceCount,
    ...(target.volumeSizeGb === undefined ? {} : { volumeSizeGb: target.volumeSizeGb }),
    ...(scaling ? { autoscaling: { min: scaling.min, max: scaling.max, targetInvocationsPerInstance: scaling.targetInvocationsPerInstance } } : {}),
    startupHealthCheckTimeoutSeconds: target.startupHealthCheckTimeoutSeconds ?? DEFAULT_STARTUP_TIMEOUT_SECONDS[target.engine],
    modelDownloadTimeoutSeconds: target.modelDownloadTimeoutSeconds,
    bakeSeconds: target.bakeSeconds,
    ...(trafficRouting ? { trafficRouting } : {}),
    logRetentionDays: target.logRetentionDays,
    ...(target.vpc ? { vpc: { subnetIds: [...target.vpc.subnetIds], securityGroupIds: [...target.vpc.securityGroupIds] } } : {}),
    executionPolicy: { imageRepository: repository, logGroupName: names.logGroupName, vpcNetworkInterfaces: target.vpc !== undefined },
  };
}

function rolloutSteps(stack: SageMakerStackPlan): RolloutStep[] {
  const routing = stack.trafficRouting;
  return [
    routing
      ? { phase: 'stage', action: `deploy stack ${stack.stackName}: a new Model and EndpointConfig, and SageMaker moves endpoint ${stack.endpointName} to them blue/green with ${routing.type} traffic routing` }
      : { phase: 'stage', action: `deploy stack ${stack.stackName}: a new Model and EndpointConfig, and SageMaker moves endpoint ${stack.endpointName} to them blue/green (it rolls back by itself when the new instances fail their health check or the 5XX alarm fires within ${stack.bakeSeconds} s)` },
    ...(routing ? trafficSteps(stack, routing) : []),
    { phase: 'smoke', action: `call endpoint ${stack.endpointName} with InvokeEndpoint` },
    { phase: 'promote', action: 'keep the endpoint config (and model) that served before for `deploy-model rollback`, recorded in the endpoint\'s tag deploy-model:previous-endpoint-config; delete the older ones' },
    { phase: 'rollback', action: 'put the endpoint back on the endpoint config that served before (kept by UpdateReplacePolicy: Retain); on a first deploy there is none, and the new one keeps serving' },
  ];
}

/** What SageMaker does at each traffic step, by itself, while the stack deploys. */
function trafficSteps(stack: SageMakerStackPlan, routing: SageMakerTrafficRouting): RolloutStep[] {
  const alarms = [routing.alarms.maxErrorRate > 0 ? `error rate (Invocation5XXErrors / Invocations) > ${routing.alarms.maxErrorRate}` : 'any Invocation5XXErrors', ...(routing.alarms.maxP99LatencyMs === undefined ? [] : [`p99 ModelLatency > ${routing.alarms.maxP99LatencyMs} ms`])];
  return routing.percents.map((p): RolloutStep => ({
    phase: 'stage',
    action: p < 100
      ? `SageMaker turns traffic on for ${p} % of the new fleet's capacity, then waits ${routing.waitIntervalSeconds} s; it rolls back by itself if a rollback alarm fires (${alarms.join(', ')})`
      : `SageMaker turns traffic on for all of the new fleet, then keeps the old fleet ${stack.bakeSeconds} s (TerminationWaitInSeconds) while the alarms still roll back`,
  }));
}

/**
 * A model kept in S3 is served from uncompressed model data (an S3 prefix SageMaker copies into
 * /opt/ml/model), not from a model.tar.gz it extracts there. The engine cache then defaults to
 * /var/tmp/trt_engine_cache, outside the model's folder, since SageMaker does not document that
 * folder as writable in that mode; an INT8 calibration table, which TensorRT reads from the cache
 * folder, can then not be shipped with the repository, so precision 'int8' needs a model file here.
 */
function engineCacheOptions(config: ProjectConfig, targetName: string, target: AwsSageMakerTargetConfig): AwsSageMakerTargetConfig {
  if (!/^s3:\/\//.test(config.model.path) || target.engine !== 'tensorrt' || target.engineCachePath !== undefined) return target;
  if (target.precision === 'int8') {
    throw new DeployModelError('SAGEMAKER_S3_MODEL_INT8', `targets.${targetName}: precision 'int8' reads its calibration table from the TensorRT engine cache folder, which ships inside model.tar.gz; a model kept in S3 (${config.model.path}) is served from uncompressed model data, where that folder is not known to be writable. Deploy the model from a local file (model.path), or use precision 'fp16'.`, { kind: 'usage', details: { target: targetName, modelPath: config.model.path } });
  }
  return { ...target, engineCachePath: CONTAINER_LOCAL_ENGINE_CACHE };
}

/** Resolves the target: pure, no I/O; throws what planTritonConfig and CloudFormation's naming rules refuse. */
export function planAwsSageMaker(input: PlanInput<AwsSageMakerTargetConfig>): AwsSageMakerPlan {
  const { config, stage, targetName, target, signature, rootDir } = input;
  const stack = sageMakerStackPlan({ config, stage, targetName, target });
  const options = engineCacheOptions(config, targetName, target);
  const tritonConfig = planTritonConfig({
    signature, modelName: stack.tritonModel, host: 'aws-sagemaker', batching: config.model.batching, inputShapes: config.model.inputs, options, runtime: config.runtime,
  });
  const base = basePlan(input, rolloutSteps(stack));
  return {
    ...base,
    ...(target.rollout && stack.trafficRouting ? { rollout: { ...base.rollout, strategy: target.rollout.strategy } } : {}),
    type: 'aws-sagemaker',
    ...stack,
    engine: target.engine,
    tritonConfig,
    ...(target.engine === 'tensorrt' ? { engineCache: engineCacheLocation('aws-sagemaker', stack.tritonModel, options) } : {}),
    ...(target.int8Calibration ? { int8CalibrationTable: path.resolve(rootDir, target.int8Calibration.table) } : {}),
  };
}
