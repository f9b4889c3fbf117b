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
  layout: Pick<FunctionLayout, 'taskRoot' | 'optDir' | 'runtimeDir'>;
  functionName: string;
  version: string;
  handler: string;
  memoryMb: number;
  region: string;
  runtimeApi: string;
  logStreamName: string;
  /** The function's own variables; may extend PATH, NODE_PATH, LD_LIBRARY_PATH, TZ, LANG. */
  env: Record<string, string>;
  /** Inherited from this process so tools and the user's home still resolve. */
  inherited: { PATH?: string; HOME?: string };
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
 * folders in place of /var/task, /opt and /var/runtime. Nothing else of this process leaks in
 * beyond PATH and HOME.
 */
export function lambdaEnvironment(input: LambdaEnvironmentInput): Record<string, string> {
  const { taskRoot, optDir, runtimeDir } = input.layout;
  // npm and npx put every node_modules/.bin above the project on PATH; Lambda has none of them.
  const inheritedPath = (input.inherited.PATH ?? '').split(path.delimiter).filter((p) => p !== '' && !p.split(/[\\/]/).includes('node_modules'));
  const base: Record<string, string> = {
    PATH: [...inheritedPath, path.join(optDir, 'bin')].join(path.delimiter),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LD_LIBRARY_PATH: [taskRoot, path.join(taskRoot, 'lib'), path.join(optDir, 'lib')].join(path.delimiter),
    // What the managed runtime's bootstrap script exports when NODE_PATH is unset.
    NODE_PATH: [
      path.join(optDir, 'nodejs', 'node22', 'node_modules'),
      path.join(optDir, 'nodejs', 'node_modules'),
      path.join(runtimeDir, 'node_modules'),
      runtimeDir,
      taskRoot,
    ].join(path.delimiter),
  };
  if (input.inherited.HOME) base.HOME = input.inherited.HOME;
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
 * setting (a tenth for the young generation, the rest for the old one).
 */
export function runtimeNodeArgs(memoryMb: number, bootstrap: string): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  const semiSpace = Math.floor(newSpace / 2);
  const oldSpace = memoryMb - newSpace;
  return [
    '--expose-gc',
    '--max-http-header-size', '81920',
    `--max-semi-space-size=${semiSpace}`,
    `--max-old-space-size=${oldSpace}`,
    bootstrap,
  ];
}

/** `2024/05/01/[$LATEST]0123456789abcdef0123456789abcdef`, as Lambda names log streams. */
export function logStreamName(version: string, now = new Date()): string {
  const d = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${d}/[${version}]${randomBytes(16).toString('hex')}`;
}
