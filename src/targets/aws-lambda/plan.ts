/** The aws-lambda target's plan: the stack, the function's settings and the rollout, every value resolved once. */
import { servingEnv } from '../../../handlers/serving-env.js';
import { LIVE_ALIAS_NAME } from '../../../infra/outputs.js';
import type { ProjectConfig } from '../../config/schema.js';
import type { ModelSignature } from '../../model/types.js';
import { defaultLambdaMemoryMb } from '../../kits/aws/lambda-limits.js';
import { basePlan } from '../base-plan.js';
import { trafficPlan } from '../../config/rollout-schema.js';
import type { PlanInput, RolloutStep, TargetPlanBase } from '../target-module.js';
import type { AwsLambdaTargetConfig } from './schema.js';
import { lambdaStackName } from './stack-name.js';

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
  /** The onnxruntime layer is built for it. */
  readonly architecture: 'x86_64' | 'arm64';
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
  return {
    stackName: lambdaStackName(config.name, stage, targetName),
    region: target.region,
    description: `deploy-model ${config.name}: target ${targetName} (aws-lambda), stage ${stage}`,
    tags: { 'deploy-model:name': config.name, 'deploy-model:stage': stage, 'deploy-model:target': targetName },
    modelName: config.name,
    architecture: target.architecture,
    runtime: 'nodejs22.x',
    memoryMb: target.memoryMb ?? defaultLambdaMemoryMb(modelBytes),
    timeoutSeconds: target.timeoutSeconds,
    ephemeralStorageMb: target.ephemeralStorageMb,
    ...(target.reservedConcurrency === undefined ? {} : { reservedConcurrency: target.reservedConcurrency }),
    provisionedConcurrency: target.provisionedConcurrency,
    logRetentionDays: target.logRetentionDays,
    urlAuth: target.url.auth,
    aliasName: LIVE_ALIAS_NAME,
    environment: servingEnv({ modelName: config.name, runtime: config.runtime, inputs: config.model?.inputs, entry: 'lambda' }),
  };
}

function rolloutSteps(stackName: string): RolloutStep[] {
  return [
    { phase: 'stage', action: `deploy stack ${stackName}: CloudFormation publishes the new version beside the one the ${LIVE_ALIAS_NAME} alias serves, and the alias stays` },
    { phase: 'smoke', action: 'invoke the new version by its number with Lambda Invoke' },
    { phase: 'promote', action: `deploy stack ${stackName} again with the ${LIVE_ALIAS_NAME} alias, and the Function URL on it, on the new version` },
    { phase: 'rollback', action: `nothing to move: the ${LIVE_ALIAS_NAME} alias stays on the version it serves (on a first deploy it already serves the new one)` },
  ];
}

/** Resolves the target: pure, no I/O; throws STACK_NAME_INVALID for a name CloudFormation refuses. */
export function planAwsLambda(input: PlanInput<AwsLambdaTargetConfig>): AwsLambdaPlan {
  const { config, stage, targetName, target, signature } = input;
  const stack = lambdaStackPlan({ config, stage, targetName, target, modelBytes: lambdaModelBytes(signature) });
  const base = basePlan(input, rolloutSteps(stack.stackName));
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
