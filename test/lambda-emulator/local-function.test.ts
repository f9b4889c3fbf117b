import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalFunction } from '../../src/lambda-emulator/local-function.js';
import { fixture, greetingLayerZip, isAlive, lambdaNodeBinary, started, tempDir } from './_support.js';

interface Echo {
  env: Record<string, string>;
  cwd: string;
  pid: number;
  execArgv: string[];
  context: Record<string, unknown>;
  resolvable: Record<string, boolean>;
}

describe('startLocalFunction: the execution environment', () => {
  it('gives the handler Lambda environment, context and heap limit, and nothing of this process', async () => {
    // GIVEN a variable in this process that must not leak, and a function with its own variables
    process.env.DM_PARENT_ONLY = 'leak';
    const workDir = path.join(await tempDir(), 'fn');
    const fn = await started({
      functionName: 'echo-env', codeDir: fixture('echo'), env: { GREETING: 'hi' },
      memoryMb: 256, timeoutSeconds: 7, region: 'eu-west-1', version: '7', workDir,
    });
    delete process.env.DM_PARENT_ONLY;

    // WHEN it is invoked through an alias
    const result = await fn.invoke({ hello: 'world' }, { qualifier: 'live' });

    // THEN it sees Lambda's variables with the local folders in place of /var/task, /opt, /var/runtime
    expect(result.functionError).toBeUndefined();
    const echo = result.payload as Echo;
    const task = path.join(workDir, 'task');
    const opt = path.join(workDir, 'opt');
    expect(echo.env).toMatchObject({
      GREETING: 'hi',
      LAMBDA_TASK_ROOT: task,
      LAMBDA_RUNTIME_DIR: path.join(workDir, 'runtime'),
      _HANDLER: 'index.handler',
      AWS_LAMBDA_FUNCTION_NAME: 'echo-env',
      AWS_LAMBDA_FUNCTION_VERSION: '7',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/echo-env',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      NODE_PATH: [`${opt}/nodejs/node22/node_modules`, `${opt}/nodejs/node_modules`, `${workDir}/runtime/node_modules`, `${workDir}/runtime`, task].join(':'),
    });
    expect(echo.env.AWS_LAMBDA_RUNTIME_API).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(echo.env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[7\][0-9a-f]{32}$/);
    expect(echo.env._X_AMZN_TRACE_ID).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};/);
    expect(echo.env).not.toHaveProperty('DM_PARENT_ONLY');
    expect(echo.env).not.toHaveProperty('NODE_OPTIONS');
    // AND PATH and LD_LIBRARY_PATH are Lambda's documented ones, the runtime's Node standing in for /var/lang
    const lang = path.dirname(path.dirname(await lambdaNodeBinary()));
    expect(echo.env.PATH).toBe([`${lang}/bin`, '/usr/local/bin', '/usr/bin/', '/bin', `${opt}/bin`].join(':'));
    expect(echo.env.LD_LIBRARY_PATH).toBe([`${lang}/lib`, '/lib64', '/usr/lib64', `${workDir}/runtime`, `${workDir}/runtime/lib`, task, `${task}/lib`, `${opt}/lib`].join(':'));
    // AND /tmp and HOME are the environment's own, not the user's
    expect(echo.env.TMPDIR).toBe(path.join(workDir, 'tmp'));
    expect(echo.env.HOME).toBe(path.join(workDir, 'no-home', 'sbx_user1051'));
    expect(echo.cwd).toBe(task);
    expect(echo.execArgv).toEqual(['--expose-gc', '--max-http-header-size', '81920', '--max-semi-space-size=12', '--max-old-space-size=231']);
    expect(echo.context).toMatchObject({
      awsRequestId: result.requestId,
      functionName: 'echo-env',
      functionVersion: '7',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:echo-env:live',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/echo-env',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(echo.context.remainingMs).toBeGreaterThan(5000);
    expect(echo.context.remainingMs).toBeLessThanOrEqual(7000);
    expect(result.executedVersion).toBe('7');
  });

  it('lets the handler load layer packages through NODE_PATH, and never the repository\'s node_modules', async () => {
    // GIVEN a handler that requires a package only the layer has
    const dir = await tempDir();
    const fn = await started({ functionName: 'layer-user', codeDir: fixture('layer-user'), layers: [await greetingLayerZip(dir)] });
    const echo = await started({ functionName: 'echo-resolve', codeDir: fixture('echo') });

    // WHEN both run
    const layered = await fn.invoke({ name: 'tests' });
    const probe = await echo.invoke({ tryRequire: ['zod', 'vitest'], tryImport: ['zod', 'esbuild'] });

    // THEN the layer package resolves from opt/nodejs/node_modules
    expect(layered.functionError).toBeUndefined();
    expect(layered.payload).toMatchObject({ greeting: 'hello tests from the layer', from: expect.stringContaining('/opt/nodejs/node_modules/layer-greeting/') });
    // AND packages installed in this repository are out of reach, as on Lambda
    expect((probe.payload as Echo).resolvable).toEqual({ 'require:zod': false, 'require:vitest': false, 'import:zod': false, 'import:esbuild': false });
    expect((probe.payload as Echo).cwd.startsWith(os.tmpdir())).toBe(true);
  });

  it('loads a CommonJS handler from a subfolder with a nested export and a callback', async () => {
    const fn = await started({ functionName: 'cjs', codeDir: fixture('cjs-nested'), handler: 'src/app.api.handler' });
    const result = await fn.invoke({ n: 1 });
    expect(result.payload).toEqual({ style: 'callback', module: 'object', got: { n: 1 } });
  });

  it('refuses Lambda\'s reserved variable names', async () => {
    await expect(startLocalFunction({ functionName: 'f', handler: 'index.handler', codeDir: fixture('echo'), memoryMb: 128, timeoutSeconds: 3, env: { AWS_REGION: 'x' } }))
      .rejects.toMatchObject({ code: 'LOCAL_RESERVED_ENV', message: expect.stringContaining('AWS_REGION') });
  });
});

