/**
 * Public shapes of the local executor: what runs a built Lambda artifact on this machine the way
 * the Lambda service would (Runtime API, managed Node runtime, Function URL, Invoke API).
 */
import type { IoHelper } from '../io/io-host.js';
import type { MemoryEnforcement } from './_memory-limit.js';
import type { RuntimeNode } from './lambda-node.js';

export type { MemoryEnforcement, RuntimeNode };

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
  /**
   * Memory size in MB: AWS_LAMBDA_FUNCTION_MEMORY_SIZE, the V8 heap limits derived from it, and
   * the most the execution environment may use, native memory included. Above it the
   * environment is killed and the invocation answers `Runtime.OutOfMemory`, as on Lambda: under a
   * cgroup limit where this machine lets one be made, otherwise by sampling the runtime's peak
   * resident memory (see `stats().memoryEnforcement`).
   */
  memoryMb: number;
  /**
   * Size of the function's /tmp in MB (Lambda's ephemeral storage, 512 to 10240). The function
   * gets its own tmp folder as TMPDIR, emptied for each new execution environment; an invocation
   * that leaves more than this in it fails with `Local.EphemeralStorageExceeded`, where Lambda
   * would have failed the write with ENOSPC.
   * @default 512
   */
  ephemeralStorageMb?: number;
  /**
   * Auth type of the Function URL. AWS_IAM events carry the caller's `accountId` and
   * `requestContext.authorizer.iam` as Lambda's do; NONE events say `anonymous`. Signatures are
   * not verified locally.
   * @default 'AWS_IAM' (what the aws-lambda target deploys)
   */
  functionUrlAuthType?: 'AWS_IAM' | 'NONE';
  /**
   * The `node` executable that runs the function.
   * @default - Node 22 of nodejs22.x: this process's Node when it is 22, else the one in
   * `<cacheDir>/lambda-node/` (see ensureLambdaNode); without either, this process's Node, and
   * `stats().runtimeNode.fallback` and a DM_LOCAL_NODE_FALLBACK warning say so
   */
  nodeBinary?: string;
  /**
   * A runtime interface client to run in place of the emulator's stand-in for Lambda's managed
   * runtime (`/var/runtime/index.mjs`), e.g. aws-lambda-ric's `index.mjs`; it is started as
   * `node <heap flags> <entry> <args>` in the task root, with the same environment.
   * @default - the emulator's own runtime bootstrap
   */
  runtimeInterfaceClient?: { entry: string; args?: string[] };
  /**
   * The toolkit's cache folder, where the runtime's Node is looked for.
   * @default - `$XDG_CACHE_HOME/deploy-model`, or `~/.cache/deploy-model`
   */
  cacheDir?: string;
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
  /**
   * Receives the emulator's warnings (DM_LOCAL_NODE_FALLBACK, DM_LOCAL_SLOW_INIT,
   * DM_LOCAL_OUT_OF_MEMORY, DM_LOCAL_EPHEMERAL_STORAGE, DM_LOCAL_RUNTIME_API_REFUSED) and the
   * memory enforcement in use (DM_LOCAL_MEMORY_ENFORCEMENT, debug).
   * @default - warnings are only kept in `stats().warnings`
   */
  io?: IoHelper;
}

/** Something that would go differently on Lambda, or that the user should know about the run. */
export interface LocalFunctionWarning {
  code: string;
  message: string;
  data?: Record<string, unknown>;
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
  /** Peak memory of the execution environment so far (Lambda's `Max Memory Used`), when known. */
  maxMemoryUsedMb?: number;
  /** Set on the first invocation of an execution environment: how long its init took. */
  initDurationMs?: number;
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
  /** Invocations answered `Runtime.OutOfMemory`. */
  outOfMemory: number;
  /** The configured memory size. */
  memoryMb: number;
  /** The highest `Max Memory Used` of any execution environment so far, in MB. */
  maxMemoryUsedMb?: number;
  /** How memoryMb is held: a cgroup limit, or the sampled peak resident memory. */
  memoryEnforcement?: MemoryEnforcement;
  /** The longest init so far, in ms: the cold start users will see. */
  maxInitDurationMs?: number;
  /** The Node the function runs on, and why when it is not Node 22. */
  runtimeNode: RuntimeNode;
  /** Connections to the Runtime API from processes other than the function, turned away. */
  refusedRuntimeApiConnections: number;
  /** The warnings so far (the last 50). */
  warnings: LocalFunctionWarning[];
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
