// Runs a built Lambda function on this machine as Lambda would.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DeployModelError } from '../errors.js';
import { layoutFunction, type FunctionLayout } from './layout-function.js';
import { ExecutionEnvironment, type EnvironmentOutcome, type InitOutcome } from './_execution-environment.js';
import { lambdaEnvironment, LAMBDA_NODE_RUNTIME, logStreamName, runtimeNodeArgs } from './_lambda-environment.js';
import { startFunctionUrlServer, type FunctionUrlServer, type FunctionUrlTarget } from './function-url-server.js';
import { newTraceId } from './_trace-id.js';
import { ephemeralStorageError, exitError, initFailure, INIT_LIMIT_MS, outOfMemoryError, timeoutError, type ErrorDoc } from './_error-documents.js';
import { createMemoryLimit, type MemoryEnforcement } from './_memory-limit.js';
import { folderBytes } from './_folder-size.js';
import { functionConfiguration, resolveSpec, type ResolvedSpec } from './_resolve-spec.js';
import { WARNINGS } from './_warnings.js';
import { invokeResult, reportLine } from './_invoke-result.js';
import type { InvokeOptions, InvokeResult, LocalFunction, LocalFunctionSpec, LocalFunctionStats, LocalFunctionWarning } from './types.js';

const RECENT_LINES = 200;
const MAX_WARNINGS = 50;
/** Attempts to get a live environment for one invocation before answering a runtime exit. */
const MAX_ENV_ATTEMPTS = 3;
const MB = 1024 * 1024;

interface EnvState {
  env: ExecutionEnvironment;
  init: InitOutcome;
  initMs: number;
  /** `init`: started ahead of requests, under Lambda's 10 s limit; `invoke`: inside a request. */
  phase: 'init' | 'invoke';
  /** The first invocation of an environment reports its init duration. */
  fresh: boolean;
  /** An init failure is answered to exactly one invocation. */
  reported: boolean;
  /** What the runtime logged during init, for the log tail of the invocation that reports a failure. */
  initLines: string[];
}