describe('startLocalFunction: failures', () => {
  it('answers a thrown error as an Unhandled function error and keeps the environment', async () => {
    const fn = await started({ functionName: 'throws', codeDir: fixture('throws') });
    const pid = fn.stats().pid;

    const failed = await fn.invoke({ mode: 'throw' });

    expect(failed.functionError).toBe('Unhandled');
    expect(failed.payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'handler failed on purpose', trace: expect.arrayContaining([expect.stringContaining('TypeError: handler failed on purpose')]) });
    expect(failed.logs).toContain('Invoke Error');
    expect(failed.logs).toMatch(/START RequestId: \S+ Version: \$LATEST\n/);
    expect(failed.logs).toMatch(/END RequestId: /);
    expect(failed.logs).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB/);
    const ok = await fn.invoke({ mode: 'ok' });
    expect(ok.payload).toEqual({ ok: true, pid });
    expect(fn.stats()).toMatchObject({ invocations: 2, errors: 1, coldStarts: 1 });
  });

  it('answers a crash as Runtime.ExitError and starts a new environment for the next request', async () => {
    const fn = await started({ functionName: 'crashes', codeDir: fixture('throws') });
    const first = fn.stats().pid as number;

    const exited = await fn.invoke({ mode: 'exit' });
    const uncaught = await fn.invoke({ mode: 'uncaught' });
    const ok = await fn.invoke({ mode: 'ok' });

    expect(exited).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Runtime.ExitError', errorMessage: expect.stringContaining('Runtime exited with error: exit status 3') } });
    expect(uncaught).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Error', errorMessage: 'uncaught on purpose' } });
    expect(isAlive(first)).toBe(false);
    expect(ok.functionError).toBeUndefined();
    expect((ok.payload as { pid: number }).pid).not.toBe(first);
    expect(fn.stats().coldStarts).toBe(3);
  });

  it('reports an init error at start and answers it on the first request', async () => {
    // GIVEN a module that throws while loading
    const fn = await started({ functionName: 'init-throws', codeDir: fixture('init-throws') });

    // THEN start reports it
    expect(fn.stats().initError).toBe('Error: init failed on purpose');
    expect(fn.stats().recentLogs.join('\n')).toMatch(/INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Error/);

    // AND each request answers it, as Lambda retries init on every request
    for (let i = 0; i < 2; i++) {
      const result = await fn.invoke({});
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toMatchObject({ errorType: 'Error', errorMessage: 'init failed on purpose' });
      expect(result.logs).toContain('init-throws: loading');
    }
  });

  it('names a handler that is not exported or a module that is missing, as the managed runtime does', async () => {
    const notExported = await started({ functionName: 'no-export', codeDir: fixture('echo'), handler: 'index.nope' });
    const missing = await started({ functionName: 'no-module', codeDir: fixture('echo'), handler: 'missing.handler' });
    expect((await notExported.invoke({})).payload).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.nope is undefined or not exported' });
    expect((await missing.invoke({})).payload).toMatchObject({ errorType: 'Runtime.ImportModuleError', errorMessage: expect.stringContaining("Cannot find module 'missing'") });
  });

  it('kills a handler that runs past the timeout, answers Task timed out, and restarts the environment', async () => {
    // GIVEN a 2 s timeout and a handler that sleeps 8 s
    const fn = await started({ functionName: 'sleeps', codeDir: fixture('sleeps'), timeoutSeconds: 2 });
    const before = fn.stats().pid as number;

    // WHEN it is invoked
    const t0 = Date.now();
    const timedOut = await fn.invoke({ sleepMs: 8000 });

    // THEN it answers within about the timeout, with the environment killed
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(timedOut.functionError).toBe('Unhandled');
    expect(timedOut.payload).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringContaining('Task timed out after 2.00 seconds') });
    expect(timedOut.logs).toMatch(/Task timed out after 2\.00 seconds/);
    expect(timedOut.logs).toMatch(/Status: timeout/);
    expect(isAlive(before)).toBe(false);

    // AND the next request runs in a fresh environment (whose init counts against its timeout, as on Lambda)
    const next = await fn.invoke({});
    expect(next.payload).toMatchObject({ invocations: 1 });
    expect((next.payload as { pid: number }).pid).not.toBe(before);
    expect(fn.stats()).toMatchObject({ timeouts: 1, coldStarts: 2 });
  });
});

