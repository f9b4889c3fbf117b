import type { FakeContext } from './_context.js';
import {
  aliasConfiguration, functionArn, functionConfiguration, functionUrl, getFunction, newRevisionId, publishVersion, resolveQualifier,
} from './_lambda-store.js';
import { parseJsonBody, restJsonErrorReply, type AwsServiceModule, type ParsedCall } from './_service.js';
import { AwsError, headerValue, jsonReply, type WireReply, type WireRequest } from './_wire.js';

/** REST routes of the Lambda API the fake serves: [method, path pattern, action]. */
const ROUTES: Array<[string, RegExp, string]> = [
  ['POST', /^\/2015-03-31\/functions\/([^/]+)\/invocations$/, 'Invoke'],
  ['GET', /^\/2015-03-31\/functions\/?$/, 'ListFunctions'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)$/, 'GetFunction'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/configuration$/, 'GetFunctionConfiguration'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/aliases$/, 'ListAliases'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, 'GetAlias'],
  ['PUT', /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, 'UpdateAlias'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/versions$/, 'ListVersionsByFunction'],
  ['POST', /^\/2015-03-31\/functions\/([^/]+)\/versions$/, 'PublishVersion'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/policy$/, 'GetPolicy'],
  ['GET', /^\/2021-10-31\/functions\/([^/]+)\/url$/, 'GetFunctionUrlConfig'],
  ['GET', /^\/2019-09-30\/functions\/([^/]+)\/provisioned-concurrency$/, 'GetProvisionedConcurrencyConfig'],
];

type Params = Record<string, any>;
type Handler = (p: Params, req: WireRequest, ctx: FakeContext) => Promise<WireReply> | WireReply;

const ok = (value: unknown, status = 200): WireReply => jsonReply(status, value);

