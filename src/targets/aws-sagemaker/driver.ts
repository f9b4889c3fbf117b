import { statSync } from 'node:fs';
import path from 'node:path';
import type { ConfigProblem } from '../../config/format-issues.js';
import { DeployModelError } from '../../errors.js';
import { describeStack, destroyStack } from '../../kits/aws/index.js';
import { endpointOverride } from '../../kits/aws/endpoint-override.js';
import type { TargetContext, LegacyTargetDriver, TargetStatus } from '../driver.js';
import { engineCacheLocation, planTritonConfig } from '../../kits/triton/index.js';
import { TRITON_SAGEMAKER_ENDPOINT_OUTPUTS as OUTPUTS } from '../../../infra/triton-sagemaker-endpoint.js';
import { withSageMakerClients, sageMakerClients, type SageMakerConnectionOptions } from './_clients.js';
import { describeEndpoint, retireConfigs, SERVING, type EndpointSnapshot } from './_endpoint-state.js';
import { buildSageMakerArtifacts } from './build-sagemaker-artifacts.js';
import { deploySageMaker, namesOf, synthForDeploy } from './deploy-sagemaker.js';
import { invocationsUrl, sageMakerInferenceClient } from './runtime-client.js';
import type { AwsSageMakerTargetConfig } from './schema.js';

type Ctx = TargetContext<AwsSageMakerTargetConfig>;

function stateOf(endpoint: EndpointSnapshot): TargetStatus['state'] {
  if (endpoint.status === 'Creating') return 'creating';
  if (SERVING.has(endpoint.status)) return 'running';
  if (endpoint.status === 'Failed') return 'failed';
  return 'stopped';
}

function notDeployed(ctx: Ctx, endpoint?: EndpointSnapshot): DeployModelError {
  const names = namesOf(ctx);
  const why = endpoint ? `endpoint ${names.endpointName} is ${endpoint.status}${endpoint.failureReason ? ` (${endpoint.failureReason})` : ''}` : `there is no endpoint ${names.endpointName} in ${ctx.target.region}`;
  return new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) is not serving: ${why}. Run \`deploy-model deploy --target ${ctx.targetName}\`${endpoint ? ', or `deploy-model status` to follow it' : ''}.`,
    { details: { target: ctx.targetName, endpointName: names.endpointName, status: endpoint?.status } });
}

/**
 * The `aws-sagemaker` driver: a CDK stack deployed through toolkit-lib, followed and explained
 * with the SageMaker API, smoke-tested with InvokeEndpoint. `options` choose the SDK client
 * configuration and polling; the registered driver uses the defaults and environment variables.
 */
export function createAwsSageMakerDriver(options: SageMakerConnectionOptions = {}): LegacyTargetDriver<AwsSageMakerTargetConfig> {
  return {
    type: 'aws-sagemaker',

    async validate(ctx: Ctx): Promise<ConfigProblem[]> {
      try {
        const modelName = namesOf(ctx).tritonModel;
        planTritonConfig({ signature: ctx.signature, modelName, host: 'aws-sagemaker', batching: ctx.config.model.batching, inputShapes: ctx.config.model.inputs, options: ctx.target });
        if (ctx.target.engine === 'tensorrt') engineCacheLocation('aws-sagemaker', modelName, ctx.target);
        return [];
      } catch (e) {
        if (!(e instanceof DeployModelError)) throw e;
        return [{ path: `targets.${ctx.targetName}`, value: ctx.target.engine, rule: e.message, fix: 'change the model options or the Triton options as the message says' }];
      }
    },

    /** Writes the Triton model repository and the reproducible model.tar.gz SageMaker serves. */
    async build(ctx: Ctx) {
      const a = await buildSageMakerArtifacts({
        signature: ctx.signature, model: ctx.config.model, runtime: ctx.config.runtime, target: ctx.target, tritonModel: namesOf(ctx).tritonModel,
        workDir: ctx.workDir, rootDir: ctx.loaded.rootDir, io: ctx.io,
      });
      return {
        artifacts: [
          { kind: 'model.tar.gz', file: a.archive.file, bytes: a.archive.bytes, sha256: a.archive.sha256 },
          ...a.repository.files.map((f) => {
            const file = path.join(a.repository.root, ...f.split('/'));
            return { kind: 'triton-repository', file, bytes: statSync(file).size };
          }),
        ],
      };
    },

    async synth(ctx: Ctx) {
      const { synth } = await synthForDeploy(ctx);
      return { artifacts: [{ kind: `CloudFormation template (${synth.stackName})`, file: synth.templateFile, bytes: statSync(synth.templateFile).size }] };
    },

    async deploy(ctx: Ctx, smoke) {
      return withSageMakerClients(ctx.target.region, options, (clients) => deploySageMaker(ctx, clients, smoke));
    },

    async connect(ctx: Ctx) {
      const names = namesOf(ctx);
      const clients = sageMakerClients(ctx.target.region, options);
      const endpoint = await describeEndpoint(clients.control, names.endpointName, ctx.target.region).catch((e) => { clients.close(); throw e; });
      if (!endpoint || !SERVING.has(endpoint.status)) {
        clients.close();
        throw notDeployed(ctx, endpoint);
      }
      // The runtime client serves the caller's requests; its sockets are released with the process.
      return {
        endpoint: invocationsUrl(ctx.target.region, names.endpointName),
        version: endpoint.configName,
        client: sageMakerInferenceClient(clients.runtime, names.endpointName),
        details: { endpointName: names.endpointName, status: endpoint.status },
      };
    },

    async status(ctx: Ctx): Promise<TargetStatus> {
      const names = namesOf(ctx);
      return withSageMakerClients(ctx.target.region, options, async (clients) => {
        const [endpoint, stack] = await Promise.all([
          describeEndpoint(clients.control, names.endpointName, ctx.target.region),
          describeStack({ stackName: names.stackName, region: ctx.target.region }),
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
          endpoint: invocationsUrl(ctx.target.region, names.endpointName),
          version: endpoint.configName,
          details: {
            endpointName: names.endpointName, endpointStatus: endpoint.status, failureReason: endpoint.failureReason, instances: endpoint.instances,
            logGroupName: names.logGroupName, ...stackDetails, ...(rolledBack ? { rolledBack: true } : {}),
          },
        };
      });
    },

    /**
     * Deletes the stack (endpoint, configs, model, role, log group, alarm, autoscaling), then an
     * endpoint config a smoke-test rollback left outside the stack.
     */
    async destroy(ctx: Ctx) {
      const names = namesOf(ctx);
      return withSageMakerClients(ctx.target.region, options, async (clients) => {
        const [endpoint, stack] = await Promise.all([
          describeEndpoint(clients.control, names.endpointName, ctx.target.region),
          describeStack({ stackName: names.stackName, region: ctx.target.region }),
        ]);
        const { removed } = await destroyStack({ stackName: names.stackName, region: ctx.target.region, io: ctx.io, pollingIntervalMs: options.pollingIntervalMs });
        const stackConfig = stack?.outputs[OUTPUTS.endpointConfigName];
        if (endpoint && stackConfig && endpoint.configName !== stackConfig) {
          await retireConfigs(clients.control, [endpoint.configName], stackConfig, ctx.target.region, ctx.io);
        }
        return { removed };
      });
    },
  };
}

export const awsSageMakerDriver = createAwsSageMakerDriver();
