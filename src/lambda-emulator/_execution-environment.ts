import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startRuntimeApi, type RuntimeApi, type RuntimeInvocation } from './runtime-api.js';

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
  nodeArgs: string[];
  cwd: string;
  /** Builds the process environment once the Runtime API address is known. */
  env: (runtimeApi: string) => Record<string, string>;
  /** Every line the runtime writes to stdout or stderr. */
  onLine: (line: string) => void;
}

const MARKER = '\u0000DM_LOCAL_END ';

/**
 * One execution environment: a runtime process with its own Runtime API server. It serves one
 * invocation at a time; after a timeout or a crash it is discarded, never reused.
 */
export class ExecutionEnvironment {
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitedPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly closedPromise: Promise<void>;
  private readonly initPromise: Promise<InitOutcome>;
  private readonly markers = { stdout: '', stderr: '' };
  /** Each returns true once satisfied. */
  private markerWaiters: Array<() => boolean> = [];

  private constructor(private readonly api: RuntimeApi, options: EnvironmentOptions, initHooks: { ready: Promise<InitOutcome> }) {
    this.child = spawn(process.execPath, options.nodeArgs, {
      cwd: options.cwd,
      env: options.env(api.address),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exitedPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.once('error', (error) => {
        options.onLine(`Runtime process failed to start: ${error.message}`);
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
    this.closedPromise = new Promise((resolve) => {
      this.child.once('close', () => resolve());
      this.child.once('error', () => resolve());
    });
    // A dead runtime's API server has nobody left to serve.
    void this.exitedPromise.then(() => api.close());
    this.pipeLines('stdout', options.onLine);
    this.pipeLines('stderr', options.onLine);
    this.initPromise = Promise.race([
      initHooks.ready,
      this.exitedPromise.then((e): InitOutcome => ({ kind: 'exit', ...e })),
    ]);
  }

  static async start(options: EnvironmentOptions): Promise<ExecutionEnvironment> {
    let settle!: (o: InitOutcome) => void;
    const ready = new Promise<InitOutcome>((resolve) => { settle = resolve; });
    const api = await startRuntimeApi({
      onNext: () => settle({ kind: 'ready' }),
      onInitError: (body, errorType) => settle({ kind: 'init-error', body, errorType }),
    });
    const env = new ExecutionEnvironment(api, options, { ready });
    // A runtime that reported an init error exits by itself; make sure it does.
    void env.initPromise.then((o) => { if (o.kind === 'init-error') void env.kill(); });
    return env;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
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
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race<EnvironmentOutcome>([
      this.api.dispatch(invocation),
      this.exitedPromise.then((e) => ({ kind: 'exit' as const, ...e })),
      new Promise<EnvironmentOutcome>((resolve) => { timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (outcome.kind === 'timeout') await this.kill();
    else if (outcome.kind === 'exit') {
      await this.kill();
      if (!this.api.delivered(invocation.requestId)) return { ...outcome, kind: 'lost' };
    } else await this.outputFlushed(invocation.requestId);
    return outcome;
  }

  /** Peak resident memory of the runtime in MB (Linux), for REPORT lines. */
  maxMemoryUsedMb(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
    } catch {
      return undefined;
    }
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exitedPromise;
    await withTimeout(this.closedPromise, 1000);
    await this.api.close();
  }

  /** Waits until both output streams carry the runtime's end marker for `requestId`, or closed. */
  private outputFlushed(requestId: string): Promise<void> {
    const done = () => this.markers.stdout === requestId && this.markers.stderr === requestId;
    if (done()) return Promise.resolve();
    return withTimeout(Promise.race([
      new Promise<void>((resolve) => {
        this.markerWaiters.push(() => {
          if (!done()) return false;
          resolve();
          return true;
        });
      }),
      this.closedPromise,
    ]), 1000);
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
        this.markerWaiters = this.markerWaiters.filter((satisfied) => !satisfied());
      }
    });
    source.on('end', () => {
      if (pending.length > 0) onLine(pending);
      pending = '';
    });
  }
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => undefined),
    new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); }),
  ]).finally(() => clearTimeout(timer));
}
