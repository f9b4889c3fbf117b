// The environment variables Lambda gives a function, and the ones it reserves.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeployModelError } from '../errors.js';
import type { FunctionLayout } from './layout-function.js';

/** The managed runtime this executor plays. */
export const LAMBDA_NODE_RUNTIME = 'nodejs22.x';

/**
 * Names Lambda sets itself and refuses in a function's configuration. The credential variables
 * are left out on purpose: on Lambda the platform injects them, locally the caller may.
 */
export const RESERVED_ENV_NAMES: readonly string[] = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
];

export interface LambdaEnvironmentInput {
  layout: Pick<FunctionLayout, 'taskRoot' | 'optDir' | 'runtimeDir' | 'tmpDir' | 'homeDir'>;
  functionName: string;
  version: string;
  handler: string;
  memoryMb: number;
  region: string;
  runtimeApi: string;
  logStreamName: string;
  /** The `node` that runs the function: its install stands in for `/var/lang`. */
  nodeBinary: string;
  /** The function's own variables; may extend PATH, NODE_PATH, LD_LIBRARY_PATH, TZ, LANG. */
  env: Record<string, string>;
}

export function assertNoReservedEnv(functionName: string, env: Record<string, string>): void {
  const used = Object.keys(env).filter((k) => RESERVED_ENV_NAMES.includes(k));
  if (used.length > 0) {
    throw new DeployModelError('LOCAL_RESERVED_ENV', `Function ${functionName} sets reserved environment variables ${used.join(', ')}; Lambda sets these itself and rejects them in a function's configuration. Rename them.`, {
      details: { functionName, reserved: used },
    });
  }
}

/**
 * The environment of the runtime process, as Lambda builds it for nodejs22.x, with the local
 * folders in place of /var/lang, /var/task, /opt and /var/runtime. Nothing of this process leaks
 * in: PATH and LD_LIBRARY_PATH are Lambda's documented ones, and HOME is a folder that cannot be
 * created, as the sandbox user's home on Lambda's read-only file system cannot.
 */
export function lambdaEnvironment(input: LambdaEnvironmentInput): Record<string, string> {
  const { taskRoot, optDir, runtimeDir } = input.layout;
  const lang = path.dirname(path.dirname(input.nodeBinary));
  const base: Record<string, string> = {
    // Documented: /usr/local/bin:/usr/bin/:/bin:/opt/bin; the Node runtimes put /var/lang/bin first.
    PATH: [path.join(lang, 'bin'), '/usr/local/bin', '/usr/bin/', '/bin', path.join(optDir, 'bin')].join(path.delimiter),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    // Documented: /var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib
    LD_LIBRARY_PATH: [
      path.join(lang, 'lib'), '/lib64', '/usr/lib64', runtimeDir, path.join(runtimeDir, 'lib'),
      taskRoot, path.join(taskRoot, 'lib'), path.join(optDir, 'lib'),
    ].join(path.delimiter),
    // What the managed runtime's bootstrap script exports when NODE_PATH is unset.
    NODE_PATH: [
      path.join(optDir, 'nodejs', 'node22', 'node_modules'),
      path.join(optDir, 'nodejs', 'node_modules'),
      path.join(runtimeDir, 'node_modules'),
      runtimeDir,
      taskRoot,
    ].join(path.delimiter),
    HOME: input.layout.homeDir,
    // Lambda's /tmp is the function's own; here it is a folder of the execution environment,
    // measured against ephemeralStorageMb. Code that writes to a literal `/tmp` is not covered.
    TMPDIR: input.layout.tmpDir,
  };
  const reserved: Record<string, string> = {
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: runtimeDir,
    _HANDLER: input.handler,
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    AWS_EXECUTION_ENV: `AWS_Lambda_${LAMBDA_NODE_RUNTIME}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_FUNCTION_NAME: input.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: input.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${input.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStreamName,
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
  };
  return { ...base, ...input.env, ...reserved };
}

/**
 * Node flags of the managed runtime's bootstrap script: the V8 heap is sized from the memory
 * setting (a tenth for the young generation, the rest for the old one), each flag left out when
 * the function's NODE_OPTIONS already sets it.
 */
export function runtimeNodeArgs(memoryMb: number, bootstrap: string, nodeOptions = ''): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  const semiSpace = Math.floor(newSpace / 2);
  const oldSpace = memoryMb - newSpace;
  return [
    '--expose-gc',
    '--max-http-header-size', '81920',
    ...(nodeOptions.includes('--max-semi-space-size') ? [] : [`--max-semi-space-size=${semiSpace}`]),
    ...(nodeOptions.includes('--max-old-space-size') ? [] : [`--max-old-space-size=${oldSpace}`]),
    bootstrap,
  ];
}

/** `2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef`, as Lambda names log streams. */
export function logStreamName(version: string, now = new Date()): string {
  const d = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${d}/[${version}]${randomBytes(16).toString('hex')}`;
}
