import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IoHelper, RecordingIoHost } from '../../src/io/io-host.js';
import { startLocalFunction } from '../../src/lambda-emulator/local-function.js';
import { MAX_RESPONSE_PAYLOAD_BYTES } from '../../src/lambda-emulator/runtime-api.js';
import { emulatorFixture, fixture, lambdaNodeBinary, started, tempDir } from './_support.js';

interface Probe {
  node: string;
  execPath: string;
  execArgv: string[];
  heapLimitMb: number;
  awslambda: string[];
  httpResponseStream: string;
  homedir: string;
  tmpdir: string;
  homeWrite: string;
  env: Record<string, string>;
}

describe('the runtime\'s Node', () => {
  it('runs the function on Node 22, as nodejs22.x does, whatever Node runs the emulator', async () => {
    const fn = await started({ functionName: 'node22', codeDir: emulatorFixture('probe') });
    const probe = (await fn.invoke({})).payload as Probe;
    expect(probe.node).toMatch(/^v22\./);
    expect(probe.execPath).toBe(await lambdaNodeBinary());
    expect(fn.stats().runtimeNode).toEqual({ binary: await lambdaNodeBinary(), version: probe.node });
    expect(fn.stats().recentLogs[0]).toMatch(/^INIT_START Runtime Version: nodejs22\.x \(local, Node v22\.\d+\.\d+\)$/);
  });

  it('finds Node 22 in the toolkit\'s cache when none is given', async () => {
    const cacheDir = path.dirname(path.dirname(path.dirname(path.dirname(await lambdaNodeBinary()))));
    const fn = await started({ functionName: 'node22-cache', codeDir: emulatorFixture('probe'), nodeBinary: undefined, cacheDir });
    expect(((await fn.invoke({})).payload as Probe).node).toMatch(/^v22\./);
    expect(fn.stats().runtimeNode.fallback).toBeUndefined();
  });

  it('says plainly when it falls back to this process\'s Node', async () => {
    // GIVEN an empty cache
    const host = new RecordingIoHost();
    const fn = await started({ functionName: 'node-fallback', codeDir: emulatorFixture('probe'), nodeBinary: undefined, cacheDir: await tempDir(), io: new IoHelper(host) });
    const probe = (await fn.invoke({})).payload as Probe;
    if (process.version.startsWith('v22.')) {
      // This process's Node is the runtime's: no fallback to report.
      expect(fn.stats().runtimeNode.fallback).toBeUndefined();
      return;
    }
    // THEN it runs on this Node and says so, in the stats, the warnings and the log
    expect(probe.node).toBe(process.version);
    expect(fn.stats().runtimeNode.fallback).toMatch(/Node 22 was not found in .*lambda-node; it runs on this process's Node v\d+/);
    expect(host.codes()).toContain('DM_LOCAL_NODE_FALLBACK');
    expect(host.messages.find((m) => m.code === 'DM_LOCAL_NODE_FALLBACK')).toMatchObject({ level: 'warn', message: expect.stringContaining(`runs on Node ${process.version}, not on the Node 22 of nodejs22.x`) });
    expect(fn.stats().recentLogs[0]).toContain(`(local, Node ${process.version}, a fallback)`);
  });
});

describe('the managed runtime\'s surroundings', () => {
  it('leaves out a heap flag that NODE_OPTIONS sets, as Lambda\'s bootstrap does', async () => {
    const fn = await started({ functionName: 'node-options', codeDir: emulatorFixture('probe'), memoryMb: 512, env: { NODE_OPTIONS: '--max-old-space-size=300' } });
    const probe = (await fn.invoke({})).payload as Probe;
    expect(probe.execArgv).toEqual(['--expose-gc', '--max-http-header-size', '81920', '--max-semi-space-size=25']);
    expect(probe.heapLimitMb).toBeLessThan(400);
  });

  it('gives a HOME that cannot be written, its own /tmp, and awslambda.HttpResponseStream', async () => {
    const workDir = path.join(await tempDir(), 'fn');
    const fn = await started({ functionName: 'surroundings', codeDir: emulatorFixture('probe'), workDir });
    const probe = (await fn.invoke({})).payload as Probe;
    // Lambda's file system is read-only outside /tmp: onnxruntime cannot persist its telemetry cache there.
    expect(probe.homeWrite).toBe('ENOTDIR');
    expect(probe.homedir).toBe(path.join(workDir, 'no-home', 'sbx_user1051'));
    expect(probe.tmpdir).toBe(path.join(workDir, 'tmp'));
    expect(probe.awslambda).toEqual(['HttpResponseStream', 'streamifyResponse']);
    expect(probe.httpResponseStream).toBe('function');
  });
});

describe('memory', () => {
  it('kills an environment that outgrows memoryMb, answers Runtime.OutOfMemory, and starts afresh', async () => {
    // GIVEN a 128 MB function
    const host = new RecordingIoHost();
    const fn = await started({ functionName: 'oom', codeDir: emulatorFixture('allocates'), memoryMb: 128, timeoutSeconds: 10, io: new IoHelper(host) });
    expect(fn.stats().memoryEnforcement).toMatch(/^(cgroup-v2|cgroup-v1|measured)$/);

    // WHEN a request makes it hold 200 MB of native memory
    const oom = await fn.invoke({ mb: 200 });

    // THEN it fails as on Lambda, whichever way the limit is held here
    expect(oom.functionError).toBe('Unhandled');
    expect(oom.payload).toEqual({ errorType: 'Runtime.OutOfMemory', errorMessage: `RequestId: ${oom.requestId} Error: Runtime exited with error: signal: killed` });
    expect(oom.logs).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB(\tInit Duration: [\d.]+ ms)?\tStatus: error\tError Type: Runtime\.OutOfMemory/);
    expect(oom.maxMemoryUsedMb).toBeGreaterThanOrEqual(128);
    expect(host.codes()).toContain('DM_LOCAL_OUT_OF_MEMORY');

    // AND the next request runs in a fresh environment
    const ok = await fn.invoke({ mb: 10 });
    expect(ok.functionError).toBeUndefined();
    expect(fn.stats()).toMatchObject({ outOfMemory: 1, coldStarts: 2, memoryMb: 128 });
  });

  it('lets the same work through with enough memory, and reports Max Memory Used', async () => {
    const fn = await started({ functionName: 'enough', codeDir: emulatorFixture('allocates'), memoryMb: 512, timeoutSeconds: 10 });
    const result = await fn.invoke({ mb: 200 });
    expect(result.functionError).toBeUndefined();
    expect(result.maxMemoryUsedMb).toBeGreaterThanOrEqual(200);
    expect(result.maxMemoryUsedMb).toBeLessThan(512);
    expect(result.logs).toContain(`Max Memory Used: ${result.maxMemoryUsedMb} MB`);
    expect(fn.stats().maxMemoryUsedMb).toBe(result.maxMemoryUsedMb);
  });

  it('fails an init that outgrows memoryMb', async () => {
    const fn = await started({ functionName: 'oom-init', codeDir: emulatorFixture('allocates'), memoryMb: 128, env: { INIT_MB: '200' } });
    expect(fn.stats().initError).toMatch(/^Runtime\.OutOfMemory: /);
    expect((await fn.invoke({})).payload).toMatchObject({ errorType: 'Runtime.OutOfMemory' });
  });
});

