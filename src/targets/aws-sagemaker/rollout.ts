/**
 * The aws-sagemaker rollout hooks.
 *   stage:    CloudFormation (through toolkit-lib) creates a new Model and EndpointConfig and updates
 *             the endpoint to it, blue/green: SageMaker starts new instances, moves the traffic when
 *             they pass their health check, and rolls back by itself if they never do or if the 5XX
 *             alarm fires while the old instances bake. DescribeEndpoint reports the endpoint's
 *             status meanwhile. An endpoint an earlier failed smoke test put back on an older
 *             config is put on the stack's config again. The smoke test then calls InvokeEndpoint.
 *             With a canary or linear `rollout`, SageMaker turns the traffic on step by step itself
 *             (TrafficRoutingConfiguration) and rolls back when a rollback alarm fires; stage reports
 *             each step DescribeEndpoint showed, and a rolled-back update as a failed traffic step.
 *   promote:  the config that served before (and its model) is kept for `deploy-model rollback`,
 *             named in the endpoint's tag; older configs that no longer serve are deleted.
 *   rollback: the endpoint is put back on the config that served before (kept by
 *             `UpdateReplacePolicy: Retain`); the stack then names a config the endpoint does not
 *             serve, which the next deploy's stage reconciles. A first deploy has none to go back to.
 */
import { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS as OUTPUTS } from '../../../infra/outputs.js';
import { DeployModelError, isDeployModelError } from '../../errors.js';
import { deployStack, STACK_TIMEOUT_ENV, stackTimeoutMinutes } from '../../kits/aws/deploy-stack.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { endpointOverride } from '../../kits/aws/endpoint-override.js';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { BuildResult, Candidate, RollbackOutcome, RolloutHooks } from '../driver.js';
import { sageMakerRuntimeClient, withSageMakerClients, type SageMakerClients, type SageMakerConnectionOptions } from './_clients.js';
import {
  describeEndpoint, failureSince, retireConfigs, SERVING, switchEndpointConfig, watchEndpoint, type EndpointSnapshot, type SageMakerTrafficStep,
} from './_endpoint-state.js';
import { PREVIOUS_CONFIG_TAG, previousConfigOf, recordPreviousConfig } from './restore-previous.js';
import type { SageMakerArtifacts, SageMakerContext } from './build.js';
import type { AwsSageMakerPlan } from './plan.js';
import { invocationsUrl, sageMakerInferenceClient } from './runtime-client.js';
import type { AwsSageMakerTargetConfig } from './schema.js';
import { sageMakerStackArtifacts, synthChecked } from './synth.js';
import { publishModelRepository } from './_model-repository-upload.js';

/**
 * How long a stack operation on an endpoint is waited for when DEPLOY_MODEL_STACK_TIMEOUT_MINUTES
 * does not say: GPU instances start in minutes, the model download and a TensorRT engine build
 * (up to startupHealthCheckTimeoutSeconds, 3600 s at most) add to it, then bakeSeconds.
 */
export const SAGEMAKER_STACK_TIMEOUT_MINUTES = 180;

/** What promote and rollback need from stage. */
export interface SageMakerCandidateState {
  /** The endpoint config the stack deployed: the candidate. */
  readonly configName: string;
  /** The config that served before; undefined on a first deploy. */
  readonly previous?: string;
  /** The config the stack named before this deploy (a failed smoke test leaves it apart from the served one). */
  readonly stackConfigBefore?: string;
  /** The runtime client the smoke test calls with; closed by promote, rollback or release. */
  readonly runtime: SageMakerRuntimeClient;
}

