import type { FakeContext } from './_context.js';
import { createEndpoint, deleteEndpoint, getEndpoint, updateEndpoint } from './_sagemaker-endpoints.js';
import { sageMakerFake } from './_sagemaker-store.js';
import { generatedName, type ProvisionRequest, type ResourceProvisioner } from './cfn-resources.js';
import { createEndpointConfig, createModel, deleteEndpointConfig, deleteModel } from './_sagemaker-control.js';
import { AwsError } from './_wire.js';

/** CloudFormation's generated SageMaker names: letters, digits and hyphens, at most 63. */
function nameFor(req: ProvisionRequest, property: string): string {
  return (req.properties[property] as string | undefined) ?? generatedName(req.stack.name, req.logicalId, 63).replace(/[^a-zA-Z0-9-]/g, '');
}

/** CloudFormation reports a failed SageMaker call with the service's message. */
function handlerError(e: unknown): Error {
  return new Error(e instanceof AwsError ? `Resource handler returned message: "${e.message}" (Service: SageMaker, Status Code: 400, Error Code: ${e.code})` : String((e as Error).message ?? e));
}

function ignoreMissing(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof AwsError && /Could not find/.test(e.message))) throw e;
  }
}

const model: ResourceProvisioner = {
  // Every property of AWS::SageMaker::Model requires replacement.
  replaceOn: '*',
  async create(req) {
    const name = nameFor(req, 'ModelName');
    try {
      return { physicalId: createModel(req.ctx, { ...req.properties, ModelName: name }), attributes: { ModelName: name } };
    } catch (e) {
      throw handlerError(e);
    }
  },
  async delete({ ctx }, existing) {
    ignoreMissing(() => deleteModel(ctx, String(existing.attributes.ModelName)));
  },
};

const endpointConfig: ResourceProvisioner = {
  replaceOn: '*',
  async create(req) {
    const name = nameFor(req, 'EndpointConfigName');
    try {
      return { physicalId: createEndpointConfig(req.ctx, { ...req.properties, EndpointConfigName: name }), attributes: { EndpointConfigName: name } };
    } catch (e) {
      throw handlerError(e);
    }
  },
  async delete({ ctx }, existing) {
    ignoreMissing(() => deleteEndpointConfig(ctx, String(existing.attributes.EndpointConfigName)));
  },
};

/** Waits for the endpoint's operation and fails the resource as CloudFormation does when it ends badly. */
async function settle(ctx: FakeContext, name: string, verb: 'create' | 'update'): Promise<void> {
  const endpoint = getEndpoint(ctx, name);
  const before = endpoint.configName;
  await endpoint.operation;
  if (endpoint.status === 'Failed' || (verb === 'update' && endpoint.failureReason)) {
    const reason = endpoint.failureReason ?? 'unknown';
    if (verb === 'create') {
      // CloudFormation deletes an endpoint it failed to create, in the rollback; SageMaker shows
      // it Failed for a while first.
      const sm = sageMakerFake(ctx.state);
      await new Promise((r) => setTimeout(r, sm.transitionMs));
      if (sm.endpoints.get(name) === endpoint && endpoint.status === 'Failed') {
        deleteEndpoint(ctx, name);
        await endpoint.operation;
      }
    }
    throw new Error(`Resource handler returned message: "Endpoint ${endpoint.arn} ${verb === 'create' ? 'failed' : `update to ${before} failed and was rolled back`}: ${reason}" (HandlerErrorCode: GeneralServiceException)`);
  }
}

const endpoint: ResourceProvisioner = {
  replaceOn: ['EndpointName'],
  async create(req) {
    const name = nameFor(req, 'EndpointName');
    try {
      createEndpoint(req.ctx, name, String(req.properties.EndpointConfigName), req.properties.DeploymentConfig);
    } catch (e) {
      throw handlerError(e);
    }
    await settle(req.ctx, name, 'create');
    return { physicalId: getEndpoint(req.ctx, name).arn, attributes: { EndpointName: name } };
  },
  async update(req, previous) {
    const name = String(previous.attributes.EndpointName);
    const live = getEndpoint(req.ctx, name);
    const wanted = String(req.properties.EndpointConfigName);
    // A rollback asks for the configuration SageMaker already went back to.
    if (live.configName === wanted && live.status === 'InService') return previous;
    try {
      updateEndpoint(req.ctx, name, wanted, req.properties.DeploymentConfig);
    } catch (e) {
      throw handlerError(e);
    }
    await settle(req.ctx, name, 'update');
    return previous;
  },
  async delete({ ctx }, existing) {
    const name = String(existing.attributes.EndpointName);
    const sm = sageMakerFake(ctx.state);
    const found = sm.endpoints.get(name);
    if (!found) return;
    await found.operation;
    if (!sm.endpoints.has(name)) return;
    if (found.status !== 'Deleting') deleteEndpoint(ctx, name);
    await found.operation;
  },
};