describe('/tmp', () => {
  it('fails an invocation that leaves more than ephemeralStorageMb in /tmp, and empties /tmp for the next environment', async () => {
    const host = new RecordingIoHost();
    const fn = await started({ functionName: 'tmp-full', codeDir: emulatorFixture('tmp-writer'), memoryMb: 1024, timeoutSeconds: 30, ephemeralStorageMb: 512, io: new IoHelper(host) });
    const small = await fn.invoke({ mb: 8 });
    expect(small.functionError).toBeUndefined();

    const full = await fn.invoke({ mb: 520 });
    expect(full.functionError).toBe('Unhandled');
    expect(full.payload).toMatchObject({ errorType: 'Local.EphemeralStorageExceeded', errorMessage: expect.stringMatching(/\/tmp holds 5\d\d MB, over the function's ephemeral storage of 512 MB/) });
    expect(host.codes()).toContain('DM_LOCAL_EPHEMERAL_STORAGE');

    const after = (await fn.invoke({ mb: 1 })).payload as { tmpdir: string };
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(after.tmpdir)).toHaveLength(1);
  });
});

describe('the Runtime API', () => {
  it('lets no other local process take an invocation, and the function keeps serving', async () => {
    const fn = await started({ functionName: 'guarded', codeDir: fixture('echo') });
    const api = ((await fn.invoke({})).payload as { env: Record<string, string> }).env.AWS_LAMBDA_RUNTIME_API;

    const stolen = await new Promise<string>((resolve) => {
      http.get(`http://${api}/2018-06-01/runtime/invocation/next`, (res) => resolve(`${res.statusCode}`)).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });

    expect(stolen).toBe('ECONNRESET');
    expect(fn.stats().refusedRuntimeApiConnections).toBe(1);
    expect(fn.stats().warnings.map((w) => w.code)).toEqual(['DM_LOCAL_RUNTIME_API_REFUSED']);
    expect((await fn.invoke({ n: 2 })).payload).toMatchObject({ event: { n: 2 } });
  });

  it('delivers a response of 6 MiB + 100 bytes and refuses one byte more, as Lambda does', async () => {
    const fn = await started({ functionName: 'sized', codeDir: emulatorFixture('sized'), memoryMb: 512 });
    const atLimit = await fn.invoke({ bytes: MAX_RESPONSE_PAYLOAD_BYTES });
    expect(atLimit.functionError).toBeUndefined();
    expect(atLimit.rawPayload.length).toBe(MAX_RESPONSE_PAYLOAD_BYTES);
    const over = await fn.invoke({ bytes: MAX_RESPONSE_PAYLOAD_BYTES + 1 });
    expect(over.payload).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
  });
});

describe('defaults', () => {
  it('refuses an ephemeral storage or auth type Lambda would refuse', async () => {
    const base = { functionName: 'bad', handler: 'index.handler', codeDir: fixture('echo'), memoryMb: 128, timeoutSeconds: 3 };
    await expect(startLocalFunction({ ...base, ephemeralStorageMb: 100 })).rejects.toMatchObject({ code: 'LOCAL_SPEC_INVALID', message: expect.stringContaining('ephemeralStorageMb 100 must be an integer from 512 to 10240') });
    await expect(startLocalFunction({ ...base, functionUrlAuthType: 'OPEN' as never })).rejects.toMatchObject({ code: 'LOCAL_SPEC_INVALID' });
    expect(os.tmpdir()).toBeTruthy();
  });
});