/** The rollout hooks, reaching SageMaker as `options` say. */
export function sageMakerRollout(options: SageMakerConnectionOptions = {}): RolloutHooks<AwsSageMakerTargetConfig, AwsSageMakerPlan, SageMakerCandidateState> {
  return {
    async stage(ctx: SageMakerContext, build: BuildResult): Promise<Candidate<SageMakerCandidateState>> {
      const { plan } = ctx;
      const built = build.outputs as SageMakerArtifacts;
      const synth = synthChecked({ plan, artifacts: sageMakerStackArtifacts(built), rootDir: ctx.loaded.rootDir, io: ctx.io });
      // A model kept in S3: its repository's prefix is filled (or found full) before the stack names it.
      const published = built.modelRepository ? await publishModelRepository(ctx, built.modelRepository) : undefined;
      const staged = await withSageMakerClients(plan.region, options, (clients) => deployAndReconcile(ctx, clients, synth.assemblyDir));
      const runtime = sageMakerRuntimeClient(plan.region, options);
      if (staged.rolledBack) return rolledBackCandidate(ctx, staged, staged.rolledBack, runtime);
      const routing = plan.trafficRouting;
      return {
        endpoint: invocationsUrl(plan.region, plan.endpointName),
        version: staged.configName,
        client: sageMakerInferenceClient(runtime, plan.endpointName),
        ...(staged.previous ? { previous: staged.previous } : {}),
        ...(staged.previous === staged.configName ? { unchanged: true } : {}),
        state: { configName: staged.configName, runtime, ...(staged.previous ? { previous: staged.previous } : {}), ...(staged.stackConfigBefore ? { stackConfigBefore: staged.stackConfigBefore } : {}) },
        details: {
          region: plan.region, stackName: plan.stackName, endpointName: plan.endpointName, endpointConfigName: staged.configName,
          modelName: staged.modelName, logGroupName: plan.logGroupName, stackUnchanged: staged.noOp,
          ...(published ? { modelRepository: published } : {}),
          ...(routing && staged.steps?.length ? { rollout: { strategy: plan.rollout.strategy, trafficRouting: routing.type, steps: staged.steps } } : {}),
        },
        ...(routing && staged.steps?.length ? { platformRollout: { steps: staged.steps } } : {}),
      };
    },

    async promote(ctx: SageMakerContext, candidate: Candidate<SageMakerCandidateState>): Promise<Record<string, unknown>> {
      const { previous, stackConfigBefore, configName, runtime } = candidate.state;
      runtime.destroy();
      const { plan, io } = ctx;
      return withSageMakerClients(plan.region, options, async (clients) => {
        // One previous config (and its model) is kept for `deploy-model rollback`; older ones go.
        const live = await describeEndpoint(clients.control, plan.endpointName, plan.region);
        const keptBefore = await previousConfigOf(clients.control, live?.arn).catch(() => undefined);
        const keep = previous && previous !== configName ? previous : undefined;
        const retired = await retireConfigs(clients.control, [stackConfigBefore ?? '', keptBefore ?? ''], keep ? [configName, keep] : [configName], plan.region, io);
        if (!keep || !live?.arn) return { retired };
        try {
          await recordPreviousConfig(clients.control, live.arn, keep);
          io.info('DM_SAGEMAKER_PREVIOUS_KEPT', `Kept endpoint config ${keep} for \`deploy-model rollback --target ${ctx.targetName}\` (tag ${PREVIOUS_CONFIG_TAG} of endpoint ${plan.endpointName})`, { endpointName: plan.endpointName, endpointConfigName: keep });
          return { retired, keptPrevious: keep };
        } catch (e) {
          io.warn('DM_SAGEMAKER_CLEANUP_FAILED', `Could not tag endpoint ${plan.endpointName} with the config to roll back to (${keep}): ${(e as Error).message}. \`deploy-model rollback\` will not find it; the credentials need sagemaker:AddTags.`, { endpointConfigName: keep });
          return { retired };
        }
      });
    },

    async rollback(ctx: SageMakerContext, candidate: Candidate<SageMakerCandidateState>): Promise<RollbackOutcome> {
      const { plan } = ctx;
      const { previous, configName, runtime } = candidate.state;
      runtime.destroy();
      if (!previous) {
        ctx.io.warn('DM_SAGEMAKER_NO_PREVIOUS', `The smoke test failed and endpoint ${plan.endpointName} had no earlier configuration to go back to: ${configName} keeps serving, and its instances are billed per hour. Fix the model and deploy again, or remove it with \`deploy-model destroy --target ${ctx.targetName}\`.`, candidate.details);
        return 'kept';
      }
      ctx.io.warn('DM_SAGEMAKER_ROLLBACK', `The smoke test failed: putting endpoint ${plan.endpointName} back on ${previous}`, { from: configName, to: previous });
      const back = await withSageMakerClients(plan.region, options, (clients) =>
        switchEndpointConfig(clients.control, plan.endpointName, previous, plan.region, ctx.io, clients.pollMs, clients.updateTimeoutMs));
      if (back?.configName !== previous || back.status !== 'InService') {
        const serving = back && SERVING.has(back.status) ? `endpoint config ${back.configName}, which failed the smoke test, serves` : 'nothing serves';
        throw new DeployModelError('SAGEMAKER_ROLLBACK_FAILED',
          `The smoke test of ${configName} failed, and putting endpoint ${plan.endpointName} back on ${previous} did not succeed: it is ${back?.status ?? 'gone'} on ${back?.configName ?? '-'}${back?.failureReason ? ` (FailureReason: ${back.failureReason})` : ''}, so ${serving}. ` +
          `Fix: read why ${previous} could not start in ${plan.logGroupName} (\`aws logs tail ${plan.logGroupName} --region ${plan.region}\`), then put it back with \`aws sagemaker update-endpoint --endpoint-name ${plan.endpointName} --endpoint-config-name ${previous} --retain-deployment-config --region ${plan.region}\`, or deploy a version that passes its smoke test.`,
          { details: { ...candidate.details, previous, status: back?.status, serving: back?.configName, failureReason: back?.failureReason } });
      }
      ctx.io.info('DM_SAGEMAKER_ROLLED_BACK', `Endpoint ${plan.endpointName} serves ${previous} again`, { endpointConfigName: previous });
      // The report carries the candidate's details (a rollback returns no details of its own).
      if (candidate.details) candidate.details.rolledBackTo = previous;
      return 'removed';
    },

    /** The endpoint already served this config: only the smoke test's client goes. */
    async release(_ctx: SageMakerContext, candidate: Candidate<SageMakerCandidateState>): Promise<void> {
      candidate.state.runtime.destroy();
    },
  };
}

