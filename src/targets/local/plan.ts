/** The local target's plan: the function the emulator runs, with the settings aws-lambda would give it. */
import { servingEnv } from '../../../handlers/serving-env.js';
import { defaultLambdaMemoryMb } from '../../kits/aws/lambda-limits.js';
import { basePlan } from '../base-plan.js';
import type { PlanInput, TargetPlanBase } from '../target-module.js';
import type { LocalTargetConfig } from './schema.js';

export interface LocalPlan extends TargetPlanBase {
  readonly type: 'local';
  /** The function's name in the emulator (and in its log lines): the resource name. */
  readonly functionName: string;
  /** The layer built for this machine. */
  readonly architecture: 'x86_64' | 'arm64';
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly ephemeralStorageMb: number;
  /** The Function URL's auth type, which decides the events' requestContext. */
  readonly urlAuth: 'AWS_IAM' | 'NONE';
  /** @default - a free port chosen at deploy time */
  readonly port?: number;
  /** The Lambda runtime the emulator reports. */
  readonly runtime: 'nodejs22.x';
  readonly handler: 'index.handler';
  /** The serving environment (`DM_*`). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The Lambda architecture matching this machine; `validate` refuses a machine that has none. */
export function hostArchitecture(arch: string = process.arch): 'x86_64' | 'arm64' {
  return arch === 'arm64' ? 'arm64' : 'x86_64';
}

export function planLocal(input: PlanInput<LocalTargetConfig>): LocalPlan {
  const { config, target, signature } = input;
  const base = basePlan(input, [
    { phase: 'stage', action: 'start the new function under the local Lambda runtime on its own port' },
    { phase: 'smoke', action: 'call it through its Function URL on 127.0.0.1' },
    { phase: 'promote', action: 'record it as the deployment and stop the previous one' },
    { phase: 'rollback', action: 'stop the new function; the previous one keeps serving' },
  ]);
  return {
    ...base,
    type: 'local',
    functionName: base.resourceName,
    architecture: hostArchitecture(),
    memoryMb: target.memoryMb ?? defaultLambdaMemoryMb(signature.bytes),
    timeoutSeconds: target.timeoutSeconds,
    ephemeralStorageMb: target.ephemeralStorageMb,
    urlAuth: target.url.auth === 'none' ? 'NONE' : 'AWS_IAM',
    ...(target.port === undefined ? {} : { port: target.port }),
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    environment: servingEnv({ modelName: config.name, runtime: config.runtime, inputs: config.model.inputs, entry: 'lambda' }),
  };
}