/**
 * Runs a built Lambda function on this machine as Lambda would: the code and layers laid out as
 * /var/task and /opt, one execution environment (a Node process of the runtime's major running
 * our managed-runtime stand-in against a local Runtime API) serving one request at a time, held
 * to its memory size, timeouts that reset the environment, and a Function URL (plus the Invoke
 * API) on 127.0.0.1.
 *
 * The environment is started at once, so init errors show in `stats().initError` before the first
 * request; the first invocation then answers that init error, as Lambda does. An init that passes
 * Lambda's 10 s limit is stopped and run again inside the first invocation.
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

class LocalFunctionRuntime implements LocalFunction, FunctionUrlTarget {
  url = '';
  port = 0;
  readonly functionName: string;
  readonly functionArn: string;
  private server?: FunctionUrlServer;
  private envState?: Promise<EnvState>;
  private liveEnv?: ExecutionEnvironment;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly counters = { invocations: 0, errors: 0, timeouts: 0, coldStarts: 0, outOfMemory: 0, refusedRuntimeApiConnections: 0 };
  private queued = 0;
  private busy = false;
  private stopped = false;
  private initError?: string;
  private readonly recent: string[] = [];
  private current?: string[];
  private initCapture?: string[];
  private readonly warnings: LocalFunctionWarning[] = [];
  private peakMb?: number;
  private maxInitMs?: number;
  private memoryEnforcement?: MemoryEnforcement;
  /** An init was cut at 10 s; the one that runs inside the next request reports how long it took. */
  private initCut?: number;

  constructor(private readonly spec: ResolvedSpec, private readonly layout: FunctionLayout, private readonly ownsWorkDir: boolean) {
    this.functionName = spec.functionName;
    this.functionArn = `arn:aws:lambda:${spec.region}:${spec.accountId}:function:${spec.functionName}`;
  }

  async start(port: number | undefined): Promise<void> {
    const node = this.spec.node;
    if (node.fallback) {
      this.warn(WARNINGS.nodeFallback(this.functionName, node));
    }
    this.server = await startFunctionUrlServer(this, { port, authType: this.spec.functionUrlAuthType, accountId: this.spec.accountId });
    this.url = this.server.url;
    this.port = this.server.port;
    this.envState = this.startEnvironment('init', INIT_LIMIT_MS);
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
    return { ...this.localStats(), recentLogs: [...this.recent] };
  }

  localStats(): Omit<LocalFunctionStats, 'recentLogs'> {
    return {
      ...this.counters,
      queued: this.queued,
      busy: this.busy,
      pid: this.liveEnv?.alive ? this.liveEnv.pid : undefined,
      initError: this.initError,
      memoryMb: this.spec.memoryMb,
      maxMemoryUsedMb: this.peakMb,
      memoryEnforcement: this.memoryEnforcement,
      maxInitDurationMs: this.maxInitMs === undefined ? undefined : Math.round(this.maxInitMs),
      runtimeNode: this.spec.node,
      warnings: [...this.warnings],
    };
  }

  configuration(): Record<string, unknown> {
    return functionConfiguration(this.spec, this.functionArn);
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

  private warn(warning: LocalFunctionWarning): void {
    this.warnings.push(warning);
    if (this.warnings.length > MAX_WARNINGS) this.warnings.splice(0, this.warnings.length - MAX_WARNINGS);
    if (typeof this.spec.io?.warn === 'function') this.spec.io.warn(warning.code, warning.message, { functionName: this.functionName, ...warning.data });
  }

  private refused(clientPort: number): void {
    const n = ++this.counters.refusedRuntimeApiConnections;
    // A process polling in a loop would flood the warnings: the first, then every hundredth.
    if (n === 1 || n % 100 === 0) {
      this.warn(WARNINGS.runtimeApiRefused(this.functionName, clientPort, n));
    }
  }

  private notePeak(mb: number | undefined): number | undefined {
    if (mb !== undefined) this.peakMb = Math.max(this.peakMb ?? 0, mb);
    return mb;
  }

  private startEnvironment(phase: 'init' | 'invoke', limitMs: number): Promise<EnvState> {
    const p = (async (): Promise<EnvState> => {
      if (this.stopped) throw stoppedError(this.functionName);
      this.counters.coldStarts++;
      const t0 = performance.now();
      const initLines: string[] = [];
      this.initCapture = initLines;
      const spec = this.spec;
      // A new execution environment starts with an empty /tmp.
      await fs.rm(this.layout.tmpDir, { recursive: true, force: true });
      await fs.mkdir(this.layout.tmpDir, { recursive: true });
      this.line(`INIT_START Runtime Version: ${LAMBDA_NODE_RUNTIME} (local, Node ${spec.node.version}${spec.node.fallback ? ', a fallback' : ''})`);
      const memory = createMemoryLimit(spec.memoryMb, spec.functionName);
      if (this.memoryEnforcement === undefined && typeof spec.io?.debug === 'function') {
        const m = WARNINGS.memoryEnforcement(this.functionName, spec.memoryMb, memory.enforcement);
        spec.io.debug(m.code, m.message, m.data);
      }
      this.memoryEnforcement = memory.enforcement;
      const ric = spec.runtimeInterfaceClient;
      const env = await ExecutionEnvironment.start({
        node: spec.node.binary,
        nodeArgs: [...runtimeNodeArgs(spec.memoryMb, ric ? ric.entry : this.layout.bootstrap, spec.env.NODE_OPTIONS), ...(ric?.args ?? [])],
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
          nodeBinary: spec.node.binary,
          env: spec.env,
        }),
        onLine: (l) => this.line(l),
        memory,
        onRefused: (clientPort) => this.refused(clientPort),
        endMarkers: ric === undefined,
      });
      this.liveEnv = env;
      const init = await env.init(limitMs);
      const initMs = performance.now() - t0;
      if (this.initCapture === initLines) this.initCapture = undefined;
      this.notePeak(env.maxMemoryUsedMb());
      if (init.kind === 'ready') {
        this.initError = undefined;
        this.maxInitMs = Math.max(this.maxInitMs ?? 0, initMs);
        if (phase === 'invoke' && this.initCut !== undefined) {
          this.initCut = undefined;
          this.warn(WARNINGS.slowInit(this.functionName, initMs, spec.timeoutSeconds));
        }
      } else if (init.kind === 'timeout' && phase === 'init') {
        // Not an error yet: the first request runs init again within its own timeout.
        this.initCut = initMs;
        this.line(`INIT_REPORT Init Duration: ${initMs.toFixed(2)} ms\tPhase: init\tStatus: timeout`);
      } else {
        const doc = env.outOfMemory ? outOfMemoryError('init') : initFailure(init, undefined, spec.timeoutSeconds);
        this.initError = `${doc.errorType}: ${doc.errorMessage}`;
        this.line(`INIT_REPORT Init Duration: ${initMs.toFixed(2)} ms\tPhase: ${phase}\tStatus: ${init.kind === 'timeout' ? 'timeout' : 'error'}\tError Type: ${doc.errorType}`);
        if (this.initCut !== undefined) {
          this.initCut = undefined;
          this.warn(WARNINGS.slowInitFailed(this.functionName, initMs, doc.errorType));
        }
        if (env.outOfMemory) this.warnOutOfMemory(env, 'init');
      }
      return { env, init, initMs, phase, fresh: true, reported: false, initLines };
    })();
    p.catch(() => { if (this.envState === p) this.envState = undefined; });
    return p;
  }

  private warnOutOfMemory(env: ExecutionEnvironment, when: string): void {
    this.warn(WARNINGS.outOfMemory(this.functionName, when, env.maxMemoryUsedMb(), this.spec.memoryMb, env.memoryEnforcement));
  }

  /** An environment that has finished init and is still alive, or the init failure to answer. */
  private async readyEnvironment(deadline: number): Promise<EnvState> {
    let last: EnvState | undefined;
    for (let attempt = 0; attempt < MAX_ENV_ATTEMPTS; attempt++) {
      if (this.stopped) throw stoppedError(this.functionName);
      this.envState ??= this.startEnvironment('invoke', Math.max(1, deadline - Date.now()));
      const state = await this.envState;
      if (state.init.kind === 'ready' && state.env.alive) return state;
      this.envState = undefined;
      // Cut at the 10 s init limit: nothing to answer, init runs again inside this request.
      if (state.init.kind === 'timeout' && state.phase === 'init') continue;
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
    const timeoutSeconds = this.spec.timeoutSeconds;
    // Init that runs inside the request counts against its timeout, as on Lambda.
    const deadline = Date.now() + timeoutSeconds * 1000;
    try {
      let state: EnvState;
      let outcome: EnvironmentOutcome;
      let invokeStart = performance.now();
      let initMs: number | undefined;
      let inInvoke = false;
      for (let attempt = 1; ; attempt++) {
        state = await this.readyEnvironment(deadline);
        if (state.init.kind !== 'ready' || !state.env.alive) return this.answerInitFailure(requestId, started, state, lines);
        if (state.fresh) {
          initMs = state.initMs;
          inInvoke = state.phase === 'invoke';
        }
        state.fresh = false;
        if (attempt === 1) this.line(`START RequestId: ${requestId} Version: ${version}`);
        invokeStart = performance.now();
        outcome = await state.env.invoke({
          requestId,
          payload,
          deadlineMs: deadline,
          invokedFunctionArn: options.qualifier ? `${this.functionArn}:${options.qualifier}` : this.functionArn,
          traceId: options.traceId ?? newTraceId(),
          clientContext: options.clientContext,
        }, Math.max(1, deadline - Date.now()));
        if (outcome.kind !== 'lost') break;
        // The runtime died before taking this event: it belongs to a fresh environment.
        this.envState = undefined;
        if (attempt >= MAX_ENV_ATTEMPTS) break;
      }
      // An init inside the request is part of its duration, not reported apart.
      const durationMs = performance.now() - invokeStart + (inInvoke ? initMs ?? 0 : 0);
      const answer = await this.answerOf(requestId, state, outcome);
      this.line(`END RequestId: ${requestId}`);
      const memory = this.notePeak(state.env.maxMemoryUsedMb());
      this.line(reportLine({
        requestId, durationMs, initMs: inInvoke ? undefined : initMs, memoryMb: this.spec.memoryMb,
        maxMemoryUsedMb: memory, status: answer.status, errorType: answer.errorType,
      }));
      return this.finish(requestId, started, answer.body, answer.failed, lines, memory, initMs);
    } finally {
      this.current = undefined;
      this.busy = false;
    }
  }

  /** What the invocation answers, once the platform's own checks (memory, /tmp) had their say. */
  private async answerOf(requestId: string, state: EnvState, outcome: EnvironmentOutcome): Promise<{ body: Buffer; failed: boolean; status?: string; errorType?: string }> {
    const doc = (d: ErrorDoc) => Buffer.from(JSON.stringify(d));
    if (outcome.kind === 'timeout') {
      this.counters.timeouts++;
      this.line(`${new Date().toISOString()} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`);
      // The environment was reset; bring a fresh one up for the next request.
      this.envState = this.startEnvironment('init', INIT_LIMIT_MS);
      return { body: doc(timeoutError(requestId, this.spec.timeoutSeconds)), failed: true, status: 'timeout' };
    }
    // Killed for memory (by the kernel or the sampler), or measured above the limit afterwards:
    // on Lambda the kernel would have killed it before it answered.
    if (state.env.outOfMemory) {
      if (state.env.alive) await state.env.kill();
      this.envState = undefined;
      this.counters.outOfMemory++;
      const error = outOfMemoryError(requestId);
      this.line(`RequestId: ${requestId} Error: Runtime exited with error: signal: killed`);
      this.line(error.errorType);
      this.warnOutOfMemory(state.env, `request ${requestId}`);
      return { body: doc(error), failed: true, status: 'error', errorType: error.errorType };
    }
    if (outcome.kind === 'exit' || outcome.kind === 'lost') {
      const error = exitError(requestId, outcome.code, outcome.signal);
      this.line(`RequestId: ${requestId} Error: ${error.errorMessage.replace(/^RequestId: \S+ Error: /, '')}`);
      this.envState = undefined;
      return { body: doc(error), failed: true, status: 'error', errorType: error.errorType };
    }
    const usedBytes = folderBytes(this.layout.tmpDir);
    if (usedBytes > this.spec.ephemeralStorageMb * MB) {
      const usedMb = Math.ceil(usedBytes / MB);
      await state.env.kill();
      this.envState = undefined;
      const error = ephemeralStorageError(requestId, usedMb, this.spec.ephemeralStorageMb);
      this.warn(WARNINGS.ephemeralStorage(this.functionName, usedMb, this.spec.ephemeralStorageMb));
      return { body: doc(error), failed: true, status: 'error', errorType: error.errorType };
    }
    return outcome.kind === 'response' ? { body: outcome.body, failed: false } : { body: outcome.body, failed: true };
  }

  private answerInitFailure(requestId: string, started: number, state: EnvState, lines: string[]): InvokeResult {
    const exit = state.env.exitStatus;
    const doc = state.env.outOfMemory ? outOfMemoryError(requestId)
      : state.init.kind === 'ready' ? exitError(requestId, exit?.code ?? null, exit?.signal ?? null)
        : initFailure(state.init, requestId, this.spec.timeoutSeconds);
    if (state.init.kind === 'timeout') {
      this.counters.timeouts++;
      this.line(`${new Date().toISOString()} ${requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`);
    }
    // Init ran before this request when the environment was started ahead of it.
    if (lines.length === 0) lines.push(...state.initLines);
    return this.finish(requestId, started, Buffer.from(JSON.stringify(doc)), true, lines, this.notePeak(state.env.maxMemoryUsedMb()), undefined);
  }

  private finish(requestId: string, started: number, body: Buffer, failed: boolean, lines: string[], maxMemoryUsedMb: number | undefined, initMs: number | undefined): InvokeResult {
    this.counters.invocations++;
    if (failed) this.counters.errors++;
    return invokeResult({ requestId, body, failed, lines, version: this.spec.version, started, maxMemoryUsedMb, initMs });
  }
}

function stoppedError(functionName: string): DeployModelError {
  return new DeployModelError('LOCAL_FUNCTION_STOPPED', `The local function ${functionName} has been stopped; start it again to invoke it.`, {
    details: { functionName },
  });
}
