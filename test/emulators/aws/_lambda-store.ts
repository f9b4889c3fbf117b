import { createHash, randomBytes } from 'node:crypto';
import type { FakeContext } from './_context.js';
import { AwsError } from './_wire.js';
import type { LambdaAlias, LambdaCode, LambdaFunction } from './state.js';

/** `name`, `name:qualifier`, a full or partial function ARN, with or without a qualifier. */
export function parseFunctionName(value: string): { name: string; qualifier?: string } {
  const arnMatch = /^(?:arn:[^:]+:lambda:[^:]+:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9_-]+)(?::([A-Za-z0-9_$-]+))?$/.exec(value);
  if (!arnMatch) return { name: value };
  return { name: arnMatch[1]!, qualifier: arnMatch[2] };
}

export function functionArn(ctx: FakeContext, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
}

export function getFunction(ctx: FakeContext, nameOrArn: string): { fn: LambdaFunction; qualifier?: string } {
  const { name, qualifier } = parseFunctionName(nameOrArn);
  const fn = ctx.state.lambda.functions.get(name);
  if (!fn) throw new AwsError('ResourceNotFoundException', `Function not found: ${functionArn(ctx, name, qualifier)}`, 404);
  return { fn, qualifier };
}

/** The version a qualifier (version number, alias or `$LATEST`) points at. */
export function resolveQualifier(ctx: FakeContext, fn: LambdaFunction, qualifier?: string): { version: string; code: LambdaCode; alias?: LambdaAlias } {
  if (!qualifier || qualifier === '$LATEST') return { version: '$LATEST', code: fn.latest };
  const published = fn.versions.get(qualifier);
  if (published) return { version: qualifier, code: published };
  const alias = fn.aliases.get(qualifier);
  if (alias) {
    // Weighted alias routing: each request goes to an additional version with its weight's probability.
    let version = alias.functionVersion;
    let draw = Math.random();
    for (const [extra, weight] of Object.entries(alias.routingConfig?.AdditionalVersionWeights ?? {})) {
      if (draw < weight) {
        version = extra;
        break;
      }
      draw -= weight;
    }
    const target = resolveQualifier(ctx, fn, version);
    return { ...target, alias };
  }
  throw new AwsError('ResourceNotFoundException', `Function not found: ${functionArn(ctx, fn.name, qualifier)}`, 404);
}

export function sha256Base64(data: Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}

/**
 * PublishVersion: snapshots `$LATEST`. Like Lambda, publishing unchanged code and configuration
 * answers the last published version instead of a new number.
 */
export function publishVersion(fn: LambdaFunction, description?: string): string {
  const last = fn.nextVersion > 1 ? fn.versions.get(String(fn.nextVersion - 1)) : undefined;
  const snapshot: LambdaCode = { ...fn.latest, description: description ?? fn.latest.description };
  if (last && sameCode(last, snapshot)) return String(fn.nextVersion - 1);
  const version = String(fn.nextVersion++);
  fn.versions.set(version, snapshot);
  return version;
}

function sameCode(a: LambdaCode, b: LambdaCode): boolean {
  return (
    a.sha256 === b.sha256 && a.handler === b.handler && a.runtime === b.runtime && a.memoryMb === b.memoryMb &&
    a.timeoutSeconds === b.timeoutSeconds && JSON.stringify(a.env) === JSON.stringify(b.env) &&
    a.layers.join() === b.layers.join() && a.description === b.description
  );
}

export function newRevisionId(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The `FunctionConfiguration` shape of GetFunction, ListVersionsByFunction and friends. */
export function functionConfiguration(ctx: FakeContext, fn: LambdaFunction, version: string, code: LambdaCode): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    FunctionArn: functionArn(ctx, fn.name, version === '$LATEST' ? undefined : version),
    Runtime: code.runtime,
    Role: code.role,
    Handler: code.handler,
    CodeSize: code.zip.length,
    Description: code.description,
    Timeout: code.timeoutSeconds,
    MemorySize: code.memoryMb,
    LastModified: code.lastModified.toISOString().replace('Z', '+0000'),
    CodeSha256: code.sha256,
    Version: version,
    Environment: { Variables: code.env },
    Layers: code.layers.map((arn) => ({ Arn: arn })),
    Architectures: code.architectures,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: code.image ? 'Image' : 'Zip',
    ...(code.image ? { ImageConfigResponse: {} } : {}),
    RevisionId: newRevisionId(),
  };
}

export function aliasConfiguration(ctx: FakeContext, fn: LambdaFunction, alias: LambdaAlias): Record<string, unknown> {
  return {
    AliasArn: functionArn(ctx, fn.name, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    RoutingConfig: alias.routingConfig,
    RevisionId: alias.revisionId,
  };
}

export function functionUrl(ctx: FakeContext, urlId: string): string {
  return `${ctx.endpoint}/lambda-url/${urlId}/`;
}
