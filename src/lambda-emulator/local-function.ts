import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DeployModelError } from '../errors.js';
import { layoutFunction, type FunctionLayout } from './layout-function.js';
import { ExecutionEnvironment, type EnvironmentOutcome, type InitOutcome } from './_execution-environment.js';
import { assertNoReservedEnv, lambdaEnvironment, LAMBDA_NODE_RUNTIME, logStreamName, runtimeNodeArgs } from './_lambda-environment.js';
import { startFunctionUrlServer, type FunctionUrlServer, type FunctionUrlTarget } from './function-url-server.js';
import { newTraceId } from './_trace-id.js';
import { exitError, initFailure, INIT_LIMIT_MS, timeoutError } from './_error-documents.js';
import type { InvokeOptions, InvokeResult, LocalFunction, LocalFunctionSpec, LocalFunctionStats } from './types.js';

/** Lambda's `LogResult` carries the last 4 KB of an invocation's log. */
const LOG_TAIL_BYTES = 4096;
const RECENT_LINES = 200;
/** Attempts to get a live environment for one invocation before answering a runtime exit. */
const MAX_ENV_ATTEMPTS = 3;

type ResolvedSpec = Required<Pick<LocalFunctionSpec, 'functionName' | 'version' | 'handler' | 'memoryMb' | 'timeoutSeconds' | 'region' | 'accountId'>> & {
  env: Record<string, string>;
  log?: (line: string) => void;
};

interface EnvState {
  env: ExecutionEnvironment;
  init: InitOutcome;
  initMs: number;
  /** The first invocation of an environment reports its init duration. */
  fresh: boolean;
  /** An init failure is answered to exactly one invocation. */
  reported: boolean;
  /** What the runtime logged during init, for the log tail of the invocation that reports a failure. */
  initLines: string[];
}

/**
 * Runs a built Lambda function on this machine as Lambda would: the code and layers laid out as
 * /var/task and /opt, one execution environment (a Node process running our managed-runtime
 * stand-in against a local Runtime API) serving one request at a time, timeouts that reset the
 * environment, and a Function URL (plus the Invoke API) on 127.0.0.1.
 *
 * The environment is started at once, so init errors show in `stats().initError` before the first
 * request; the first invocation then answers that init error, as Lambda does.
 */
export async function startLocalFunction(spec: LocalFunctionSpec): Promise<LocalFunction> {
  const resolved = resolveSpec(spec);
  const ownsWorkDir = spec.workDir === undefined;
  const workDir = spec.workDir ?? await fs.mkdtemp(path.join(os.tmpdir(), `deploy-model-fn-${resolved.functionName.slice(0, 40)}-`));
  let fn: LocalFunctionRuntime | undefined;
  try {
    const layout = await layoutFunction({ codeZip: spec.codeZip, codeDir: spec.codeDir, layers: spec.layers ?? [], workDir });
    fn = new LocalFunctionRuntime(resolved, layout, ownsWorkDir);
    await fn.start(spec.port);
    return fn;
  } catch (error) {
    if (fn) await fn.stop();
    else if (ownsWorkDir) await fs.rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

function resolveSpec(spec: LocalFunctionSpec): ResolvedSpec {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(spec.functionName)) problems.push(`functionName "${spec.functionName}" must be 1-64 letters, digits, hyphens or underscores`);
  if (!spec.handler || !spec.handler.includes('.')) problems.push(`handler "${spec.handler}" must look like module.export (e.g. index.handler)`);
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 128 || spec.memoryMb > 10240) problems.push(`memoryMb ${spec.memoryMb} must be an integer from 128 to 10240`);
  if (!(spec.timeoutSeconds > 0 && spec.timeoutSeconds <= 900)) problems.push(`timeoutSeconds ${spec.timeoutSeconds} must be above 0 and at most 900`);
  if (problems.length > 0) {
    throw new DeployModelError('LOCAL_SPEC_INVALID', `Cannot run function ${spec.functionName} locally: ${problems.join('; ')}.`, { details: { problems } });
  }
  const env = spec.env ?? {};
  assertNoReservedEnv(spec.functionName, env);
  return {
    functionName: spec.functionName,
    version: spec.version ?? '$LATEST',
    handler: spec.handler,
    memoryMb: spec.memoryMb,
    timeoutSeconds: spec.timeoutSeconds,
    region: spec.region ?? 'us-east-1',
    accountId: spec.accountId ?? '000000000000',
    env,
    log: spec.log,
  };
}

class LocalFunctionRuntime implements LocalFunction, FunctionUrlTarget {
  url = '';
  port = 0;
  readonly functionName: string;
  readonly functionArn: string;
  private server?: FunctionUrlServer;
  private envState?: Promise<EnvState>;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly counters = { invocations: 0, errors: 0, timeouts: 0, coldStarts: 0 };
  private queued = 0;
  private busy = false;
  private stopped = false;
  private initError?: string;
  private readonly recent: string[] = [];
  private current?: string[];
  private initCapture?: string[];

