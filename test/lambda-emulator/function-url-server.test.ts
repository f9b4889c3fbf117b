import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LocalFunction } from '../../src/lambda-emulator/types.js';
import { fixture, started } from './_support.js';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

let http: LocalFunction;
let echo: LocalFunction;
let throws: LocalFunction;
let publicUrl: LocalFunction;
beforeAll(async () => {
  [http, echo, throws, publicUrl] = await Promise.all([
    started({ functionName: 'http', codeDir: fixture('binary'), accountId: '123456789012' }),
    started({ functionName: 'echo', codeDir: fixture('echo') }),
    started({ functionName: 'throws', codeDir: fixture('throws') }),
    started({ functionName: 'public', codeDir: fixture('binary'), functionUrlAuthType: 'NONE' }),
  ]);
});

function lambdaClient(fn: LocalFunction): LambdaClient {
  return new LambdaClient({
    region: 'us-east-1',
    endpoint: fn.url,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
    maxAttempts: 1,
  });
}

describe('the Function URL', () => {
  it('turns a request into a payload 2.0 event and a plain result into a 200 JSON answer', async () => {
    const res = await fetch(`${http.url}/some/path?a=1&a=2&b=x%20y`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Custom': 'Value', cookie: 'k1=v1; k2=v2' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const event = (await res.json()) as { requestContext: { time: string; timeEpoch: number } };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/some/path',
      rawQueryString: 'a=1&a=2&b=x%20y',
      cookies: ['k1=v1', 'k2=v2'],
      queryStringParameters: { a: '1,2', b: 'x y' },
      headers: { 'content-type': 'application/json', 'x-custom': 'Value', host: new URL(http.url).host },
      requestContext: {
        // The URL is AWS_IAM by default, as the aws-lambda target deploys it.
        accountId: '123456789012',
        authorizer: { iam: { accountId: '123456789012', userArn: 'arn:aws:iam::123456789012:user/local-caller', cognitoIdentity: null, principalOrgId: null } },
        routeKey: '$default',
        stage: '$default',
        http: { method: 'POST', path: '/some/path', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(event.requestContext.timeEpoch).toBeGreaterThan(0);
  });

  it('says anonymous and carries no authorizer for a NONE (public) URL', async () => {
    const event = (await (await fetch(`${publicUrl.url}/x`)).json()) as { requestContext: Record<string, unknown> };
    expect(event.requestContext.accountId).toBe('anonymous');
    expect(event.requestContext).not.toHaveProperty('authorizer');
  });

  it('passes binary request bodies base64-encoded and text bodies as they are', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const binary = await (await fetch(`${http.url}/?kind=body`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes })).json();
    expect(binary).toEqual({ isBase64Encoded: true, body: bytes.toString('base64'), bytes: 256, sum: 255 * 128 });
    const text = await (await fetch(`${http.url}/?kind=body`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'héllo' })).json();
    expect(text).toMatchObject({ isBase64Encoded: false, body: 'héllo' });
  });

  it('maps a response document: status, headers, cookies and a base64 binary body', async () => {
    const res = await fetch(`${http.url}/?kind=binary`);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('x-bytes')).toBe('256');
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual(Array.from({ length: 256 }, (_, i) => i));

    const notFound = await fetch(`${http.url}/?kind=status&code=404`);
    expect(notFound.status).toBe(404);
    expect(await notFound.text()).toBe('status 404');

    const str = await fetch(`${http.url}/?kind=string`);
    expect(str.status).toBe(200);
    expect(await str.text()).toBe('"Hello, world!"');
  });

  it('answers 502 when the function fails and 413 above Lambda\'s 6 MB payload limit', async () => {
    const failed = await fetch(`${http.url}/?kind=throw`);
    expect(failed.status).toBe(502);
    expect(await failed.json()).toEqual({ message: 'Internal Server Error' });

    const big = await fetch(`${http.url}/`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(6 * 1024 * 1024 + 10) });
    expect(big.status).toBe(413);
    // Lambda's `message`, plus the Open Inference Protocol's `error` string and our code.
    expect(await big.json()).toEqual({ message: 'Request Entity Too Large', error: expect.stringMatching(/over Lambda's 6291456-byte limit/), code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('local-stats', () => {
  it('answers the emulator\'s own figures beside the Lambda API: peak memory, init, Node, warnings', async () => {
    await echo.invoke({});
    const res = await fetch(`${echo.url}/2015-03-31/functions/echo/local-stats`);
    expect(res.status).toBe(200);
    const stats = await res.json() as Record<string, unknown>;
    expect(stats).toMatchObject({ memoryMb: 256, maxMemoryUsedMb: expect.any(Number), maxInitDurationMs: expect.any(Number), runtimeNode: { version: expect.stringMatching(/^v22\./) }, warnings: [] });
    expect(stats).not.toHaveProperty('recentLogs');
    expect((await fetch(`${echo.url}/2015-03-31/functions/other/local-stats`)).status).toBe(404);
  });
});

describe('the Invoke API, through @aws-sdk/client-lambda', () => {
  it('invokes with a qualifier and returns the payload, the executed version and the log tail', async () => {
    const client = lambdaClient(echo);
    const out = await client.send(new InvokeCommand({
      FunctionName: 'echo', Qualifier: 'live', LogType: 'Tail', Payload: Buffer.from(JSON.stringify({ n: 42 })),
    }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    const payload = JSON.parse(Buffer.from(out.Payload as Uint8Array).toString('utf8'));
    expect(payload.event).toEqual({ n: 42 });
    expect(payload.context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:echo:live');
    const log = Buffer.from(out.LogResult as string, 'base64').toString('utf8');
    expect(log).toMatch(/START RequestId: \S+ Version: \$LATEST/);
    expect(log).toMatch(/REPORT RequestId: /);
  });

  it('reports a handler error as FunctionError Unhandled with the error document', async () => {
    const out = await lambdaClient(throws).send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:throws', Payload: Buffer.from('{"mode":"throw"}') }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(out.LogResult).toBeUndefined();
    expect(JSON.parse(Buffer.from(out.Payload as Uint8Array).toString('utf8'))).toMatchObject({ errorType: 'TypeError', errorMessage: 'handler failed on purpose' });
  });

  it('accepts Event invocations, reads the configuration, and names an unknown function', async () => {
    const client = lambdaClient(echo);
    const event = await client.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(event.StatusCode).toBe(202);
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }));
    expect(config).toMatchObject({ FunctionName: 'echo', Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 256, Timeout: 5, State: 'Active', EphemeralStorage: { Size: 512 } });
    await expect(client.send(new InvokeCommand({ FunctionName: 'other', Payload: Buffer.from('{}') }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