interface Staged extends Omit<SageMakerCandidateState, 'runtime'> {
  readonly modelName?: string;
  /** CloudFormation had nothing to change. */
  readonly noOp: boolean;
  /** The traffic steps of a canary or linear update, as DescribeEndpoint showed them. */
  readonly steps?: readonly SageMakerTrafficStep[];
  /** SageMaker rolled the canary or linear update back: why, and the rollback alarms its FailureReason names. */
  readonly rolledBack?: { readonly reason: string; readonly alarms: readonly string[] };
}

/**
 * A candidate SageMaker already took back during its traffic steps: the old config serves, and
 * the core reports the failed step without a smoke test.
 */
function rolledBackCandidate(ctx: SageMakerContext, staged: Staged, why: NonNullable<Staged['rolledBack']>, runtime: SageMakerRuntimeClient): Candidate<SageMakerCandidateState> {
  const { plan } = ctx;
  const steps = staged.steps ?? [];
  const failed = steps[steps.length - 1];
  const activating = steps.filter((s) => s.status === 'ActivatingTraffic').length;
  const total = plan.trafficRouting?.percents.length ?? activating;
  const name = !failed
    ? `SageMaker's traffic steps (${plan.trafficRouting?.type ?? 'blue/green'}; no step was seen between two polls)`
    : failed.status === 'Baking'
      ? `traffic step ${total} of ${total} (100 %, baking)`
      : `traffic step ${activating} of ${total} (${failed.percent ?? '?'} %)`;
  const alarm = why.alarms.length ? `rollback alarm ${why.alarms.join(', ')} went into ALARM` : 'SageMaker rolled the update back';
  const failure = { name, passed: false, message: `${alarm}; SageMaker moved all traffic back to endpoint config ${staged.previous}. FailureReason: ${why.reason}` };
  ctx.io.warn('DM_SAGEMAKER_TRAFFIC_ROLLED_BACK', `Endpoint ${plan.endpointName}: ${name}: ${failure.message}`, { endpointName: plan.endpointName, step: failed?.step, alarms: why.alarms, failureReason: why.reason, serving: staged.previous });
  return {
    endpoint: invocationsUrl(plan.region, plan.endpointName),
    version: staged.configName,
    client: sageMakerInferenceClient(runtime, plan.endpointName),
    ...(staged.previous ? { previous: staged.previous } : {}),
    state: { configName: staged.configName, runtime, ...(staged.previous ? { previous: staged.previous } : {}) },
    platformRollout: { steps, failure },
    details: {
      region: plan.region, stackName: plan.stackName, endpointName: plan.endpointName, endpointConfigName: staged.configName,
      logGroupName: plan.logGroupName, rolledBackTo: staged.previous, failureReason: why.reason, alarms: why.alarms,
    },
  };
}