  constructor(private readonly spec: ResolvedSpec, private readonly layout: FunctionLayout, private readonly ownsWorkDir: boolean) {
    this.functionName = spec.functionName;
    this.functionArn = `arn:aws:lambda:${spec.region}:${spec.accountId}:function:${spec.functionName}`;
  }

  async start(port: number | undefined): Promise<void> {
    this.server = await startFunctionUrlServer(this, { port });
    this.url = this.server.url;
    this.port = this.server.port;
    this.envState = this.startEnvironment();
    await this.envState;
  }

  invoke(event: unknown, options?: InvokeOptions): Promise<InvokeResult> {
    return this.invokeRaw(JSON.stringify(event === undefined ? null : event), options);
  }

  invokeRaw(payload: Buffer | string, options: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.stopped) return Promise.reject(stoppedError(this.functionName));
    this.queued++;
    const run = this.chain.then(() => {
      this.queued--;
      return this.runOne(Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8'), options);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  stats(): LocalFunctionStats {
    return {
      ...this.counters,
      queued: this.queued,
      busy: this.busy,
      pid: this.liveEnv?.alive ? this.liveEnv.pid : undefined,
      initError: this.initError,
      recentLogs: [...this.recent],
    };
  }

  configuration(): Record<string, unknown> {
    return {
      FunctionName: this.functionName,
      FunctionArn: this.functionArn,
      Runtime: LAMBDA_NODE_RUNTIME,
      Handler: this.spec.handler,
      MemorySize: this.spec.memoryMb,
      Timeout: this.spec.timeoutSeconds,
      Version: this.spec.version,
      Environment: { Variables: this.spec.env },
      PackageType: 'Zip',
      Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
      State: 'Active',
      LastUpdateStatus: 'Successful',
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.server?.close();
    // An invocation may have started a fresh environment meanwhile: kill until none is left.
    for (let seen: Promise<EnvState> | undefined; this.envState && this.envState !== seen;) {
      seen = this.envState;
      const state = await seen.catch(() => undefined);
      await state?.env.kill();
    }
    if (this.ownsWorkDir) await fs.rm(this.layout.workDir, { recursive: true, force: true });
  }

  private liveEnv?: ExecutionEnvironment;

  private line(text: string): void {
    this.recent.push(text);
    if (this.recent.length > RECENT_LINES) this.recent.splice(0, this.recent.length - RECENT_LINES);
    this.current?.push(text);
    this.initCapture?.push(text);
    try {
      this.spec.log?.(text);
    } catch {
      // A failing log sink must not take the function down.
    }
  }

  private startEnvironment(): Promise<EnvState> {
    const p = (async (): Promise<EnvState> => {
      if (this.stopped) throw stoppedError(this.functionName);
      this.counters.coldStarts++;
      const t0 = performance.now();
      const initLines: string[] = [];
      this.initCapture = initLines;
      this.line(`INIT_START Runtime Version: ${LAMBDA_NODE_RUNTIME} (local)`);
      const spec = this.spec;
      const env = await ExecutionEnvironment.start({
        nodeArgs: runtimeNodeArgs(spec.memoryMb, this.layout.bootstrap),
        cwd: this.layout.taskRoot,
        env: (runtimeApi) => lambdaEnvironment({
          layout: this.layout,
          functionName: spec.functionName,
          version: spec.version,
          handler: spec.handler,
          memoryMb: spec.memoryMb,
          region: spec.region,
          runtimeApi,
          logStreamName: logStreamName(spec.version),
          env: spec.env,
          inherited: { PATH: process.env.PATH, HOME: process.env.HOME },
        }),
        onLine: (l) => this.line(l),
      });
      this.liveEnv = env;
      const init = await env.init(Math.max(INIT_LIMIT_MS, spec.timeoutSeconds * 1000));
      const initMs = performance.now() - t0;
      if (this.initCapture === initLines) this.initCapture = undefined;
      if (init.kind === 'ready') {
        this.initError = undefined;
      } else {
        const doc = initFailure(init, undefined, spec.timeoutSeconds);
        this.initError = `${doc.errorType}: ${doc.errorMessage}`;
        this.line(`INIT_REPORT Init Duration: ${initMs.toFixed(2)} ms\tPhase: init\tStatus: ${init.kind === 'timeout' ? 'timeout' : 'error'}\tError Type: ${doc.errorType}`);
      }
      return { env, init, initMs, fresh: true, reported: false, initLines };
    })();
    p.catch(() => { if (this.envState === p) this.envState = undefined; });
    return p;
  }

  /** An environment that has finished init and is still alive, or the init failure to answer. */
  private async readyEnvironment(): Promise<EnvState> {
    let last: EnvState | undefined;
    for (let attempt = 0; attempt < MAX_ENV_ATTEMPTS; attempt++) {
      if (this.stopped) throw stoppedError(this.functionName);
      this.envState ??= this.startEnvironment();
      const state = await this.envState;
      if (state.init.kind === 'ready' && state.env.alive) return state;
      this.envState = undefined;
      if (state.init.kind !== 'ready' && !state.reported) {
        state.reported = true;
        return state;
      }
      last = state;
    }
    return last as EnvState;
  }

  private async runOne(payload: Buffer, options: InvokeOptions): Promise<InvokeResult> {
    if (this.stopped) throw stoppedError(this.functionName);
    const requestId = randomUUID();
    const lines: string[] = [];
    this.current = lines;
    this.busy = true;
    const started = performance.now();
    const version = this.spec.version;
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    try {
      let state: EnvState;
      let outcome: EnvironmentOutcome;
      let invokeStart = performance.now();
      let initMs: number | undefined;
      for (let attempt = 1; ; attempt++) {
        state = await this.readyEnvironment();
        if (state.init.kind !== 'ready' || !state.env.alive) {
          const exit = state.env.exitStatus;
          const doc = state.init.kind === 'ready' ? exitError(requestId, exit?.code ?? null, exit?.signal ?? null) : initFailure(state.init, requestId, this.spec.timeoutSeconds);
          // Init ran before this request when the environment was started ahead of it.
          if (lines.length === 0) lines.push(...state.initLines);
          return this.finish(requestId, started, Buffer.from(JSON.stringify(doc)), true, lines);
        }
        if (state.fresh) initMs = state.initMs;
        state.fresh = false;
        if (attempt === 1) this.line(`START RequestId: ${requestId} Version: ${version}`);
        invokeStart = performance.now();
        outcome = await state.env.invoke({
          requestId,
          payload,
          deadlineMs: Date.now() + timeoutMs,
          invokedFunctionArn: options.qualifier ? `${this.functionArn}:${options.qualifier}` : this.functionArn,
          traceId: options.traceId ?? newTraceId(),
          clientContext: options.clientContext,
        }, timeoutMs);
        if (outcome.kind !== 'lost') break;
        // The runtime died before taking this event: it belongs to a fresh environment.
        this.envState = undefined;
        if (attempt >= MAX_ENV_ATTEMPTS) break;
      }
      const durationMs = performance.now() - invokeStart;
      let body: Buffer;
      let failed = false;
      let status: string | undefined;
      switch (outcome.kind) {
        case 'response':
          body = outcome.body;
          break;
        case 'error':
          body = outcome.body;
          failed = true;
          break;
        case 'exit':
        case 'lost': {
          const doc = exitError(requestId, outcome.code, outcome.signal);
          this.line(`RequestId: ${requestId} Error: ${doc.errorMessage.replace(/^RequestId: \S+ Error: /, '')}`);
          body = Buffer.from(JSON.stringify(doc));
          failed = true;
          status = 'error';
          this.envState = undefined;
          break;
        }
        case 'timeout': {
          this.counters.timeouts++;
          this.line(`${new Date().toISOString()} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`);
          body = Buffer.from(JSON.stringify(timeoutError(requestId, this.spec.timeoutSeconds)));
          failed = true;
          status = 'timeout';
          // The environment was reset; bring a fresh one up for the next request.
          this.envState = this.startEnvironment();
          break;
        }
      }
      this.line(`END RequestId: ${requestId}`);
      const memory = outcome.kind === 'response' || outcome.kind === 'error' ? state.env.maxMemoryUsedMb() : undefined;
      this.line([
        `REPORT RequestId: ${requestId}`,
        `Duration: ${durationMs.toFixed(2)} ms`,
        `Billed Duration: ${Math.ceil(durationMs + (initMs ?? 0))} ms`,
        `Memory Size: ${this.spec.memoryMb} MB`,
        ...(memory !== undefined ? [`Max Memory Used: ${memory} MB`] : []),
        ...(initMs !== undefined ? [`Init Duration: ${initMs.toFixed(2)} ms`] : []),
        ...(status ? [`Status: ${status}`] : []),
      ].join('\t'));
      return this.finish(requestId, started, body, failed, lines);
    } finally {
      this.current = undefined;
      this.busy = false;
    }
  }

  private finish(requestId: string, started: number, body: Buffer, failed: boolean, lines: string[]): InvokeResult {
    this.counters.invocations++;
    if (failed) this.counters.errors++;
    let payload: unknown = null;
    try {
      payload = body.length > 0 ? JSON.parse(body.toString('utf8')) : null;
    } catch {
      payload = null;
    }
    const log = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    return {
      requestId,
      payload,
      rawPayload: body,
      ...(failed ? { functionError: 'Unhandled' as const } : {}),
      logs: log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString('utf8'),
      executedVersion: this.spec.version,
      durationMs: performance.now() - started,
    };
  }
}

function stoppedError(functionName: string): DeployModelError {
  return new DeployModelError('LOCAL_FUNCTION_STOPPED', `The local function ${functionName} has been stopped; start it again to invoke it.`, {
    details: { functionName },
  });
}
