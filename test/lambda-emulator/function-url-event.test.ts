import { LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas/lambda';
import type { LambdaFunctionURLEvent, LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { clfTime, iamCaller, isTextContentType, toFunctionUrlEvent, toFunctionUrlResponse, type FunctionUrlEvent } from '../../src/lambda-emulator/function-url-event.js';

/**
 * @types/aws-lambda declares `principalOrgId: string`, but Lambda sends null for a caller outside
 * an AWS Organization (the Function URL payload example in the Lambda developer guide), as the
 * emulator does; Powertools' schema allows it (`z.string().nullish()`).
 */
type IamEvent = Omit<LambdaFunctionURLEventWithIAMAuthorizer, 'requestContext'> & {
  requestContext: Omit<LambdaFunctionURLEventWithIAMAuthorizer['requestContext'], 'authorizer'> & {
    authorizer: { iam: Omit<LambdaFunctionURLEventWithIAMAuthorizer['requestContext']['authorizer']['iam'], 'principalOrgId'> & { principalOrgId: string | null } };
  };
};

// Compile-time checks: a handler typed against @types/aws-lambda reads the emulator's events.
const asPublicEvent = (e: FunctionUrlEvent): LambdaFunctionURLEvent => e;
const asIamEvent = (e: FunctionUrlEvent & { requestContext: { authorizer: NonNullable<FunctionUrlEvent['requestContext']['authorizer']> } }): IamEvent => e;

const ctx = { apiId: 'abc123', requestId: 'req-1', time: new Date(Date.UTC(2020, 2, 12, 19, 3, 58, 390)), port: 8080, traceId: 'Root=1-5e6a8c7e-000000000000000000000000' };

describe('toFunctionUrlEvent', () => {
  it('builds a payload 2.0 event: lower-case headers, cookies apart, joined repeated query values', () => {
    const event = toFunctionUrlEvent({
      method: 'POST',
      url: '/my/path?parameter1=value1&parameter1=value2&parameter2=a%20b',
      headers: { host: '127.0.0.1:8080', 'content-type': 'application/json', 'user-agent': 'agent', cookie: 'c1=v1; c2=v2', 'x-multi': ['a', 'b'] },
      body: Buffer.from('{"key1":"value1"}'),
      sourceIp: '127.0.0.1',
      protocol: 'HTTP/1.1',
    }, ctx);

    expect(event).toEqual({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/my/path',
      rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=a%20b',
      cookies: ['c1=v1', 'c2=v2'],
      headers: {
        host: '127.0.0.1:8080',
        'content-type': 'application/json',
        'user-agent': 'agent',
        'x-multi': 'a,b',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '8080',
        'x-amzn-trace-id': ctx.traceId,
      },
      queryStringParameters: { parameter1: 'value1,value2', parameter2: 'a b' },
      requestContext: {
        accountId: 'anonymous',
        apiId: 'abc123',
        domainName: '127.0.0.1:8080',
        domainPrefix: 'abc123',
        http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'agent' },
        requestId: 'req-1',
        routeKey: '$default',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: 1584039838390,
      },
      body: '{"key1":"value1"}',
      isBase64Encoded: false,
    });
  });

  it('base64-encodes binary bodies and bodies without a content type; leaves out an empty body', () => {
    const base = { method: 'POST', url: '/', sourceIp: '127.0.0.1', protocol: 'HTTP/1.1' };
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(toFunctionUrlEvent({ ...base, headers: { 'content-type': 'application/octet-stream' }, body: bytes }, ctx))
      .toMatchObject({ body: 'AAEC/w==', isBase64Encoded: true });
    expect(toFunctionUrlEvent({ ...base, headers: {}, body: Buffer.from('hi') }, ctx))
      .toMatchObject({ body: 'aGk=', isBase64Encoded: true });
    const get = toFunctionUrlEvent({ ...base, method: 'GET', headers: {}, body: Buffer.alloc(0) }, ctx);
    expect(get.isBase64Encoded).toBe(false);
    expect(get).not.toHaveProperty('body');
    expect(get).not.toHaveProperty('queryStringParameters');
    expect(get).not.toHaveProperty('cookies');
  });

  it('treats text, JSON and XML types as text', () => {
    expect(['text/plain; charset=utf-8', 'application/json', 'application/vnd.api+json', 'application/xml', 'image/svg+xml'].map(isTextContentType))
      .toEqual([true, true, true, true, true]);
    expect(['application/octet-stream', 'image/png', 'application/x-www-form-urlencoded', undefined].map(isTextContentType))
      .toEqual([false, false, false, false]);
  });
});

describe('toFunctionUrlEvent for an AWS_IAM URL', () => {
  const request = {
    method: 'POST',
    url: '/v2/models/m/infer',
    headers: {
      host: '127.0.0.1:8080',
      'content-type': 'application/json',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
    },
    body: Buffer.from('{}'),
    sourceIp: '127.0.0.1',
    protocol: 'HTTP/1.1',
  };

  it('carries the caller\'s account and requestContext.authorizer.iam, the access key read from the signature', () => {
    const event = toFunctionUrlEvent(request, { ...ctx, iam: iamCaller(request.headers, '123456789012') });
    expect(event.requestContext.accountId).toBe('123456789012');
    expect(event.requestContext.authorizer).toEqual({
      iam: {
        accessKey: 'AKIAIOSFODNN7EXAMPLE',
        accountId: '123456789012',
        callerId: 'AIDALOCALCALLER000000',
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: 'arn:aws:iam::123456789012:user/local-caller',
        userId: 'AIDALOCALCALLER000000',
      },
    });
    // An unsigned request (the local URL does not verify signatures) gets a stand-in key.
    expect(iamCaller({}, '123456789012').accessKey).toBe('AKIALOCALCALLER00000');
  });

  it('builds events that @types/aws-lambda types and Powertools\' LambdaFunctionUrlSchema parse, IAM or public', () => {
    const iam = toFunctionUrlEvent(request, { ...ctx, iam: iamCaller(request.headers, '123456789012') });
    const pub = toFunctionUrlEvent(request, ctx);
    expect(asIamEvent(iam as Parameters<typeof asIamEvent>[0]).requestContext.authorizer.iam.userArn).toContain(':user/');
    expect(asPublicEvent(pub).requestContext.accountId).toBe('anonymous');
    expect(pub.requestContext).not.toHaveProperty('authorizer');
    expect(LambdaFunctionUrlSchema.parse(iam).requestContext.authorizer?.iam?.accountId).toBe('123456789012');
    expect(LambdaFunctionUrlSchema.parse(pub).requestContext.accountId).toBe('anonymous');
  });
});

describe('toFunctionUrlResponse', () => {
  const ok = (value: unknown) => ({ rawPayload: Buffer.from(JSON.stringify(value)) });

  it('sends any result without statusCode as a 200 JSON body, verbatim', () => {
    expect(toFunctionUrlResponse(ok({ message: 'Hello, world!' }))).toEqual({
      statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"message":"Hello, world!"}'),
    });
    expect(toFunctionUrlResponse(ok('Hello, world!')).body.toString()).toBe('"Hello, world!"');
  });

  it('maps a response document: status, headers lower-cased, cookies to set-cookie, base64 body decoded', () => {
    const r = toFunctionUrlResponse(ok({
      statusCode: 201,
      headers: { 'Content-Type': 'image/png', 'My-Header': 'v' },
      cookies: ['a=1', 'b=2'],
      body: Buffer.from([1, 2, 3]).toString('base64'),
      isBase64Encoded: true,
    }));
    expect(r).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'image/png', 'my-header': 'v', 'set-cookie': ['a=1', 'b=2'] },
      body: Buffer.from([1, 2, 3]),
    });
    expect(toFunctionUrlResponse(ok({ statusCode: 204 }))).toEqual({ statusCode: 204, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(0) });
  });

  it('answers 502 for a function error or an impossible status code', () => {
    const error = { statusCode: 502, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"message":"Internal Server Error"}') };
    expect(toFunctionUrlResponse({ rawPayload: Buffer.from('{"errorType":"Error"}'), functionError: 'Unhandled' })).toEqual(error);
    expect(toFunctionUrlResponse(ok({ statusCode: 'teapot' }))).toEqual(error);
  });

  it('formats the request time as Function URLs do', () => {
    expect(clfTime(new Date(Date.UTC(2021, 8, 7, 22, 50, 22)))).toBe('07/Sep/2021:22:50:22 +0000');
  });
});