/** Deploys the stack while watching the endpoint, then puts the endpoint on the stack's config if an earlier rollback left it elsewhere. */
async function deployAndReconcile(ctx: SageMakerContext, clients: SageMakerClients, assemblyDir: string): Promise<Staged> {
  const { io, plan } = ctx;
  const { control, pollMs, updateTimeoutMs } = clients;
  const before = await describeEndpoint(control, plan.endpointName, plan.region);
  const stackBefore = await describeStack({ stackName: plan.stackName, region: plan.region });
  const previous = before && before.status === 'InService' ? before.configName : undefined;

  const started = new Date();
  const watch = watchEndpoint(control, plan.endpointName, plan.region, io, pollMs, plan.trafficRouting?.percents);
  let outputs: Record<string, string>;
  let noOp: boolean;
  try {
    ({ outputs, noOp } = await deployStack({
      assemblyDir, stackName: plan.stackName, region: plan.region, io, timeoutMinutes: stackTimeoutMinutes(SAGEMAKER_STACK_TIMEOUT_MINUTES),
    }));
  } catch (e) {
    await watch.stop();
    if (isDeployModelError(e) && e.code === 'AWS_STACK_TIMEOUT') throw await endpointTimeout(ctx, clients, e);
    const rolledBack = await trafficRolledBack(ctx, clients, watch, previous, started);
    if (rolledBack) return { configName: watch.pendingConfig ?? '', noOp: false, steps: watch.steps, rolledBack, ...(previous ? { previous } : {}) };
    throw await endpointFailure(ctx, clients, e, watch.failureReason, started);
  }
  await watch.stop();

  const configName = outputs[OUTPUTS.endpointConfigName] ?? '';
  let live = await describeEndpoint(control, plan.endpointName, plan.region);
  if (!live) throw endpointMissing(plan);
  if (live.configName !== configName) {
    // An earlier smoke test rolled the endpoint back and the stack did not change since.
    io.info('DM_SAGEMAKER_RECONCILE', `Endpoint ${plan.endpointName} serves ${live.configName}, not the stack's ${configName} (an earlier smoke test failed): updating it to ${configName}`, { from: live.configName, to: configName });
    live = await switchEndpointConfig(control, plan.endpointName, configName, plan.region, io, pollMs, updateTimeoutMs);
    if (live?.configName !== configName) {
      throw new DeployModelError('SAGEMAKER_ENDPOINT_FAILED', failureMessage(plan, live?.failureReason, live), { details: { endpointName: plan.endpointName, failureReason: live?.failureReason, logGroup: plan.logGroupName } });
    }
  }
  const stackConfigBefore = stackBefore?.outputs[OUTPUTS.endpointConfigName];
  return {
    configName, noOp, modelName: outputs[OUTPUTS.modelName], steps: watch.steps,
    ...(previous ? { previous } : {}), ...(stackConfigBefore ? { stackConfigBefore } : {}),
  };
}

/**
 * After a failed stack deploy: did SageMaker roll a canary or linear update back once its traffic
 * steps began (an alarm of the AutoRollbackConfiguration fired), the old config serving again?
 * Undefined for any other failure (instances that never passed their health check take no traffic).
 */
