import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';

/** What the fake hands a runner to start one version of a function. */
export interface FunctionSpec {
  readonly functionName: string;
  /** `$LATEST` or a published version number. */
  readonly version: string;
  /** `file.export`, relative to the code root (e.g. `index.handler`). */
  readonly handler: string;
  readonly runtime: string;
  /** Path of the deployment package zip. */
  readonly codeZipFile: string;
  /** Paths of the layer zips, in the function's layer order. */
  readonly layerZipFiles: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Where the function believes it runs (AWS_REGION, ARNs). */
  readonly region?: string;
  readonly accountId?: string;
  /** Receives every line the function prints (runtime output, START, END, REPORT): its log stream. @default - none */
  readonly log?: (line: string) => void;
}

export interface InvokeResult {
  readonly payload: Buffer;
  /** `Unhandled` (or `Handled`) when the function failed; the payload then holds the error. */
  readonly functionError?: string;
  /** The last lines of the function's log, plain text (the fake base64-encodes it). */
  readonly logTail?: string;
}

export interface RunningFunction {
  invoke(event: unknown): Promise<InvokeResult>;
  stop(): Promise<void>;
}

/** Runs Lambda artifacts for the fake. The fake starts one per function version, lazily. */
export interface FunctionRunner {
  start(spec: FunctionSpec): Promise<RunningFunction>;
}

/** The payload Lambda answers for an exception thrown by a handler or its init. */
export function errorPayload(error: unknown): Buffer {
  const e = error instanceof Error ? error : new Error(String(error));
  return Buffer.from(
    JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }),
  );
}

/**
 * A runner that imports the handler module into this process. Good for the fake's own tests;
 * it neither isolates `process.env` (the spec's `env` is not applied) nor resolves layer
 * `node_modules` — use the local-function runner for real artifacts.
 */
export function inProcessFunctionRunner(): FunctionRunner {
  return {
    async start(spec) {
      const root = await mkdtemp(join(tmpdir(), `fn-${spec.functionName.slice(0, 40)}-`));
      const started = Date.now();
      let handler: ((event: unknown, context: unknown) => unknown) | undefined;
      let initError: unknown;
      try {
        await extractZip(await readFile(spec.codeZipFile), join(root, 'task'));
        for (const layer of spec.layerZipFiles) await extractZip(await readFile(layer), join(root, 'opt'));
        handler = await loadHandler(join(root, 'task'), spec.handler);
      } catch (e) {
        initError = e;
      }
      let requests = 0;
      return {
        async invoke(event) {
          const requestId = `${spec.functionName}-${spec.version}-${++requests}`;
          const log = [`START RequestId: ${requestId} Version: ${spec.version}`];
          try {
            if (!handler) throw initError;
            const context = lambdaContext(spec, requestId);
            const result = await withTimeout(Promise.resolve(handler(event, context)), spec.timeoutSeconds);
            return { payload: Buffer.from(JSON.stringify(result ?? null)), logTail: endLog(log, requestId, started) };
          } catch (e) {
            log.push(`ERROR ${e instanceof Error ? e.message : String(e)}`);
            return { payload: errorPayload(e), functionError: 'Unhandled', logTail: endLog(log, requestId, started) };
          }
        },
        async stop() {
          await rm(root, { recursive: true, force: true });
        },
      };
    },
  };
}

async function extractZip(zip: Buffer, into: string): Promise<void> {
  const files = unzipSync(new Uint8Array(zip));
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    const target = resolve(into, name);
    if (!target.startsWith(resolve(into))) throw new Error(`zip entry escapes the code root: ${name}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }
}

async function loadHandler(root: string, handler: string): Promise<(event: unknown, context: unknown) => unknown> {
  const dot = handler.lastIndexOf('.');
  const file = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  for (const ext of ['.mjs', '.js', '.cjs']) {
    const path = join(root, file + ext);
    try {
      await readFile(path);
    } catch {
      continue;
    }
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const fn = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name];
    if (typeof fn !== 'function') {
      throw Object.assign(new Error(`${file}.${name} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
    }
    return fn as (event: unknown, context: unknown) => unknown;
  }
  throw Object.assign(new Error(`Cannot find module '${file}'`), { name: 'Runtime.ImportModuleError' });
}

function lambdaContext(spec: FunctionSpec, requestId: string): Record<string, unknown> {
  const deadline = Date.now() + spec.timeoutSeconds * 1000;
  return {
    functionName: spec.functionName,
    functionVersion: spec.version,
    memoryLimitInMB: String(spec.memoryMb),
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function withTimeout<T>(work: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`Task timed out after ${seconds.toFixed(2)} seconds`), { name: 'Sandbox.Timedout' })),
      seconds * 1000,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function endLog(log: string[], requestId: string, started: number): string {
  log.push(`END RequestId: ${requestId}`, `REPORT RequestId: ${requestId}\tInit Duration: ${Date.now() - started} ms`);
  return log.join('\n') + '\n';
}
