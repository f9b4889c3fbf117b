import { afterEach, describe, expect, it } from 'vitest';
import { MAX_SYNC_PAYLOAD_BYTES, startRuntimeApi, type RuntimeApi, type RuntimeInvocation } from '../../src/lambda-emulator/runtime-api.js';

let api: RuntimeApi | undefined;
afterEach(async () => { await api?.close(); api = undefined; });

const invocation = (requestId: string): RuntimeInvocation => ({
  requestId,
  payload: Buffer.from('{"n":1}'),
  deadlineMs: 1_700_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:live',
  traceId: 'Root=1-00000000-000000000000000000000000',
});

// Plays the runtime's side of the protocol with plain HTTP.
const base = () => `http://${api?.address}/2018-06-01/runtime`;

describe('the Runtime API', () => {
  it('answers a long poll with the event and its headers, then takes the response', async () => {
    // GIVEN a runtime already waiting on invocation/next
    let polls = 0;
    api = await startRuntimeApi({ onNext: () => { polls++; } });
    const next = fetch(`${base()}/invocation/next`);
    for (let i = 0; i < 200 && polls === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(polls).toBe(1);

    // WHEN an event is dispatched
    const outcome = api.dispatch(invocation('req-1'));
    const res = await next;

    // THEN the runtime gets it with Lambda's headers
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ n: 1 });
    expect(res.headers.get('lambda-runtime-aws-request-id')).toBe('req-1');
    expect(res.headers.get('lambda-runtime-deadline-ms')).toBe('1700000000000');
    expect(res.headers.get('lambda-runtime-invoked-function-arn')).toBe('arn:aws:lambda:us-east-1:000000000000:function:f:live');
    expect(res.headers.get('lambda-runtime-trace-id')).toBe('Root=1-00000000-000000000000000000000000');

    // AND its response resolves the dispatch
    const post = await fetch(`${base()}/invocation/req-1/response`, { method: 'POST', body: '"done"' });
    expect(post.status).toBe(202);
    expect(await outcome).toEqual({ kind: 'response', body: Buffer.from('"done"') });

    // AND a second answer for the same request is refused
    const again = await fetch(`${base()}/invocation/req-1/response`, { method: 'POST', body: '"again"' });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ errorType: 'InvalidRequestID' });
  });

  it('queues an event until the runtime polls, and carries the error type of an invocation error', async () => {
    api = await startRuntimeApi();
    const outcome = api.dispatch(invocation('req-2'));
    const res = await fetch(`${base()}/invocation/next`);
    expect(res.headers.get('lambda-runtime-aws-request-id')).toBe('req-2');
    await res.arrayBuffer();
    const doc = { errorType: 'TypeError', errorMessage: 'x' };
    await fetch(`${base()}/invocation/req-2/error`, {
      method: 'POST', body: JSON.stringify(doc), headers: { 'lambda-runtime-function-error-type': 'TypeError' },
    });
    expect(await outcome).toEqual({ kind: 'error', errorType: 'TypeError', body: Buffer.from(JSON.stringify(doc)) });
  });

  it('reports init errors and refuses responses above 6 MB as Lambda does', async () => {
    const initErrors: string[] = [];
    api = await startRuntimeApi({ onInitError: (body, type) => initErrors.push(`${type} ${body.toString()}`) });
    const init = await fetch(`${base()}/init/error`, {
      method: 'POST', body: '{"errorType":"Runtime.ImportModuleError","errorMessage":"m"}', headers: { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError' },
    });
    expect(init.status).toBe(202);
    expect(initErrors).toEqual(['Runtime.ImportModuleError {"errorType":"Runtime.ImportModuleError","errorMessage":"m"}']);

    const outcome = api.dispatch(invocation('req-3'));
    await (await fetch(`${base()}/invocation/next`)).arrayBuffer();
    const big = await fetch(`${base()}/invocation/req-3/response`, { method: 'POST', body: Buffer.alloc(MAX_SYNC_PAYLOAD_BYTES + 1, 0x20) });
    expect(big.status).toBe(413);
    const o = await outcome;
    expect(o.kind).toBe('error');
    expect(JSON.parse(o.body.toString())).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
  });
});