async function trafficRolledBack(ctx: SageMakerContext, clients: SageMakerClients, watch: { steps: readonly SageMakerTrafficStep[]; failureReason: string | undefined }, previous: string | undefined, started: Date): Promise<Staged['rolledBack']> {
  const { plan } = ctx;
  if (!plan.trafficRouting || !previous) return undefined;
  const live = await describeEndpoint(clients.control, plan.endpointName, plan.region).catch(() => undefined);
  if (live?.status !== 'InService' || live.configName !== previous) return undefined;
  const reason = watch.failureReason ?? failureSince(live, started);
  if (!reason) return undefined;
  const alarms = (live.rollbackAlarms ?? []).filter((a) => reason.includes(a));
  // A step seen, or a FailureReason naming a rollback alarm (a step shorter than the polling interval).
  return watch.steps.length > 0 || alarms.length > 0 ? { reason, alarms } : undefined;
}

/** The stack deployed, yet SageMaker knows no endpoint by the name the stack gives it. */
function endpointMissing(plan: AwsSageMakerPlan): DeployModelError {
  const override = endpointOverride('SageMaker');
  const why = override
    ? `SageMaker calls go to ${override.url} (${override.variable}), not to AWS, and that endpoint may not support the EndpointName property of AWS::SageMaker::Endpoint (an emulator may name the endpoint itself). Fix: use an endpoint that honours it, or unset ${override.variable}.`
    : 'It was probably deleted outside deploy-model while the stack kept it. Fix: run `deploy-model destroy`, then deploy again.';
  return new DeployModelError('SAGEMAKER_ENDPOINT_MISSING',
    `Stack ${plan.stackName} in ${plan.region} deployed, but SageMaker has no endpoint ${plan.endpointName}, the EndpointName the stack gives it. ${why}`,
    { details: { stackName: plan.stackName, endpointName: plan.endpointName, region: plan.region, endpoint: override?.url } });
}

function failureMessage(plan: AwsSageMakerPlan, reason: string | undefined, live: EndpointSnapshot | undefined): string {
  const serving = live && SERVING.has(live.status)
    ? `Endpoint config ${live.configName} keeps serving.`
    : 'The endpoint is not serving.';
  return `SageMaker could not bring endpoint ${plan.endpointName} into service with the new configuration.\n` +
    `FailureReason: ${reason ?? '(none reported)'}\n` +
    `Read the container logs in CloudWatch log group ${plan.logGroupName} (\`aws logs tail ${plan.logGroupName} --region ${plan.region}\`); a TensorRT engine build that outlasts startupHealthCheckTimeoutSeconds also fails the ping health check.\n` +
    serving;
}

/**
 * A failed stack deploy that SageMaker explains (a FailureReason) becomes SAGEMAKER_ENDPOINT_FAILED
 * with that reason verbatim and the log group to read; any other failure is passed on.
 */
async function endpointFailure(ctx: SageMakerContext, clients: SageMakerClients, e: unknown, seenReason: string | undefined, started: Date): Promise<unknown> {
  const { plan } = ctx;
  const live = await describeEndpoint(clients.control, plan.endpointName, plan.region).catch(() => undefined);
  const quota = quotaExceeded(plan, e, live);
  if (quota) return quota;
  const reason = seenReason ?? failureSince(live, started);
  if (!reason) return e;
  ctx.io.error('DM_SAGEMAKER_ENDPOINT_FAILED', `Endpoint ${plan.endpointName}: ${reason}`, { endpointName: plan.endpointName, failureReason: reason, logGroupName: plan.logGroupName });
  const cloudFormation = e instanceof Error ? `\n\n${e.message}` : '';
  return new DeployModelError('SAGEMAKER_ENDPOINT_FAILED', `${failureMessage(plan, reason, live)}${cloudFormation}`, {
    cause: e, details: { endpointName: plan.endpointName, failureReason: reason, logGroupName: plan.logGroupName, serving: live?.configName },
  });
}

