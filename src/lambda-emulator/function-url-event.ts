/**
 * The two translations a Lambda Function URL makes: an HTTP request into a payload format 2.0
 * event, and the function's result back into an HTTP response. Pure, so tests compare values.
 */

export interface HttpRequestLike {
  method: string;
  /** Path and query as received, e.g. `/predict?x=1`. */
  url: string;
  /** Node's header map: names lower-cased, repeated headers already joined. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp: string;
  /** `HTTP/1.1` */
  protocol: string;
}

export interface FunctionUrlEventContext {
  apiId: string;
  requestId: string;
  time: Date;
  /** Port the client connected to, for x-forwarded-port. */
  port: number;
  traceId: string;
  /**
   * The caller of an AWS_IAM Function URL: the event then carries its account and
   * `requestContext.authorizer.iam`, as Lambda fills them from the signed request.
   * @default - a NONE (public) URL: `accountId` is `anonymous` and there is no authorizer
   */
  iam?: IamCaller;
}

/** `requestContext.authorizer.iam` of an AWS_IAM Function URL's event. */
export interface IamCaller {
  accessKey: string;
  accountId: string;
  callerId: string;
  cognitoIdentity: null;
  /** Null unless the caller's account belongs to an AWS Organization, as Lambda sends it. */
  principalOrgId: string | null;
  userArn: string;
  userId: string;
}

export interface FunctionUrlEvent {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    /** `anonymous` for a NONE URL; the caller's account for an AWS_IAM one. */
    accountId: string;
    apiId: string;
    authorizer?: { iam: IamCaller };
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

export interface HttpResponseLike {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Function URLs pass text bodies as they are and base64-encode everything else. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type.startsWith('text/')
    || type === 'application/json' || type.endsWith('+json')
    || type === 'application/xml' || type.endsWith('+xml')
    || type === 'application/javascript';
}

export function toFunctionUrlEvent(req: HttpRequestLike, ctx: FunctionUrlEventContext): FunctionUrlEvent {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : req.url.slice(q + 1);

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(',') : value;
    if (name === 'cookie') cookies = joined.split(';').map((c) => c.trim()).filter(Boolean);
    else headers[name] = joined;
  }
  headers['x-forwarded-for'] ??= req.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(ctx.port);
  headers['x-amzn-trace-id'] ??= ctx.traceId;

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString !== '') {
    queryStringParameters = {};
    for (const [k, v] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
    }
  }

  const domainName = headers.host ?? `${ctx.apiId}.lambda-url.local`;
  const event: FunctionUrlEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: ctx.iam ? ctx.iam.accountId : 'anonymous',
      apiId: ctx.apiId,
      ...(ctx.iam ? { authorizer: { iam: ctx.iam } } : {}),
      domainName,
      domainPrefix: ctx.apiId,
      http: { method: req.method, path: rawPath, protocol: req.protocol, sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(ctx.time),
      timeEpoch: ctx.time.getTime(),
    },
    isBase64Encoded: false,
  };
  if (req.body.length > 0) {
    const text = isTextContentType(headers['content-type']);
    event.body = text ? req.body.toString('utf8') : req.body.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

/**
 * The caller identity of a request to an AWS_IAM URL. Lambda takes it from the verified SigV4
 * signature; locally the signature is not verified (there is no IAM to check it against), so the
 * access key is read from the `Authorization` header when the request is signed, and the rest is
 * a stand-in user of the function's own account.
 */
export function iamCaller(headers: Record<string, string | string[] | undefined>, accountId: string): IamCaller {
  const auth = headers.authorization;
  const signed = /Credential=([A-Z0-9]{16,128})\//.exec(Array.isArray(auth) ? auth[0] : auth ?? '');
  const userId = 'AIDALOCALCALLER000000';
  return {
    accessKey: signed?.[1] ?? 'AKIALOCALCALLER00000',
    accountId,
    callerId: userId,
    cognitoIdentity: null,
    principalOrgId: null,
    userArn: `arn:aws:iam::${accountId}:user/local-caller`,
    userId,
  };
}

const INTERNAL_ERROR: HttpResponseLike = {
  statusCode: 502,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message: 'Internal Server Error' })),
};

/**
 * A result with `statusCode` is a response document; any other JSON is sent as a 200
 * application/json body, verbatim; a function error becomes a 502.
 */
export function toFunctionUrlResponse(result: { rawPayload: Buffer; functionError?: string }): HttpResponseLike {
  if (result.functionError) return INTERNAL_ERROR;
  let doc: unknown;
  try {
    doc = JSON.parse(result.rawPayload.toString('utf8'));
  } catch {
    return INTERNAL_ERROR;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !('statusCode' in doc)) {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: result.rawPayload };
  }
  const r = doc as { statusCode: unknown; headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: unknown; cookies?: unknown };
  const statusCode = Number(r.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return INTERNAL_ERROR;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
  }
  headers['content-type'] ??= 'application/json';
  if (Array.isArray(r.cookies) && r.cookies.length > 0) headers['set-cookie'] = r.cookies.map(String);
  let body: Buffer;
  if (r.body === undefined || r.body === null) body = Buffer.alloc(0);
  else if (typeof r.body === 'string') body = r.isBase64Encoded === true ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8');
  else body = Buffer.from(JSON.stringify(r.body), 'utf8');
  return { statusCode, headers, body };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the time format of the event's requestContext. */
export function clfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
