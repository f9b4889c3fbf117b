/** The aws-sagemaker driver: a CDK stack deployed through toolkit-lib, followed and explained with the SageMaker API, smoke-tested with InvokeEndpoint. */
import { statSync } from 'node:fs';
import { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS as OUTPUTS } from '../../../infra/outputs.js';
import { DeployModelError } from '../../errors.js';
import { describeStack } from '../../kits/aws/describe-stack.js';
import { destroyStack } from '../../kits/aws/destroy-stack.js';
import { endpointOverride } from '../../kits/aws/endpoint-override.js';
import { sageMakerNames, type SageMakerNames } from '../../kits/sagemaker/names.js';
import type { BuildResult, TargetDriver, TargetStatus } from '../driver.js';
import { withSageMakerClients, sageMakerClients, type SageMakerConnectionOptions } from './_clients.js';
import { describeEndpoint, retireConfigs, SERVING, type EndpointSnapshot } from './_endpoint-state.js';
import type { SageMakerArtifacts, SageMakerContext } from './build.js';
import type { AwsSageMakerPlan } from './plan.js';
import { invocationsUrl, sageMakerInferenceClient } from './runtime-client.js';
import type { AwsSageMakerTargetConfig } from './schema.js';

type Ctx = SageMakerContext;

// Build, synth, the rollout and diff load aws-cdk-lib and toolkit-lib; status, smoke and invoke do not.
const buildModule = () => import('./build.js');
const synthModule = () => import('./synth.js');
const rolloutModule = () => import('./rollout.js');

/**
 * The names and region of the deployment, from the plan. connect, status and destroy also run for
 * a config the planner refused (the toolkit then gives the base plan); the names come from the
 * config alone, so they are derived from it there.
 */
function deployed(ctx: Ctx): SageMakerNames & { region: string } {
  const plan = ctx.plan as Partial<AwsSageMakerPlan>;
  if (plan.stackName && plan.endpointName && plan.tritonModel && plan.logGroupName && plan.region) {
    return { stackName: plan.stackName, endpointName: plan.endpointName, tritonModel: plan.tritonModel, logGroupName: plan.logGroupName, region: plan.region };
  }
  return { ...sageMakerNames(ctx.config.name, ctx.loaded.stage, ctx.targetName), region: ctx.target.region };
}

function stateOf(endpoint: EndpointSnapshot): TargetStatus['state'] {
  if (endpoint.status === 'Creating') return 'creating';
  if (SERVING.has(endpoint.status)) return 'running';
  if (endpoint.status === 'Failed') return 'failed';
  return 'stopped';
}

function notDeployed(ctx: Ctx, endpoint?: EndpointSnapshot): DeployModelError {
  const names = deployed(ctx);
  const why = endpoint ? `endpoint ${names.endpointName} is ${endpoint.status}${endpoint.failureReason ? ` (${endpoint.failureReason})` : ''}` : `there is no endpoint ${names.endpointName} in ${names.region}`;
  return new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) is not serving: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\`${endpoint ? ', or `deploy-model status` to follow it' : ''}.`,
    { details: { target: ctx.targetName, endpointName: names.endpointName, status: endpoint?.status } });
}

/**
 * The `aws-sagemaker` driver: a CDK stack deployed through toolkit-lib, followed and explained
 * with the SageMaker API, smoke-tested with InvokeEndpoint. `options` choose the SDK client
 * configuration and polling; the registered driver uses the defaults and environment variables.
 */
