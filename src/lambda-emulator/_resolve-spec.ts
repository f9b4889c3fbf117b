// Resolves a local function's spec once and checks it against Lambda's limits.
import { DeployModelError } from '../errors.js';
import type { IoHelper } from '../io/io-host.js';
import { assertNoReservedEnv, LAMBDA_NODE_RUNTIME } from './_lambda-environment.js';
import { findLambdaNode, type RuntimeNode } from './lambda-node.js';
import type { LocalFunctionSpec } from './types.js';

/** A spec with every default resolved once, and the Node it runs on. */
export type ResolvedSpec = Required<Pick<LocalFunctionSpec,
  'functionName' | 'version' | 'handler' | 'memoryMb' | 'timeoutSeconds' | 'region' | 'accountId' | 'ephemeralStorageMb' | 'functionUrlAuthType'
>> & {
  env: Record<string, string>;
  node: RuntimeNode;
  runtimeInterfaceClient?: { entry: string; args?: string[] };
  log?: (line: string) => void;
  io?: IoHelper;
};

export function resolveSpec(spec: LocalFunctionSpec): ResolvedSpec {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(spec.functionName)) problems.push(`functionName "${spec.functionName}" must be 1-64 letters, digits, hyphens or underscores`);
  if (!spec.handler || !spec.handler.includes('.')) problems.push(`handler "${spec.handler}" must look like module.export (e.g. index.handler)`);
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 128 || spec.memoryMb > 10240) problems.push(`memoryMb ${spec.memoryMb} must be an integer from 128 to 10240`);
  if (!(spec.timeoutSeconds > 0 && spec.timeoutSeconds <= 900)) problems.push(`timeoutSeconds ${spec.timeoutSeconds} must be above 0 and at most 900`);
  const storage = spec.ephemeralStorageMb ?? 512;
  if (!Number.isInteger(storage) || storage < 512 || storage > 10240) problems.push(`ephemeralStorageMb ${storage} must be an integer from 512 to 10240`);
  const authType = spec.functionUrlAuthType ?? 'AWS_IAM';
  if (authType !== 'AWS_IAM' && authType !== 'NONE') problems.push(`functionUrlAuthType "${String(authType)}" must be AWS_IAM or NONE`);
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
    ephemeralStorageMb: storage,
    functionUrlAuthType: authType,
    env,
    node: findLambdaNode({ nodeBinary: spec.nodeBinary, cacheDir: spec.cacheDir }),
    runtimeInterfaceClient: spec.runtimeInterfaceClient,
    log: spec.log,
    io: spec.io,
  };
}

/** The GetFunctionConfiguration document of a local function. */
export function functionConfiguration(spec: ResolvedSpec, functionArn: string): Record<string, unknown> {
  return {
    FunctionName: spec.functionName,
    FunctionArn: functionArn,
    Runtime: LAMBDA_NODE_RUNTIME,
    Handler: spec.handler,
    MemorySize: spec.memoryMb,
    EphemeralStorage: { Size: spec.ephemeralStorageMb },
    Timeout: spec.timeoutSeconds,
    Version: spec.version,
    Environment: { Variables: spec.env },
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
    State: 'Active',
    LastUpdateStatus: 'Successful',
  };
}
