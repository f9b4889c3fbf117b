import type { FakeContext } from './_context.js';
import { sageMakerArn } from './_sagemaker-endpoints.js';
import { sageMakerFake, type FakeModelDataSource, type FakeProductionVariant } from './_sagemaker-store.js';
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
  const modelDataSource = checkModelDataSource(ctx, container);
  sm.models.set(name, {
    name,
    arn: sageMakerArn(ctx, 'model', name),
    image: String(container.Image),
    modelDataUrl: String(container.ModelDataUrl ?? ''),
    ...(modelDataSource ? { modelDataSource } : {}),
    environment: { ...(container.Environment ?? {}) },
    executionRoleArn: role,
    networkIsolation: p.EnableNetworkIsolation === true || p.EnableNetworkIsolation === 'true',
    vpcConfig: p.VpcConfig,
    created: new Date(),
  });
  return sageMakerArn(ctx, 'model', name);
}

/**
 * PrimaryContainer.ModelDataSource.S3DataSource as SageMaker checks it (botocore
 * data/sagemaker/2017-07-24/service-2.json, shape S3ModelDataSource): S3Uri, S3DataType
 * (S3Prefix | S3Object) and CompressionType (None | Gzip) are required; "A valid key name prefix
 * identified by S3Uri always ends with a forward slash (/)"; Gzip names a tar.gz object, so it goes
 * with S3Object only; ModelDataUrl and ModelDataSource exclude each other. The data must exist.
 */
function checkModelDataSource(ctx: FakeContext, container: Params): FakeModelDataSource | undefined {
  const source = (container.ModelDataSource as Params | undefined)?.S3DataSource as Params | undefined;
  if (container.ModelDataSource === undefined) return undefined;
  if (container.ModelDataUrl !== undefined) throw new AwsError('ValidationException', 'ModelDataUrl and ModelDataSource cannot both be specified for a container.');
  if (!source) throw new AwsError('ValidationException', 'ModelDataSource must specify S3DataSource.');
  for (const field of ['S3Uri', 'S3DataType', 'CompressionType']) {
    if (source[field] === undefined) throw new AwsError('ValidationException', `1 validation error detected: Value null at 'primaryContainer.modelDataSource.s3DataSource.${field[0]!.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  const uri = String(source.S3Uri);
  const type = String(source.S3DataType);
  const compression = String(source.CompressionType);
  if (!['S3Prefix', 'S3Object'].includes(type)) throw new AwsError('ValidationException', `Value '${type}' at 'primaryContainer.modelDataSource.s3DataSource.s3DataType' failed to satisfy constraint: Member must satisfy enum value set: [S3Prefix, S3Object]`);
  if (!['None', 'Gzip'].includes(compression)) throw new AwsError('ValidationException', `Value '${compression}' at 'primaryContainer.modelDataSource.s3DataSource.compressionType' failed to satisfy constraint: Member must satisfy enum value set: [None, Gzip]`);
  if (compression === 'Gzip' && type !== 'S3Object') throw new AwsError('ValidationException', 'CompressionType Gzip is supported only with S3DataType S3Object.');
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new AwsError('ValidationException', `S3Uri ${uri} is not a valid S3 URI.`);
  const [, bucket, key] = m as unknown as [string, string, string];
  if (type === 'S3Prefix' && !uri.endsWith('/')) throw new AwsError('ValidationException', `S3Uri ${uri} of S3DataType S3Prefix must end with a forward slash (/).`);
  const objects = ctx.state.s3.get(bucket);
  const found = type === 'S3Prefix' ? [...(objects?.keys() ?? [])].some((k) => k.startsWith(key)) : objects?.has(key);
  if (!found) throw new AwsError('ValidationException', `Could not find model data at ${uri}.`);
  return { s3Uri: uri, s3DataType: type as FakeModelDataSource['s3DataType'], compressionType: compression as FakeModelDataSource['compressionType'] };
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