/** `endpoint/<name>/variant/<variant>` must name a variant of an endpoint that exists. */
function checkScalableResource(ctx: FakeContext, resourceId: string): void {
  const m = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(resourceId);
  const found = m ? sageMakerFake(ctx.state).endpoints.get(m[1]!) : undefined;
  const config = found ? sageMakerFake(ctx.state).endpointConfigs.get(found.configName) : undefined;
  if (!m || !config?.variants.some((v) => v.VariantName === m[2])) {
    throw new Error(`Resource handler returned message: "The SageMaker endpoint variant ${resourceId} does not exist." (Service: ApplicationAutoScaling, Status Code: 400, Error Code: ValidationException)`);
  }
}

const scalableTarget: ResourceProvisioner = {
  replaceOn: ['ResourceId', 'ScalableDimension', 'ServiceNamespace'],
  async create({ ctx, properties }) {
    const resourceId = String(properties.ResourceId);
    if (properties.ServiceNamespace === 'sagemaker') checkScalableResource(ctx, resourceId);
    const physicalId = `${resourceId}|${properties.ScalableDimension}|${properties.ServiceNamespace}`;
    sageMakerFake(ctx.state).scalableTargets.set(physicalId, {
      resourceId, scalableDimension: String(properties.ScalableDimension), minCapacity: Number(properties.MinCapacity), maxCapacity: Number(properties.MaxCapacity),
    });
    return { physicalId };
  },
  async update({ ctx, properties }, previous) {
    const target = sageMakerFake(ctx.state).scalableTargets.get(previous.physicalId);
    if (target) Object.assign(target, { minCapacity: Number(properties.MinCapacity), maxCapacity: Number(properties.MaxCapacity) });
    return previous;
  },
  async delete({ ctx }, existing) {
    sageMakerFake(ctx.state).scalableTargets.delete(existing.physicalId);
  },
};

const scalingPolicy: ResourceProvisioner = {
  replaceOn: ['PolicyName', 'ScalingTargetId', 'ResourceId', 'ScalableDimension', 'ServiceNamespace'],
  async create({ ctx, properties }) {
    const sm = sageMakerFake(ctx.state);
    const target = sm.scalableTargets.get(String(properties.ScalingTargetId));
    if (!target) throw new Error(`Resource handler returned message: "No scalable target registered for ${String(properties.ScalingTargetId)}" (Service: ApplicationAutoScaling, Status Code: 400, Error Code: ObjectNotFoundException)`);
    const name = String(properties.PolicyName);
    const arn = `arn:aws:autoscaling:${ctx.region}:${ctx.accountId}:scalingPolicy:${name}:resource/sagemaker/${target.resourceId}:policyName/${name}`;
    sm.scalingPolicies.set(arn, { name, resourceId: target.resourceId, configuration: properties.TargetTrackingScalingPolicyConfiguration });
    return { physicalId: arn, attributes: { Arn: arn } };
  },
  async update({ ctx, properties }, previous) {
    const policy = sageMakerFake(ctx.state).scalingPolicies.get(previous.physicalId);
    if (policy) policy.configuration = properties.TargetTrackingScalingPolicyConfiguration;
    return previous;
  },
  async delete({ ctx }, existing) {
    sageMakerFake(ctx.state).scalingPolicies.delete(existing.physicalId);
  },
};

/**
 * AWS::CloudWatch::Alarm: kept by name (what `Ref` returns), so that an endpoint update's
 * AutoRollbackConfiguration can evaluate it (see _sagemaker-traffic.ts).
 */
const alarm: ResourceProvisioner = {
  replaceOn: ['AlarmName'],
  async create(req) {
    const name = (req.properties.AlarmName as string | undefined) ?? generatedName(req.stack.name, req.logicalId, 255);
    sageMakerFake(req.ctx.state).alarms.set(name, { name, properties: req.properties });
    return { physicalId: name, attributes: { Arn: `arn:aws:cloudwatch:${req.ctx.region}:${req.ctx.accountId}:alarm:${name}` } };
  },
  async update(req, previous) {
    sageMakerFake(req.ctx.state).alarms.set(previous.physicalId, { name: previous.physicalId, properties: req.properties });
    return previous;
  },
  async delete({ ctx }, existing) {
    sageMakerFake(ctx.state).alarms.delete(existing.physicalId);
    sageMakerFake(ctx.state).alarmStates.delete(existing.physicalId);
  },
};

/**
 * CloudFormation provisioners for what the SageMaker target deploys (models, endpoint configs,
 * endpoints, Application Auto Scaling, the rollback alarms); part of `defaultProvisioners()`.
 */
export function sageMakerProvisioners(): Record<string, ResourceProvisioner> {
  return {
    'AWS::SageMaker::Model': model,
    'AWS::SageMaker::EndpointConfig': endpointConfig,
    'AWS::SageMaker::Endpoint': endpoint,
    'AWS::ApplicationAutoScaling::ScalableTarget': scalableTarget,
    'AWS::ApplicationAutoScaling::ScalingPolicy': scalingPolicy,
    'AWS::CloudWatch::Alarm': alarm,
  };
}
