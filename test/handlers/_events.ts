/** Lambda events shaped like the ones AWS sends (copied from real Function URL and API Gateway events). */

export interface HttpEventInput {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  isBase64Encoded?: boolean;
  stage?: string;
}

/** A Lambda Function URL event (payload format 2.0; HTTP APIs send the same shape). */
export function functionUrlEvent(input: HttpEventInput): Record<string, unknown> {
  const stage = input.stage ?? '$default';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: input.path,
    rawQueryString: '',
    headers: {
      'x-amzn-tls-cipher-suite': 'TLS_AES_128_GCM_SHA256',
      'x-amzn-tls-version': 'TLSv1.3',
      'x-amzn-trace-id': 'Root=1-6650a1b2-3c5d7e9f0a1b2c3d4e5f6a7b',
      'x-forwarded-proto': 'https',
      host: 'abcdefghijklmnopqrstuvwxyz0123.lambda-url.eu-west-1.on.aws',
      'x-forwarded-port': '443',
      'x-forwarded-for': '203.0.113.7',
      accept: '*/*',
      'user-agent': 'curl/8.5.0',
      ...(input.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(input.body.length) } : {}),
      ...input.headers,
    },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz0123',
      domainName: 'abcdefghijklmnopqrstuvwxyz0123.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz0123',
      http: {
        method: input.method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8.5.0',
      },
      requestId: '8f1e6c2a-6c1f-4d1e-9a43-2b4c5d6e7f80',
      routeKey: '$default',
      stage,
      time: '29/Nov/2026:04:16:52 +0000',
      timeEpoch: 1795925812000,
    },
    ...(input.body !== undefined ? { body: input.body } : {}),
    isBase64Encoded: input.isBase64Encoded ?? false,
  };
}

/** An API Gateway REST API proxy event (payload format 1.0). */
export function restApiEvent(input: HttpEventInput): Record<string, unknown> {
  const headers = {
    Accept: '*/*',
    Host: 'abc123defg.execute-api.eu-west-1.amazonaws.com',
    'User-Agent': 'curl/8.5.0',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...(input.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...input.headers,
  };
  return {
    resource: '/{proxy+}',
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: input.path.slice(1) },
    stageVariables: null,
    requestContext: {
      resourceId: 'a1b2c3',
      resourcePath: '/{proxy+}',
      httpMethod: input.method,
      extendedRequestId: 'Xyz12AbcDEFg=',
      requestTime: '29/Nov/2026:04:16:52 +0000',
      path: `/prod${input.path}`,
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage: 'prod',
      domainPrefix: 'abc123defg',
      requestTimeEpoch: 1795925812000,
      requestId: '5e1c1a7b-8f3e-4c2d-9b1a-0c9d8e7f6a5b',
      identity: { sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      domainName: 'abc123defg.execute-api.eu-west-1.amazonaws.com',
      apiId: 'abc123defg',
    },
    body: input.body ?? null,
    isBase64Encoded: input.isBase64Encoded ?? false,
  };
}
