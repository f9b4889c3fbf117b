/**
 * Public shapes of the local executor: what runs a built Lambda artifact on this machine the way
 * the Lambda service would (Runtime API, managed Node runtime, Function URL, Invoke API).
 */

export interface LocalFunctionSpec {
  /** Lambda function name; also AWS_LAMBDA_FUNCTION_NAME and the log group `/aws/lambda/<name>`. */
  functionName: string;
  /**
   * Version this execution environment runs (AWS_LAMBDA_FUNCTION_VERSION, X-Amz-Executed-Version).
   * @default '$LATEST'
   */
  version?: string;
  /** Handler string as Lambda reads it: `[dir/]module.export[.nested]`, e.g. `index.handler`. */
  handler: string;
  /** Function code as a zip (unpacked into the task root). Exactly one of codeZip and codeDir. */
  codeZip?: string;
  /** Function code as a folder (copied into the task root, so nothing outside it is reachable). */
  codeDir?: string;
  /**
   * Layers in order, each a zip or a folder; later layers overwrite earlier ones in `/opt`, as on
   * Lambda.
   * @default []
   */
  layers?: string[];
  /** The function's own environment variables. Lambda's reserved names are refused. */
  env?: Record<string, string>;
  /** Memory size in MB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, and the V8 heap limits derived from it). */
  memoryMb: number;
  /** Per-invocation timeout in seconds. */
  timeoutSeconds: number;
  /**
   * Region the function believes it runs in (AWS_REGION, ARNs).
   * @default 'us-east-1'
   */
  region?: string;
  /**
   * Account id used in ARNs.
   * @default '000000000000'
   */
  accountId?: string;
  /**
   * Folder that receives `task/`, `opt/` and `runtime/`. It must not sit inside a project with a
   * node_modules folder above it, or the handler could resolve packages Lambda would not have.
   * @default - a fresh folder under os.tmpdir(), removed by stop()
   */
  workDir?: string;
  /**
   * Loopback port of the Function URL (which also serves the Invoke API).
   * @default - a free port
   */
  port?: number;
  /**
   * Receives every log line of the function (runtime output plus START/END/REPORT lines).
   * @default - lines are only kept for `logs` and `stats().recentLogs`
   */
  log?: (line: string) => void;
}

export interface InvokeOptions {
  /** Version or alias the caller named; it only shows in the invoked function ARN. */
  qualifier?: string;
  /** X-Ray trace header handed to the runtime. @default - a generated one */
  traceId?: string;
  /** Base64 client context (Invoke API `X-Amz-Client-Context`), passed to the runtime as JSON. */
  clientContext?: string;
}

export interface InvokeResult {
  requestId: string;
  /** The response (or error document) parsed from JSON; null when the body is empty or not JSON. */
  payload: unknown;
  /** The response bytes exactly as the runtime posted them. */
  rawPayload: Buffer;
  /** `Unhandled` when the function failed: a thrown error, a timeout, a crash or an init error. */
  functionError?: 'Unhandled';
  /** The tail (last 4 KB) of this invocation's log, like `x-amz-log-result`. */
  logs: string;
  executedVersion: string;
  durationMs: number;
}

export interface LocalFunctionStats {
  invocations: number;
  errors: number;
  timeouts: number;
  /** Execution environments started (the first one included): every one is a cold start. */
  coldStarts: number;
  queued: number;
  busy: boolean;
  /** Process id of the current execution environment, when one runs. */
  pid?: number;
  /** The last init error the runtime reported, as `errorType: errorMessage`. */
  initError?: string;
  /** The last lines the function logged. */
  recentLogs: string[];
}

export interface LocalFunction {
  /** Base URL of the Function URL (and of the Invoke API), e.g. `http://127.0.0.1:43117`. */
  readonly url: string;
  readonly port: number;
  readonly functionArn: string;
  /** Invokes with a JSON-serialisable event. */
  invoke(event: unknown, options?: InvokeOptions): Promise<InvokeResult>;
  /** Invokes with raw JSON bytes, as the Invoke API receives them. */
  invokeRaw(payload: Buffer | string, options?: InvokeOptions): Promise<InvokeResult>;
  stats(): LocalFunctionStats;
  /** Kills the execution environment, closes both servers and removes a generated workDir. */
  stop(): Promise<void>;
}
