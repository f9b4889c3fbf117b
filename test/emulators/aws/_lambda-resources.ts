import { randomBytes } from 'node:crypto';
import { zipSync } from 'fflate';
import type { FakeContext } from './_context.js';
import {
  functionArn, functionUrl, getFunction, newRevisionId, parseFunctionName, publishVersion, sha256Base64,
} from './_lambda-store.js';
import { generatedName, type ProvisionRequest, type ResourceProvisioner } from './cfn-resources.js';
import type { LambdaCode, LambdaFunction } from './state.js';
import { imageCode } from './_lambda-images.js';

/** Reads a deployment package the way CloudFormation does, with Lambda's error wording. */
function readS3Code(ctx: FakeContext, location: Record<string, unknown> | undefined, what: string): Buffer {
  const bucket = String(location?.S3Bucket ?? '');
  const key = String(location?.S3Key ?? '');
  const objects = ctx.state.s3.get(bucket);
  if (!objects) throw new Error(`Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist (${what} s3://${bucket}/${key})`);
  const object = objects.get(key);
  if (!object) throw new Error(`Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist. (${what} s3://${bucket}/${key})`);
  return object.body;
}

async function codeFromProperties(req: ProvisionRequest): Promise<LambdaCode> {
  const p = req.properties;
  if (!p.Role) throw new Error('Properties validation failed for resource ' + req.logicalId + ' with message: #: required key [Role] not found');
  const code = p.Code as Record<string, unknown> | undefined;
  const image = code?.ImageUri !== undefined ? await imageFunction(req, String(code.ImageUri)) : undefined;
  // Inline code (`ZipFile`) is how CloudFormation writes `index.js`; the runner reads zips, so zip it.
  const zip = image ? image.zip : code?.ZipFile !== undefined ? inlineZip(String(code.ZipFile)) : readS3Code(req.ctx, code, 'Code');
  return {
    zip,
    sha256: image ? image.sha256 : sha256Base64(zip),
    handler: image ? image.handler : String(p.Handler ?? 'index.handler'),
    runtime: String(p.Runtime ?? ''),
    ...(image ? { image: { uri: image.uri, optZip: image.optZip, env: image.env } } : {}),
    env: ((p.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {}) as Record<string, string>,
    memoryMb: Number(p.MemorySize ?? 128),
    timeoutSeconds: Number(p.Timeout ?? 3),
    layers: ((p.Layers as string[] | undefined) ?? []).map(String),
    architectures: ((p.Architectures as string[] | undefined) ?? ['x86_64']).map(String),
    role: String(p.Role),
    description: String(p.Description ?? ''),
    lastModified: new Date(),
  };
}

/**
 * An image function, with the rules of CreateFunction
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html): PackageType Image with
 * ImageUri, no Runtime, Handler or Layers (those come from the image), the image in ECR.
 */
async function imageFunction(req: ProvisionRequest, uri: string) {
  const p = req.properties;
  if (p.PackageType !== 'Image') throw new Error(`Resource handler returned message: "Please set PackageType to Image when providing ImageUri." (Service: Lambda, Status Code: 400)`);
  if (p.Runtime !== undefined || p.Handler !== undefined) throw new Error('Resource handler returned message: "Runtime and Handler are not supported for functions with PackageType Image; set them in the image (ENTRYPOINT, CMD) or ImageConfig." (Service: Lambda, Status Code: 400)');
  if (Array.isArray(p.Layers) && p.Layers.length > 0) throw new Error('Resource handler returned message: "Layers are not supported for functions with PackageType Image." (Service: Lambda, Status Code: 400)');
  const command = (p.ImageConfig as { Command?: string[] } | undefined)?.Command;
  try {
    return await imageCode(req.ctx, uri, command);
  } catch (e) {
    throw new Error(`Resource handler returned message: "${(e as Error).message}" (Service: Lambda, Status Code: 400, HandlerErrorCode: InvalidRequest)`);
  }
}

function inlineZip(source: string): Buffer {
  return Buffer.from(zipSync({ 'index.js': Buffer.from(source) }, { mtime: new Date('1980-01-01T00:00:00Z') }));
}

const lambdaFunction: ResourceProvisioner = {
  replaceOn: ['FunctionName', 'PackageType'],
  async create(req) {
    const { ctx, properties, stack, logicalId } = req;
    const name = (properties.FunctionName as string | undefined) ?? generatedName(stack.name, logicalId, 64);
    if (ctx.state.lambda.functions.has(name)) throw new Error(`${name} already exists`);
    const fn: LambdaFunction = {
      name,
      arn: functionArn(ctx, name),
      latest: await codeFromProperties(req),
      versions: new Map(),
      nextVersion: 1,
      aliases: new Map(),
      urls: new Map(),
      permissions: new Map(),
      tags: Object.fromEntries(((properties.Tags as Array<{ Key: string; Value: string }> | undefined) ?? []).map((t) => [t.Key, t.Value])),
    };
    ctx.state.lambda.functions.set(name, fn);
    return { physicalId: name, attributes: { Arn: fn.arn } };
  },
  async update(req, previous) {
    const { fn } = getFunction(req.ctx, previous.physicalId);
    fn.latest = await codeFromProperties(req);
    await req.ctx.lambdaRuntime.stopFunction(fn.name, '$LATEST');
    return previous;
  },
  async delete({ ctx }, existing) {
    ctx.state.lambda.functions.delete(existing.physicalId);
    await ctx.lambdaRuntime.stopFunction(existing.physicalId);
  },
};

const lambdaVersion: ResourceProvisioner = {
  replaceOn: '*',
  async create({ ctx, properties }) {
    const { fn } = getFunction(ctx, String(properties.FunctionName));
    if (properties.CodeSha256 && properties.CodeSha256 !== fn.latest.sha256) {
      throw new Error(`CodeSha256 ${properties.CodeSha256} does not match the function's code (${fn.latest.sha256})`);
    }
    const version = publishVersion(fn, properties.Description as string | undefined);
    return { physicalId: functionArn(ctx, fn.name, version), attributes: { Version: version, FunctionArn: fn.arn } };
  },
  async delete({ ctx }, existing) {
    const { name, qualifier } = parseFunctionName(existing.physicalId);
    const fn = ctx.state.lambda.functions.get(name);
    if (!fn || !qualifier) return;
    fn.versions.delete(qualifier);
    await ctx.lambdaRuntime.stopFunction(name, qualifier);
  },
};

function checkVersion(fn: LambdaFunction, version: string): void {
  if (version !== '$LATEST' && !fn.versions.has(version)) {
    throw new Error(`Function not found: ${fn.arn}:${version} (Service: Lambda, Status Code: 404, Request ID: ${newRevisionId()})`);
  }
}

function provisionedConcurrency(properties: Record<string, unknown>): number | undefined {
  const config = properties.ProvisionedConcurrencyConfig as { ProvisionedConcurrentExecutions?: number | string } | undefined;
  return config?.ProvisionedConcurrentExecutions === undefined ? undefined : Number(config.ProvisionedConcurrentExecutions);
}

/**
 * CloudFormation's `AWS::Lambda::Alias` RoutingConfig (`AdditionalVersionWeights: [{ FunctionVersion,
 * FunctionWeight }]`) in the API's shape (`{ AdditionalVersionWeights: { version: weight } }`), with
 * the API's rules: published versions only, weights in [0, 1], one additional version.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-lambda-alias-aliasroutingconfiguration.html
 */
function routingConfigOf(fn: Parameters<typeof checkVersion>[0], raw: unknown): { AdditionalVersionWeights?: Record<string, number> } | undefined {
  const list = (raw as { AdditionalVersionWeights?: Array<{ FunctionVersion?: unknown; FunctionWeight?: unknown }> } | undefined)?.AdditionalVersionWeights;
  if (!list) return undefined;
  if (list.length > 1) throw new Error('RoutingConfig: only one additional version is supported');
  const weights: Record<string, number> = {};
  for (const entry of list) {
    const version = String(entry.FunctionVersion);
    const weight = Number(entry.FunctionWeight);
    checkVersion(fn, version);
    if (!(weight >= 0 && weight <= 1)) throw new Error(`RoutingConfig: FunctionWeight ${String(entry.FunctionWeight)} is not in [0.0, 1.0]`);
    weights[version] = weight;
  }
  return { AdditionalVersionWeights: weights };
}

const lambdaAlias: ResourceProvisioner = {
  replaceOn: ['Name', 'FunctionName'],
  async create({ ctx, properties }) {
    const { fn } = getFunction(ctx, String(properties.FunctionName));
    const version = String(properties.FunctionVersion);
    checkVersion(fn, version);
    const name = String(properties.Name);
    if (fn.aliases.has(name)) throw new Error(`Alias already exists: ${fn.arn}:${name}`);
    fn.aliases.set(name, {
      name,
      functionVersion: version,
      description: String(properties.Description ?? ''),
      routingConfig: routingConfigOf(fn, properties.RoutingConfig),
      provisionedConcurrency: provisionedConcurrency(properties),
      revisionId: newRevisionId(),
    });
    const aliasArn = functionArn(ctx, fn.name, name);
    return { physicalId: aliasArn, attributes: { AliasArn: aliasArn } };
  },
  async update({ ctx, properties }, previous) {
    const { fn } = getFunction(ctx, String(properties.FunctionName));
    const version = String(properties.FunctionVersion);
    checkVersion(fn, version);
    const alias = fn.aliases.get(String(properties.Name));
    if (!alias) throw new Error(`Alias not found: ${previous.physicalId}`);
    alias.functionVersion = version;
    alias.description = String(properties.Description ?? '');
    alias.routingConfig = routingConfigOf(fn, properties.RoutingConfig);
    alias.provisionedConcurrency = provisionedConcurrency(properties);
    alias.revisionId = newRevisionId();
    return previous;
  },
  async delete({ ctx }, existing) {
    const { name, qualifier } = parseFunctionName(existing.physicalId);
    ctx.state.lambda.functions.get(name)?.aliases.delete(qualifier ?? '');
  },
};

const lambdaUrl: ResourceProvisioner = {
  replaceOn: ['TargetFunctionArn', 'Qualifier'],
  async create({ ctx, properties }) {
    const target = parseFunctionName(String(properties.TargetFunctionArn));
    const { fn } = getFunction(ctx, target.name);
    const qualifier = (properties.Qualifier as string | undefined) ?? target.qualifier;
    if (qualifier && !fn.aliases.has(qualifier) && qualifier !== '$LATEST') {
      throw new Error(`Function URLs need an alias or the unqualified function; ${qualifier} is neither`);
    }
    const urlId = randomBytes(16).toString('hex');
    fn.urls.set(qualifier ?? '', {
      urlId,
      qualifier,
      authType: properties.AuthType === 'NONE' ? 'NONE' : 'AWS_IAM',
      cors: properties.Cors,
      invokeMode: properties.InvokeMode === 'RESPONSE_STREAM' ? 'RESPONSE_STREAM' : 'BUFFERED',
      created: new Date(),
    });
    const targetArn = functionArn(ctx, fn.name, qualifier);
    return { physicalId: targetArn, attributes: { FunctionArn: targetArn, FunctionUrl: functionUrl(ctx, urlId) } };
  },
  async update({ ctx, properties }, previous) {
    const target = parseFunctionName(String(properties.TargetFunctionArn));
    const { fn } = getFunction(ctx, target.name);
    const config = fn.urls.get((properties.Qualifier as string | undefined) ?? target.qualifier ?? '');
    if (config) {
      config.authType = properties.AuthType === 'NONE' ? 'NONE' : 'AWS_IAM';
      config.cors = properties.Cors;
    }
    return previous;
  },
  async delete({ ctx }, existing) {
    const { name, qualifier } = parseFunctionName(existing.physicalId);
    ctx.state.lambda.functions.get(name)?.urls.delete(qualifier ?? '');
  },
};

const lambdaPermission: ResourceProvisioner = {
  replaceOn: '*',
  async create({ ctx, properties, stack, logicalId }) {
    const id = generatedName(stack.name, logicalId, 100);
    const { name } = parseFunctionName(String(properties.FunctionName));
    ctx.state.lambda.functions.get(name)?.permissions.set(id, properties);
    return { physicalId: id };
  },
  async delete({ ctx, properties }, existing) {
    const { name } = parseFunctionName(String(properties.FunctionName));
    ctx.state.lambda.functions.get(name)?.permissions.delete(existing.physicalId);
  },
};

const lambdaLayerVersion: ResourceProvisioner = {
  replaceOn: '*',
  async create({ ctx, properties, stack, logicalId }) {
    const zip = readS3Code(ctx, properties.Content as Record<string, unknown>, 'Content');
    const name = (properties.LayerName as string | undefined) ?? generatedName(stack.name, logicalId, 140).replace(/-/g, '');
    const versions = ctx.state.lambda.layers.get(name) ?? [];
    ctx.state.lambda.layers.set(name, versions);
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const layerArn = `arn:aws:lambda:${ctx.region}:${ctx.accountId}:layer:${name}:${version}`;
    versions.push({
      arn: layerArn, name, version, zip, sha256: sha256Base64(zip),
      compatibleRuntimes: ((properties.CompatibleRuntimes as string[] | undefined) ?? []).map(String),
    });
    return { physicalId: layerArn, attributes: { LayerVersionArn: layerArn } };
  },
  async delete({ ctx }, existing) {
    const [name, version] = existing.physicalId.split(':layer:')[1]?.split(':') ?? [];
    const versions = ctx.state.lambda.layers.get(name ?? '');
    if (versions) ctx.state.lambda.layers.set(name!, versions.filter((v) => String(v.version) !== version));
  },
};

export function lambdaProvisioners(): Array<[string, ResourceProvisioner]> {
  return [
    ['AWS::Lambda::Function', lambdaFunction],
    ['AWS::Lambda::Version', lambdaVersion],
    ['AWS::Lambda::Alias', lambdaAlias],
    ['AWS::Lambda::Url', lambdaUrl],
    ['AWS::Lambda::Permission', lambdaPermission],
    ['AWS::Lambda::LayerVersion', lambdaLayerVersion],
  ];
}
