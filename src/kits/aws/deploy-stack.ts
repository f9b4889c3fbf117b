/** Deploys one synthesised stack with toolkit-lib and reads back its outputs. */
import {
  BaseCredentials, StackParameters, StackSelectionStrategy, Toolkit, ToolkitError,
} from '@aws-cdk/toolkit-lib';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { awsReason, isCredentialsError, noCredentials, notBootstrapped } from './aws-errors.js';
import { declaredOutputs } from './_declared-outputs.js';
import { overrideNote } from './endpoint-override.js';
import { stackPollingInterval } from './stack-polling.js';
import { stackOutputsMissing } from './stack-outputs-missing.js';
import { ToolkitIoBridge } from './_toolkit-io-host.js';

export { destroyStack, type DestroyStackOptions } from './destroy-stack.js';
export { describeStack, type DescribeStackOptions, type StackDescription } from './describe-stack.js';
export { STACK_POLL_ENV, stackPollingInterval } from './stack-polling.js';

export interface DeployStackOptions {
  /** The cloud assembly folder holding the stack (e.g. `cdk.out/<stack>`). */
  readonly assemblyDir: string;
  readonly stackName: string;
  /** The stack's region; also the default region of the credential chain. */
  readonly region: string;
  /** Progress, including the toolkit's own messages (`DM_AWS_TOOLKIT`, its code in `data.cdkCode`). */
  readonly io: IoHelper;
  /**
   * Stack parameters to set; the others keep their deployed values.
   * @default - none
   */
  readonly parameters?: Record<string, string>;
  /**
   * How often stack events are polled while CloudFormation works, in milliseconds.
   * @default - `DEPLOY_MODEL_STACK_POLL_MS`, else toolkit-lib's default (2 s)
   */
  readonly pollingIntervalMs?: number;
}

export interface DeployStackResult {
  /** The stack's outputs after the deploy. */
  outputs: Record<string, string>;
  /** True when nothing changed and CloudFormation was not asked to update the stack. */
  noOp: boolean;
}

/**
 * Deploys one synthesised stack with `@aws-cdk/toolkit-lib` (assets to the bootstrap bucket, a
 * change set, stack events until it settles). Credentials come from the AWS CLI's chain; the
 * SDK's `AWS_ENDPOINT_URL[_SERVICE]` variables are honoured. An unchanged stack is skipped
 * (`noOp: true`).
 */
export async function deployStack(options: DeployStackOptions): Promise<DeployStackResult> {
  const { assemblyDir, stackName, region, io } = options;
  const bridge = new ToolkitIoBridge(io, stackName);
  const toolkit = new Toolkit({
    ioHost: bridge,
    color: false,
    emojis: false,
    sdkConfig: { baseCredentials: BaseCredentials.awsCliCompatible({ defaultRegion: region }) },
  });
  io.info('DM_AWS_STACK_DEPLOY', `Deploying stack ${stackName} to ${region}`, { stackName, region, assemblyDir });
  let outputs: Record<string, string>;
  try {
    const cx = await toolkit.fromAssemblyDirectory(assemblyDir);
    const result = await toolkit.deploy(cx, {
      stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackName] },
      // Without keeping existing values, toolkit-lib always sees the SSM-typed BootstrapVersion
      // parameter as changed and asks CloudFormation for a change set even when nothing changed.
      parameters: StackParameters.withExisting(options.parameters ?? {}),
      stackEventPollingInterval: stackPollingInterval(options.pollingIntervalMs),
    });
    const stack = result.stacks.find((s) => s.stackName === stackName) ?? result.stacks[0];
    outputs = { ...(stack?.outputs ?? {}) };
  } catch (e) {
    throw deployError(e, stackName, region, bridge.failures);
  }
  const noOp = bridge.noOp ?? false;
  const missing = declaredOutputs(assemblyDir, stackName).filter((key) => outputs[key] === undefined);
  if (missing.length > 0) throw stackOutputsMissing(stackName, region, missing, outputs);
  io.info('DM_AWS_STACK_DEPLOYED', noOp ? `Stack ${stackName} is unchanged` : `Stack ${stackName} deployed`, { stackName, noOp, outputs });
  return { outputs, noOp };
}

function deployError(e: unknown, stackName: string, region: string, failures: string[]): DeployModelError {
  if (e instanceof DeployModelError) return e;
  if (ToolkitError.isBootstrapError(e)) return notBootstrapped(e.environment.account, e.environment.region, e);
  if (ToolkitError.isAuthenticationError(e) || isCredentialsError(e)) return noCredentials(region, `deploy stack ${stackName}`, e);
  const reason = awsReason(e);
  // A missing bootstrap version parameter or bucket is a plain toolkit error naming the environment.
  const env = /aws:\/\/(\d{12})\/([a-z0-9-]+)/.exec(reason);
  if (env && /bootstrap/i.test(reason)) return notBootstrapped(env[1]!, env[2]!, e);
  // toolkit-lib's error names the stack's status; the stack events name the resource that failed
  // and CloudFormation's reason.
  const resources = failures.filter((f) => !reason.includes(f));
  return new DeployModelError('AWS_DEPLOY_FAILED',
    `Deploying stack ${stackName} in ${region} failed: ${reason}${resources.length ? `\n${resources.map((f) => `  - ${f}`).join('\n')}` : ''}\nCloudFormation keeps or restores what was deployed before. Fix the cause above and deploy again; \`deploy-model status\` shows the stack's state.${overrideNote('CloudFormation')}`,
    { cause: e, details: { stackName, region, failures } });
}
