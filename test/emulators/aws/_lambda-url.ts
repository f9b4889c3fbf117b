import type { FakeContext } from './_context.js';
import { resolveQualifier } from './_lambda-store.js';
import type { AwsServiceModule, ParsedCall } from './_service.js';
import { AwsError, headerValue, jsonReply, type WireReply, type WireRequest } from './_wire.js';
import type { LambdaFunction, LambdaUrlConfig } from './state.js';

const PREFIX = '/lambda-url/';

function findUrl(ctx: FakeContext, urlId: string): { fn: LambdaFunction; config: LambdaUrlConfig } | undefined {
  for (const fn of ctx.state.lambda.functions.values()) {
    for (const config of fn.urls.values()) if (config.urlId === urlId) return { fn, config };
  }
  return undefined;
}

const TEXT = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript))/;

/** The payload format 2.0 event Lambda builds for a Function URL request. */
function urlEvent(ctx: FakeContext, req: WireRequest, urlId: string, rawPath: string): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'cookie') headers[k] = Array.isArray(v) ? v.join(',') : v;
  const contentType = headerValue(req.headers, 'content-type') ?? '';
  const isText = TEXT.test(contentType);
  const now = new Date();
  const query = Object.fromEntries(req.query);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: req.rawQuery,
    cookies: headerValue(req.headers, 'cookie')?.split(/;\s*/),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: req.scope ? ctx.accountId : 'anonymous',
      apiId: urlId,
      domainName: `${urlId}.lambda-url.${ctx.region}.on.aws`,
      domainPrefix: urlId,
      http: { method: req.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: req.requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(req.scope ? { authorizer: { iam: { accessKey: req.scope.accessKeyId, accountId: ctx.accountId } } } : {}),
    },
    body: req.body.length > 0 ? req.body.toString(isText ? 'utf8' : 'base64') : undefined,
    isBase64Encoded: req.body.length > 0 && !isText,
  };
}

/** Turns the handler's answer into the HTTP response, inferring one when there is no `statusCode`. */
function urlResponse(payload: Buffer): WireReply {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: payload };
  }
  if (value && typeof value === 'object' && 'statusCode' in value) {
    const r = value as { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; cookies?: string[] };
    const headers: Record<string, string> = { 'content-type': 'application/json', ...r.headers };
    if (r.cookies?.length) headers['set-cookie'] = r.cookies.join(', ');
    const body = r.body === undefined ? '' : r.isBase64Encoded ? Buffer.from(r.body, 'base64') : r.body;
    return { status: r.statusCode, headers, body };
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: typeof value === 'string' ? value : JSON.stringify(value) };
}

/**
 * Function URLs at `<endpoint>/lambda-url/<url id>/<path>`. With `AuthType: AWS_IAM` a request
 * without a SigV4 signature for service `lambda` is refused with 403, like the real service
 * (the signature itself is not verified).
 */
export const lambdaUrl: AwsServiceModule = {
  name: 'lambda-url',
  signingNames: [],
  claims: (req) => req.path.startsWith(PREFIX),
  parse(req): ParsedCall {
    const [urlId = '', ...rest] = req.rawPath.slice(PREFIX.length).split('/');
    return { action: 'InvokeFunctionUrl', params: { UrlId: urlId, Path: `/${rest.join('/')}`, Method: req.method } };
  },
  async handle(call, req, ctx) {
    const urlId = String(call.params.UrlId);
    const found = findUrl(ctx, urlId);
    if (!found) throw new AwsError('ResourceNotFoundException', 'Forbidden', 403);
    if (found.config.authType === 'AWS_IAM' && req.scope?.service !== 'lambda') {
      throw new AwsError('AccessDeniedException', 'Forbidden', 403);
    }
    const target = resolveQualifier(ctx, found.fn, found.config.qualifier);
    const event = urlEvent(ctx, req, urlId, String(call.params.Path));
    const result = await ctx.lambdaRuntime.invoke(found.fn.name, target.version, target.code, event);
    if (result.functionError) return jsonReply(502, { Message: 'Internal Server Error' }, { 'x-amzn-errortype': 'InternalServerErrorException' });
    return urlResponse(result.payload);
  },
  errorReply: (error, req) => jsonReply(error.status, { Message: error.message }, { 'x-amzn-errortype': error.code, 'x-amzn-requestid': req.requestId }),
  throttlingError: () => new AwsError('TooManyRequestsException', 'Rate Exceeded.', 429),
};