describe('startLocalFunction: requests and logs', () => {
  it('serves one request at a time, in order', async () => {
    const fn = await started({ functionName: 'queue', codeDir: fixture('sleeps') });
    const t0 = Date.now();
    const results = await Promise.all([fn.invoke({ sleepMs: 300 }), fn.invoke({ sleepMs: 300 }), fn.invoke({})]);
    expect(results.map((r) => (r.payload as { invocations: number }).invocations)).toEqual([1, 2, 3]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
  });

  it('captures the function\'s output as its log: per invocation for the tail, and every line for the sink', async () => {
    const lines: string[] = [];
    const fn = await started({ functionName: 'logs', codeDir: fixture('echo'), log: (l) => lines.push(l) });
    const result = await fn.invoke({ marker: 'xyz' });

    expect(result.logs).toContain(`START RequestId: ${result.requestId} Version: $LATEST`);
    expect(result.logs).toMatch(new RegExp(`\\t${result.requestId}\\tINFO\\techo: invoked with .*xyz`));
    expect(result.logs).toContain(`END RequestId: ${result.requestId}`);
    expect(result.logs).toMatch(/Init Duration: [\d.]+ ms/);
    expect(result.logs).not.toContain('echo: init');
    expect(lines.join('\n')).toMatch(/\tundefined\tINFO\techo: init/);
    expect(lines.at(-1)).toMatch(/^REPORT RequestId: /);
    expect(lines.join('\n')).not.toContain('DM_LOCAL_END');
  });

  it('stops: kills the environment, removes its own folder and refuses further requests', async () => {
    const fn = await startLocalFunction({ functionName: 'stops', handler: 'index.handler', codeDir: fixture('echo'), memoryMb: 128, timeoutSeconds: 3 });
    const echo = (await fn.invoke({})).payload as Echo;
    await fn.stop();
    expect(isAlive(echo.pid)).toBe(false);
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.dirname(echo.cwd))).toBe(false);
    await expect(fn.invoke({})).rejects.toMatchObject({ code: 'LOCAL_FUNCTION_STOPPED' });
  });
});
