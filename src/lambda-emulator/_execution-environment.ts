// One Lambda execution environment: a Node process running the function's runtime.
import { spawn, type ChildProcess } from 'node:child_process';
import { startRuntimeApi, type RuntimeApi, type RuntimeInvocation } from './runtime-api.js';
import type { MemoryLimit } from './_memory-limit.js';

/** How init ended: the runtime polled for work, reported an init error, exited, or took too long. */
export type InitOutcome =
  | { kind: 'ready' }
  | { kind: 'init-error'; body: Buffer; errorType?: string }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout' };

export type EnvironmentOutcome =
  | { kind: 'response'; body: Buffer }
  | { kind: 'error'; body: Buffer; errorType?: string }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  /** The runtime exited before it took the event (e.g. right after failing the previous one). */
  | { kind: 'lost'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout' };

export interface EnvironmentOptions {
  /** The `node` executable that runs the runtime. */
  node: string;
  nodeArgs: string[];
  cwd: string;
  /** Builds the process environment once the Runtime API address is known. */
  env: (runtimeApi: string) => Record<string, string>;
  /** Every line the runtime writes to stdout or stderr. */
  onLine: (line: string) => void;
  /** The memory the environment may use; it is killed above it. */
  memory: MemoryLimit;
  /** Another process tried the Runtime API and was turned away. */
  onRefused?: (clientPort: number) => void;
  /**
   * Whether the runtime marks the end of each invocation's output (our bootstrap does). Other
   * runtimes (aws-lambda-ric) do not: their output is given a moment after the result instead.
   * @default true
   */
  endMarkers?: boolean;
}

type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

const MARKER = '\u0000DM_LOCAL_END ';

/**
 * One execution environment: a runtime process with its own Runtime API server. It serves one
 * invocation at a time; after a timeout or a crash it is discarded, never reused.
 *
 * Waits are listener sets that are emptied as they fire, never `Promise.race` against a promise
 * that lives as long as the process: each race would leave a reaction on it for every request
 * (nodejs/node#17469), which is how a long-running deployment grew by kilobytes per request.
 */
export class ExecutionEnvironment {
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private exitInfo: ExitInfo | undefined;
  private readonly exitListeners = new Set<(e: ExitInfo) => void>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;
  private readonly exitedPromise: Promise<ExitInfo>;
  private readonly initPromise: Promise<InitOutcome>;
  private readonly markers = { stdout: '', stderr: '' };
  /** How long an invocation's output is awaited after its result. */
  private readonly flushWaitMs: number;
  private readonly markerWaiters = new Set<() => boolean>();
  private readonly memory: MemoryLimit;
  private finalPeakMb: number | undefined;
  private killedForMemory = false;

  private constructor(private readonly api: RuntimeApi, options: EnvironmentOptions, initHooks: { ready: Promise<InitOutcome> }) {
    this.memory = options.memory;
    this.flushWaitMs = options.endMarkers === false ? 20 : 1000;
    const { command, args } = options.memory.wrap(options.node, options.nodeArgs);
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env(api.address),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = (info: ExitInfo) => {
      if (this.exitInfo) return;
      // Read before the cgroup goes: the peak and whether the kernel killed it for memory.
      this.finalPeakMb = this.memory.peakMb(this.child.pid);
      if (this.memory.outOfMemory(this.child.pid)) this.killedForMemory = true;
      this.memory.release();
      this.exitInfo = info;
      for (const listener of [...this.exitListeners]) listener(info);
      this.exitListeners.clear();
      // A dead runtime's API server has nobody left to serve.
      void api.close();
    };
    this.exitedPromise = new Promise((resolve) => this.onExit(resolve));
    this.child.once('exit', (code, signal) => exited({ code, signal }));
    this.child.once('error', (error) => {
      options.onLine(`Runtime process failed to start: ${error.message}`);
      exited({ code: null, signal: null });
      this.markClosed();
    });
    this.child.once('close', () => this.markClosed());
    this.pipeLines('stdout', options.onLine);
    this.pipeLines('stderr', options.onLine);
    this.initPromise = Promise.race([
      initHooks.ready,
      this.exitedPromise.then((e): InitOutcome => ({ kind: 'exit', ...e })),
    ]);
    options.memory.watch(this.child.pid, () => {
      this.killedForMemory = true;
      this.child.kill('SIGKILL');
    });
  }

  static async start(options: EnvironmentOptions): Promise<ExecutionEnvironment> {
    let settle!: (o: InitOutcome) => void;
    const ready = new Promise<InitOutcome>((resolve) => { settle = resolve; });
    // The API exists before the process it serves: it learns the pid once spawned.
    const served: { env?: ExecutionEnvironment } = {};
    const api = await startRuntimeApi({
      onNext: () => settle({ kind: 'ready' }),
      onInitError: (body, errorType) => settle({ kind: 'init-error', body, errorType }),
      runtimePid: () => served.env?.pid,
      onRefused: options.onRefused,
    });
    const env = new ExecutionEnvironment(api, options, { ready });
    served.env = env;
    // A runtime that reported an init error exits by itself; make sure it does.
    void env.initPromise.then((o) => { if (o.kind === 'init-error') void env.kill(); });
    return env;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exitStatus(): ExitInfo | undefined {
    return this.exitInfo;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Whether it was killed for using more than its memory (by the kernel or the sampler). */
  get outOfMemory(): boolean {
    return this.killedForMemory || (this.alive && this.memory.outOfMemory(this.pid));
  }

  get memoryEnforcement(): MemoryLimit['enforcement'] {
    return this.memory.enforcement;
  }

  /** Calls `listener` once when the runtime exits; returns what removes it. */
  private onExit(listener: (e: ExitInfo) => void): () => void {
    if (this.exitInfo) {
      listener(this.exitInfo);
      return () => {};
    }
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of [...this.closeListeners]) listener();
    this.closeListeners.clear();
  }

  /** Resolves when init is over; kills the runtime if it takes longer than `limitMs`. */
  async init(limitMs: number): Promise<InitOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.initPromise,
      new Promise<InitOutcome>((resolve) => { timer = setTimeout(() => resolve({ kind: 'timeout' }), limitMs); }),
    ]);
    clearTimeout(timer);
    if (outcome.kind === 'timeout') await this.kill();
    return outcome;
  }

  /**
   * Runs one invocation. On a timeout the runtime is killed (as Lambda resets the environment);
   * in every case the invocation's output has reached `onLine` when this resolves.
   */
  async invoke(invocation: RuntimeInvocation, timeoutMs: number): Promise<EnvironmentOutcome> {
    const outcome = await new Promise<EnvironmentOutcome>((resolve) => {
      let settled = false;
      const finish = (o: EnvironmentOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        off();
        resolve(o);
      };
      const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
      const off = this.onExit((e) => finish({ kind: 'exit', ...e }));
      void this.api.dispatch(invocation).then(finish);
    });
    if (outcome.kind === 'timeout') await this.kill();
    else if (outcome.kind === 'exit') {
      const delivered = this.api.delivered(invocation.requestId);
      await this.kill();
      if (!delivered) return { ...outcome, kind: 'lost' };
    } else await this.outputFlushed(invocation.requestId);
    return outcome;
  }

  /** Peak memory of the environment in MB, for REPORT lines. */
  maxMemoryUsedMb(): number | undefined {
    return this.alive ? this.memory.peakMb(this.pid) : this.finalPeakMb;
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exitedPromise;
    await this.waitClosed(1000);
    await this.api.close();
  }

  private waitClosed(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.closeListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.closeListeners.add(done);
    });
  }

  /** Waits until both output streams carry the runtime's end marker for `requestId`, or closed. */
  private outputFlushed(requestId: string): Promise<void> {
    const done = () => this.markers.stdout === requestId && this.markers.stderr === requestId;
    if (done() || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.markerWaiters.delete(waiter);
        this.closeListeners.delete(finish);
        resolve();
      };
      const waiter = () => {
        if (!done()) return false;
        finish();
        return true;
      };
      const timer = setTimeout(finish, this.flushWaitMs);
      this.markerWaiters.add(waiter);
      this.closeListeners.add(finish);
    });
  }

  private pipeLines(stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
    let pending = '';
    const source = this.child[stream];
    if (!source) return;
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const at = line.indexOf(MARKER);
        if (at < 0) {
          onLine(line);
          continue;
        }
        if (at > 0) onLine(line.slice(0, at));
        this.markers[stream] = line.slice(at + MARKER.length);
        for (const waiter of [...this.markerWaiters]) waiter();
      }
    });
    source.on('end', () => {
      if (pending.length > 0) onLine(pending);
      pending = '';
    });
  }
}
