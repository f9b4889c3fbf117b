import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_PAYLOAD_BYTES, MAX_SYNC_PAYLOAD_BYTES, startRuntimeApi, type RuntimeApi, type RuntimeApiHooks, type RuntimeInvocation } from '../../src/lambda-emulator/runtime-api.js';

let api: RuntimeApi | undefined;
afterEach(async () => { await api?.close(); api = undefined; });

const invocation = (requestId: string): RuntimeInvocation => ({
  requestId,
  payload: Buffer.from('{"n":1}'),
  deadlineMs: 1_700_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f:live',
  traceId: 'Root=1-00000000-000000000000000000000000',
});

// Plays the runtime's side of the protocol with plain HTTP, from this process: the API serves
// this process as its runtime.
const base = () => `http://${api?.address}/2018-06-01/runtime`;
const asRuntime = (hooks: RuntimeApiHooks = {}) => startRuntimeApi({ runtimePid: () => process.pid, ...hooks });

describe('the Runtime API', () => {
  it('answers a long poll with the event and its headers, then takes the response', async () => {
    // GIVEN a runtime already waiting on invocation/next
    let polls = 0;
    api = await asRuntime({ onNext: () => { polls++; } });
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
    expect(api.delivered('req-1')).toBe(true);

    // AND its response resolves the dispatch, and the request is forgotten
    const post = await fetch(`${base()}/invocation/req-1/response`, { method: 'POST', body: '"done"' });
    expect(post.status).toBe(202);
    expect(await outcome).toEqual({ kind: 'response', body: Buffer.from('"done"') });
    expect(api.delivered('req-1')).toBe(false);

    // AND a second answer for the same request is refused
    const again = await fetch(`${base()}/invocation/req-1/response`, { method: 'POST', body: '"again"' });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ errorType: 'InvalidRequestID' });
  });

  it('queues an event until the runtime polls, and carries the error type of an invocation error', async () => {
    api = await asRuntime();
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

  it('reports init errors, takes responses up to 6 MiB + 100 bytes and refuses larger ones as Lambda does', async () => {
    const initErrors: string[] = [];
    api = await asRuntime({ onInitError: (body, type) => initErrors.push(`${type} ${body.toString()}`) });
    const init = await fetch(`${base()}/init/error`, {
      method: 'POST', body: '{"errorType":"Runtime.ImportModuleError","errorMessage":"m"}', headers: { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError' },
    });
    expect(init.status).toBe(202);
    expect(initErrors).toEqual(['Runtime.ImportModuleError {"errorType":"Runtime.ImportModuleError","errorMessage":"m"}']);

    // Lambda's runtime interface emulator: MaxPayloadSize = 6*1024*1024 + 100 (interop/model.go).
    expect(MAX_RESPONSE_PAYLOAD_BYTES).toBe(MAX_SYNC_PAYLOAD_BYTES + 100);
    const atLimit = api.dispatch(invocation('req-3'));
    await (await fetch(`${base()}/invocation/next`)).arrayBuffer();
    const ok = await fetch(`${base()}/invocation/req-3/response`, { method: 'POST', body: Buffer.alloc(MAX_RESPONSE_PAYLOAD_BYTES, 0x20) });
    expect(ok.status).toBe(202);
    expect((await atLimit).body.length).toBe(MAX_RESPONSE_PAYLOAD_BYTES);

    const overLimit = api.dispatch(invocation('req-4'));
    await (await fetch(`${base()}/invocation/next`)).arrayBuffer();
    const big = await fetch(`${base()}/invocation/req-4/response`, { method: 'POST', body: Buffer.alloc(MAX_RESPONSE_PAYLOAD_BYTES + 1, 0x20) });
    expect(big.status).toBe(413);
    const o = await overLimit;
    expect(o.kind).toBe('error');
    expect(JSON.parse(o.body.toString())).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
  });

  it('turns away every other process: none can take an event, and the runtime still gets it', async () => {
    // GIVEN an API whose runtime is another process (a sleeping child), and an event waiting
    const runtime = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    let runtimePid = runtime.pid;
    const refused: number[] = [];
    try {
      api = await startRuntimeApi({ runtimePid: () => runtimePid, onRefused: (port) => refused.push(port) });
      const outcome = api.dispatch(invocation('req-5'));

      // WHEN this process, which is not that runtime nor started by it, polls for the event
      const stolen = await fetch(`${base()}/invocation/next`).then((r) => `${r.status}`, (e: Error) => (e.cause as { code?: string })?.code ?? e.message);

      // THEN its connection is closed before anything is read, and it is reported
      expect(stolen).toBe('UND_ERR_SOCKET');
      expect(refused).toHaveLength(1);
      // AND the event is still there for the runtime (played by this process from now on)
      runtimePid = process.pid;
      const res = await fetch(`${base()}/invocation/next`);
      expect(res.headers.get('lambda-runtime-aws-request-id')).toBe('req-5');
      await res.arrayBuffer();
      await fetch(`${base()}/invocation/req-5/response`, { method: 'POST', body: '1' });
      expect(await outcome).toMatchObject({ kind: 'response' });
    } finally {
      runtime.kill();
      await once(runtime, 'exit');
    }
  });

  it('accepts the processes the runtime started, as a Lambda extension or a child shares its sandbox', async () => {
    api = await asRuntime();
    const child = spawn(process.execPath, ['-e', `fetch(${JSON.stringify(`${base()}/init/error`)}, { method: 'POST', body: '{}' }).then((r) => console.log(r.status), (e) => console.log(e.message))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    await once(child, 'close');
    expect(out.trim()).toBe('202');
  });

  it('serves nobody before it knows its runtime', async () => {
    api = await startRuntimeApi();
    await expect(fetch(`${base()}/invocation/next`)).rejects.toThrow();
  });
});
