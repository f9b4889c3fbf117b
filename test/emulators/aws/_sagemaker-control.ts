import type { FakeContext } from './_context.js';
import { sageMakerArn } from './_sagemaker-endpoints.js';
import { sageMakerFake, type FakeProductionVariant } from './_sagemaker-store.js';
import { AwsError } from './_wire.js';

export type Params = Record<string, any>;

export const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new AwsError('ValidationException', `1 validation error detected: Value '${String(name)}' at '${what}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`);
  }
  return name;
}

/** SageMaker's control plane operations a deploy uses. */
export function createModel(ctx: FakeContext, p: Params): string {
  const sm = sageMakerFake(ctx.state);
  const name = checkName('modelName', p.ModelName);
  if (sm.models.has(name)) throw new AwsError('ValidationException', `Cannot create already existing model "${sageMakerArn(ctx, 'model', name)}".`);
  const container = (p.PrimaryContainer ?? p.Containers?.[0]) as Params | undefined;
  if (!container?.Image) throw new AwsError('ValidationException', 'PrimaryContainer.Image is required.');
  const role = String(p.ExecutionRoleArn ?? '');
  if (![...ctx.state.iam.roles.values()].some((r) => r.arn === role)) {
    throw new AwsError('ValidationException', `Could not assume role ${role}. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.`);
  }
  const url = /^s3:\/\/([^/]+)\/(.+)$/.exec(String(container.ModelDataUrl ?? ''));
  if (container.ModelDataUrl !== undefined && !(url && ctx.state.s3.get(url[1]!)?.has(url[2]!))) {
    throw new AwsError('ValidationException', `Could not find model data at ${String(container.ModelDataUrl)}.`);
  }
  sm.models.set(name, {
    name,
    arn: sageMakerArn(ctx, 'model', name),
    image: String(container.Image),
    modelDataUrl: String(container.ModelDataUrl ?? ''),
    environment: { ...(container.Environment ?? {}) },
    executionRoleArn: role,
    networkIsolation: p.EnableNetworkIsolation === true || p.EnableNetworkIsolation === 'true',
    vpcConfig: p.VpcConfig,
    created: new Date(),
  });
  return sageMakerArn(ctx, 'model', name);
}

export function createEndpointConfig(ctx: FakeContext, p: Params): string {
  const sm = sageMakerFake(ctx.state);
  const name = checkName('endpointConfigName', p.EndpointConfigName);
  if (sm.endpointConfigs.has(name)) throw new AwsError('ValidationException', `Cannot create already existing endpoint configuration "${sageMakerArn(ctx, 'endpoint-config', name)}".`);
  const variants = (p.ProductionVariants ?? []) as FakeProductionVariant[];
  if (variants.length === 0) throw new AwsError('ValidationException', 'ProductionVariants must hold at least one variant.');
  for (const v of variants) {
    if (!sm.models.has(v.ModelName)) throw new AwsError('ValidationException', `Could not find model "${sageMakerArn(ctx, 'model', v.ModelName)}".`);
    if (!/^ml\./.test(String(v.InstanceType))) throw new AwsError('ValidationException', `Value '${v.InstanceType}' at 'productionVariants.1.member.instanceType' failed to satisfy constraint.`);
  }
  sm.endpointConfigs.set(name, {
    name, arn: sageMakerArn(ctx, 'endpoint-config', name), created: new Date(),
    variants: variants.map((v) => ({ ...v, InitialInstanceCount: Number(v.InitialInstanceCount ?? 1) })),
  });
  return sageMakerArn(ctx, 'endpoint-config', name);
}

export function deleteModel(ctx: FakeContext, name: string): void {
  if (!sageMakerFake(ctx.state).models.delete(name)) throw new AwsError('ValidationException', `Could not find model "${sageMakerArn(ctx, 'model', name)}".`);
}

export function deleteEndpointConfig(ctx: FakeContext, name: string): void {
  if (!sageMakerFake(ctx.state).endpointConfigs.delete(name)) {
    throw new AwsError('ValidationException', `Could not find endpoint configuration "${sageMakerArn(ctx, 'endpoint-config', name)}".`);
  }
}