export function createAwsSageMakerDriver(options: SageMakerConnectionOptions = {}): TargetDriver<AwsSageMakerTargetConfig, AwsSageMakerPlan> {
  const hooks = async () => (await rolloutModule()).sageMakerRollout(options);
  return {
    /** Writes the Triton model repository and the reproducible model.tar.gz SageMaker serves. */
    async build(ctx: Ctx) {
      return (await buildModule()).buildSageMakerArtifacts(ctx);
    },

    /** Writes `cdk.out/<stack>` with no credentials and no network call. */
    async synth(ctx: Ctx, build: BuildResult) {
      const { synthChecked, sageMakerStackArtifacts } = await synthModule();
      const result = synthChecked({ plan: ctx.plan, artifacts: sageMakerStackArtifacts(build.outputs as SageMakerArtifacts), rootDir: ctx.loaded.rootDir, io: ctx.io });
      return { artifacts: [{ kind: `CloudFormation template (${result.stackName})`, file: result.templateFile, bytes: statSync(result.templateFile).size }] };
    },

    rollout: {
      stage: async (ctx: Ctx, build) => (await hooks()).stage(ctx, build),
      promote: async (ctx: Ctx, candidate) => (await hooks()).promote(ctx, candidate),
      rollback: async (ctx: Ctx, candidate) => (await hooks()).rollback(ctx, candidate),
      release: async (ctx: Ctx, candidate) => (await hooks()).release!(ctx, candidate),
    },

    /** Puts the endpoint back on the config promote kept (the endpoint's tag names it). */
    async restorePrevious(ctx: Ctx) {
      return (await import('./restore-previous.js')).restoreSageMakerPrevious(ctx, options);
    },

    async diff(ctx: Ctx, build: BuildResult) {
      return (await import('./diff.js')).diffSageMaker(ctx, build);
    },

    async connect(ctx: Ctx) {
      const names = deployed(ctx);
      const clients = sageMakerClients(names.region, options);
      const endpoint = await describeEndpoint(clients.control, names.endpointName, names.region).catch((e) => { clients.close(); throw e; });
      if (!endpoint || !SERVING.has(endpoint.status)) {
        clients.close();
        throw notDeployed(ctx, endpoint);
      }
      // The runtime client serves the caller's requests; its sockets are released with the process.
      return {
        endpoint: invocationsUrl(names.region, names.endpointName),
        version: endpoint.configName,
        client: sageMakerInferenceClient(clients.runtime, names.endpointName),
        details: { endpointName: names.endpointName, status: endpoint.status },
      };
    },

    async *logs(ctx: Ctx, logsOptions) { yield* (await import('./logs.js')).sageMakerLogs(ctx, deployed(ctx), logsOptions); },

    async status(ctx: Ctx): Promise<TargetStatus> {
      const names = deployed(ctx);
      return withSageMakerClients(names.region, options, async (clients) => {
        const [endpoint, stack] = await Promise.all([
          describeEndpoint(clients.control, names.endpointName, names.region),
          describeStack({ stackName: names.stackName, region: names.region }),
        ]);
        const stackDetails = stack ? { stackName: names.stackName, stackStatus: stack.status, stackEndpointConfig: stack.outputs[OUTPUTS.endpointConfigName] } : {};
        if (!endpoint) {
          if (stack && /_COMPLETE$/.test(stack.status) && !stack.status.startsWith('DELETE') && !stack.status.includes('ROLLBACK')) {
            // The stack says it made the endpoint, yet SageMaker has none by that name.
            const override = endpointOverride('SageMaker');
            return {
              state: 'stale', details: {
                endpointName: names.endpointName, ...stackDetails,
                problem: `stack ${names.stackName} is ${stack.status}, but SageMaker has no endpoint ${names.endpointName}: ${override ? `calls go to ${override.url} (${override.variable}), which may name endpoints itself` : 'it was deleted outside deploy-model; run destroy, then deploy'}`,
              },
            };
          }
          const state = stack?.status.endsWith('_IN_PROGRESS') ? 'creating' : 'not-deployed';
          return { state, details: { endpointName: names.endpointName, ...stackDetails } };
        }
        const rolledBack = stack?.outputs[OUTPUTS.endpointConfigName] !== undefined && stack.outputs[OUTPUTS.endpointConfigName] !== endpoint.configName && endpoint.status === 'InService';
        return {
          state: stateOf(endpoint),
          endpoint: invocationsUrl(names.region, names.endpointName),
          version: endpoint.configName,
          details: {
            endpointName: names.endpointName, endpointStatus: endpoint.status, failureReason: endpoint.failureReason, instances: endpoint.instances,
            logGroupName: names.logGroupName, ...stackDetails, ...(rolledBack ? { rolledBack: true } : {}),
          },
        };
      });
    },

    /**
     * Deletes the stack (endpoint, configs, model, role, log group, alarms, autoscaling), then the
     * endpoint configs outside the stack: one a rollback left serving, and the one kept for rollback.
     */
    async destroy(ctx: Ctx) {
      const names = deployed(ctx);
      return withSageMakerClients(names.region, options, async (clients) => {
        const [endpoint, stack] = await Promise.all([
          describeEndpoint(clients.control, names.endpointName, names.region),
          describeStack({ stackName: names.stackName, region: names.region }),
        ]);
        const kept = await (await import('./restore-previous.js')).previousConfigOf(clients.control, endpoint?.arn).catch(() => undefined);
        const { removed } = await destroyStack({ stackName: names.stackName, region: names.region, io: ctx.io, pollingIntervalMs: options.pollingIntervalMs });
        const stackConfig = stack?.outputs[OUTPUTS.endpointConfigName];
        // What the stack does not own: a config a rollback left serving, and the one kept for rollback.
        const outside = [endpoint && endpoint.configName !== stackConfig ? endpoint.configName : '', kept && kept !== stackConfig ? kept : ''];
        if (stackConfig && outside.some(Boolean)) await retireConfigs(clients.control, outside, stackConfig, names.region, ctx.io);
        return { removed };
      });
    },
  };
}

export const awsSageMakerDriver = createAwsSageMakerDriver();