const HANDLERS: Record<string, Handler> = {
  Invoke: async (p, req, ctx) => {
    const { fn, qualifier } = getFunction(ctx, p.FunctionName);
    const target = resolveQualifier(ctx, fn, p.Qualifier ?? qualifier);
    const invocationType = headerValue(req.headers, 'x-amz-invocation-type') ?? 'RequestResponse';
    let event: unknown = {};
    if (req.body.length > 0) {
      try {
        event = JSON.parse(req.body.toString('utf8'));
      } catch (e) {
        throw new AwsError('InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`);
      }
    }
    if (invocationType === 'DryRun') return { status: 204 };
    const run = ctx.lambdaRuntime.invoke(fn.name, target.version, target.code, event);
    if (invocationType === 'Event') {
      run.catch(() => undefined);
      return { status: 202 };
    }
    const result = await run;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': target.version };
    if (result.functionError) headers['x-amz-function-error'] = result.functionError;
    if (headerValue(req.headers, 'x-amz-log-type') === 'Tail') {
      // Lambda returns the last 4 KB of the log.
      headers['x-amz-log-result'] = Buffer.from(result.logTail ?? '').subarray(-4096).toString('base64');
    }
    return { status: 200, headers, body: result.payload };
  },
  ListFunctions: (_p, _req, ctx) => ok({
    Functions: [...ctx.state.lambda.functions.values()].map((fn) => functionConfiguration(ctx, fn, '$LATEST', fn.latest)),
  }),
  GetFunction: (p, _req, ctx) => {
    const { fn, qualifier } = getFunction(ctx, p.FunctionName);
    const { version, code } = resolveQualifier(ctx, fn, p.Qualifier ?? qualifier);
    return ok({
      Configuration: functionConfiguration(ctx, fn, version, code),
      Code: { RepositoryType: 'S3', Location: `${ctx.endpoint}/lambda-code/${fn.name}/${version}` },
      Tags: fn.tags,
    });
  },
  GetFunctionConfiguration: (p, _req, ctx) => {
    const { fn, qualifier } = getFunction(ctx, p.FunctionName);
    const { version, code } = resolveQualifier(ctx, fn, p.Qualifier ?? qualifier);
    return ok(functionConfiguration(ctx, fn, version, code));
  },
  ListAliases: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    return ok({ Aliases: [...fn.aliases.values()].map((a) => aliasConfiguration(ctx, fn, a)) });
  },
  GetAlias: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    const alias = fn.aliases.get(p.Name);
    if (!alias) throw new AwsError('ResourceNotFoundException', `Alias not found: ${functionArn(ctx, fn.name, p.Name)}`, 404);
    return ok(aliasConfiguration(ctx, fn, alias));
  },
  UpdateAlias: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    const alias = fn.aliases.get(p.Name);
    if (!alias) throw new AwsError('ResourceNotFoundException', `Alias not found: ${functionArn(ctx, fn.name, p.Name)}`, 404);
    if (p.RevisionId && p.RevisionId !== alias.revisionId) {
      throw new AwsError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetAlias API to retrieve the latest Revision Id', 412);
    }
    if (p.FunctionVersion !== undefined) {
      resolveQualifier(ctx, fn, p.FunctionVersion);
      alias.functionVersion = String(p.FunctionVersion);
    }
    if (p.Description !== undefined) alias.description = String(p.Description);
    if (p.RoutingConfig !== undefined) alias.routingConfig = p.RoutingConfig;
    alias.revisionId = newRevisionId();
    return ok(aliasConfiguration(ctx, fn, alias));
  },
  ListVersionsByFunction: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    const versions = [['$LATEST', fn.latest] as const, ...fn.versions.entries()];
    return ok({ Versions: versions.map(([v, code]) => functionConfiguration(ctx, fn, v, code)) });
  },
  PublishVersion: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    if (p.CodeSha256 && p.CodeSha256 !== fn.latest.sha256) {
      throw new AwsError('InvalidParameterValueException', `CodeSHA256 (${p.CodeSha256}) is different from current CodeSHA256 in $LATEST (${fn.latest.sha256}). Please try again with the CodeSHA256 in $LATEST.`);
    }
    const version = publishVersion(fn, p.Description);
    return ok(functionConfiguration(ctx, fn, version, fn.versions.get(version)!), 201);
  },
  GetPolicy: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    if (fn.permissions.size === 0) throw new AwsError('ResourceNotFoundException', 'The resource you requested does not exist.', 404);
    const statements = [...fn.permissions.entries()].map(([sid, perm]) => ({
      Sid: sid, Effect: 'Allow', Action: perm.Action, Resource: fn.arn,
      Principal: perm.Principal === '*' ? '*' : { Service: perm.Principal },
    }));
    return ok({ Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements }), RevisionId: newRevisionId() });
  },
  GetFunctionUrlConfig: (p, _req, ctx) => {
    const { fn, qualifier } = getFunction(ctx, p.FunctionName);
    const config = fn.urls.get(p.Qualifier ?? qualifier ?? '');
    if (!config) throw new AwsError('ResourceNotFoundException', 'The resource you requested does not exist.', 404);
    return ok({
      FunctionUrl: functionUrl(ctx, config.urlId),
      FunctionArn: functionArn(ctx, fn.name, config.qualifier),
      AuthType: config.authType,
      Cors: config.cors,
      CreationTime: config.created.toISOString(),
      LastModifiedTime: config.created.toISOString(),
      InvokeMode: config.invokeMode,
    });
  },
  GetProvisionedConcurrencyConfig: (p, _req, ctx) => {
    const { fn } = getFunction(ctx, p.FunctionName);
    const requested = fn.aliases.get(p.Qualifier ?? '')?.provisionedConcurrency;
    if (requested === undefined) {
      throw new AwsError('ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function', 404);
    }
    return ok({
      RequestedProvisionedConcurrentExecutions: requested, AvailableProvisionedConcurrentExecutions: requested,
      AllocatedProvisionedConcurrentExecutions: requested, Status: 'READY', LastModified: new Date().toISOString(),
    });
  },
};

/** Lambda control and invoke API (REST-JSON; errors carry the code in `x-amzn-errortype`). */
export const lambda: AwsServiceModule = {
  name: 'lambda',
  signingNames: ['lambda'],
  claims: (req) => /^\/20\d\d-\d\d-\d\d\/(functions|layers)/.test(req.path),
  parse(req): ParsedCall {
    for (const [method, pattern, action] of ROUTES) {
      const match = method === req.method ? pattern.exec(req.rawPath) : null;
      if (!match) continue;
      const params: Params = { ...Object.fromEntries(req.query) };
      if (match[1]) params.FunctionName = decodeURIComponent(match[1]);
      if (match[2]) params.Name = decodeURIComponent(match[2]);
      if (action === 'Invoke') {
        params.InvocationType = headerValue(req.headers, 'x-amz-invocation-type') ?? 'RequestResponse';
        params.LogType = headerValue(req.headers, 'x-amz-log-type');
        params.PayloadSize = req.body.length;
      } else if (req.body.length > 0) {
        Object.assign(params, parseJsonBody(req));
      }
      return { action, params };
    }
    return { action: `Unknown ${req.method} ${req.path}`, params: {} };
  },
  async handle(call, req, ctx) {
    const handler = HANDLERS[call.action];
    if (!handler) throw new AwsError('UnknownOperationException', `The fake does not implement Lambda ${call.action}`, 404);
    return handler(call.params, req, ctx);
  },
  errorReply: restJsonErrorReply,
  throttlingError: () => new AwsError('TooManyRequestsException', 'Rate exceeded', 429, { Reason: 'CallerRateLimitExceeded' }),
};