function serviceLine(live: EndpointSnapshot | undefined): string {
  return live && SERVING.has(live.status) ? `Endpoint config ${live.configName} keeps serving.` : 'The endpoint is not serving.';
}

/**
 * SageMaker refused the instances: ResourceLimitExceeded ("The account-level service limit
 * '<instance type> for endpoint usage' is N Instances..."), which CloudFormation reports as the
 * endpoint's handler error. Undefined for any other failure.
 */
function quotaExceeded(plan: AwsSageMakerPlan, e: unknown, live: EndpointSnapshot | undefined): DeployModelError | undefined {
  // toolkit-lib wraps long reasons over lines: read them as one.
  const text = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
  if (!/ResourceLimitExceeded|account-level service limit/.test(text)) return undefined;
  const quota = /service limit '([^']+)'/.exec(text)?.[1];
  const limit = /The account-level service limit[^"]*?(?=\.?" \(|\. Please|$)/.exec(text)?.[0];
  return new DeployModelError('SAGEMAKER_QUOTA_EXCEEDED',
    `SageMaker refused the instances of endpoint ${plan.endpointName}: ${limit ?? 'an account quota is used up (ResourceLimitExceeded)'}. CloudFormation rolled stack ${plan.stackName} back. ${serviceLine(live)}\n` +
    `Fix: ask for more in the Service Quotas console (Amazon SageMaker${quota ? `, quota '${quota}'` : ''}; \`aws service-quotas list-service-quotas --service-code sagemaker --region ${plan.region}\` lists them), or choose another instanceType, fewer instances (instanceCount, autoscaling.max) or another region.`,
    { cause: e, details: { endpointName: plan.endpointName, quota, instanceType: plan.instanceType, serving: live?.configName } });
}

/** The stack's operation on the endpoint outlived its timeout; it was left to go on. */
async function endpointTimeout(ctx: SageMakerContext, clients: SageMakerClients, e: DeployModelError): Promise<DeployModelError> {
  const { plan } = ctx;
  const live = await describeEndpoint(clients.control, plan.endpointName, plan.region).catch(() => undefined);
  const minutes = Number(e.details.timeoutMinutes);
  const waited = minutes >= 1 ? `${Math.round(minutes * 10) / 10} min` : `${Math.round(minutes * 600) / 10} s`;
  const serving = live && SERVING.has(live.status) ? `Endpoint config ${live.configName} serves while the endpoint is ${live.status}.` : 'The endpoint is not serving.';
  const next = e.details.cancelled
    ? 'deploy-model cancelled the stack update: once SageMaker ends the endpoint\'s update, CloudFormation puts the endpoint back on the configuration it served before, so the untested one does not stay.'
    : `deploy-model stopped waiting; CloudFormation's operation on stack ${plan.stackName} goes on (a first deploy cannot be cancelled).`;
  ctx.io.error('DM_SAGEMAKER_ENDPOINT_TIMEOUT', `Endpoint ${plan.endpointName}: still ${live?.status ?? 'not there'} after ${waited}`, { endpointName: plan.endpointName, status: live?.status });
  return new DeployModelError('SAGEMAKER_ENDPOINT_TIMEOUT',
    `Endpoint ${plan.endpointName} is still ${live?.status ?? 'not there'} after ${waited} (${STACK_TIMEOUT_ENV}, else ${SAGEMAKER_STACK_TIMEOUT_MINUTES} min for SageMaker). ${next} ${serving}\n` +
    `Fix: read the container logs (\`aws logs tail ${plan.logGroupName} --region ${plan.region}\`): instances that never start (no capacity, a model download that fails, a TensorRT build longer than startupHealthCheckTimeoutSeconds) keep an update going. \`deploy-model status\` shows when the stack settles; deploy again then. If this model only needs longer, raise ${STACK_TIMEOUT_ENV}.`,
    { cause: e, details: { endpointName: plan.endpointName, stackName: plan.stackName, status: live?.status, serving: live?.configName, timeoutMinutes: minutes, cancelled: e.details.cancelled } });
}
