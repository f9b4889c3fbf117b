/** Deploys one synthesised stack with toolkit-lib and reads back its outputs. */
import {
  BaseCredentials, StackParameters, StackSelectionStrategy, Toolkit, ToolkitError,
} from '@aws-cdk/toolkit-lib';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import {
  accessDenied, awsReason, credentialsExpired, errorsIn, isAccessDenied, isCredentialsError, isExpiredCredentials, isThrottling, noCredentials,
  notBootstrapped, rootAwsError, throttled,
} from './aws-errors.js';
import { declaredOutputs } from './_declared-outputs.js';
import { overrideNote } from './endpoint-override.js';
import { stackPollingInterval, stackTimeoutMinutes } from './stack-polling.js';
import { stackOutputsMissing } from './stack-outputs-missing.js';
import { stackTimedOut } from './_stack-timeout.js';
import { ToolkitIoBridge } from './_toolkit-io-host.js';

export { destroyStack, type DestroyStackOptions } from './destroy-stack.js';
export { describeStack, type DescribeStackOptions, type StackDescription } from './describe-stack.js';
export { STACK_POLL_ENV, STACK_TIMEOUT_ENV, stackPollingInterval, stackTimeoutMinutes } from './stack-polling.js';

/** How long a stack operation is waited for when neither the caller nor the environment says. */
export const DEFAULT_STACK_TIMEOUT_MINUTES = 60;

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
  /**
   * How long the stack operation (from ExecuteChangeSet until the stack settles) is waited for, in
   * minutes. Past it an update in progress is cancelled (CloudFormation rolls it back) and the
   * deploy fails with AWS_STACK_TIMEOUT.
   * @default - `DEPLOY_MODEL_STACK_TIMEOUT_MINUTES`, else 60
   */
  readonly timeoutMinutes?: number;
}

export interface DeployStackResult {
  /** The stack's outputs after the deploy. */
  outputs: Record<string, string>;
  /** True when nothing changed and CloudFormation was not asked to update the stack. */
  noOp: boolean;
}

/**
 * Deploys one synthesised stack with `@aws-cdk/toolkit-lib` (assets to the bootstrap bucket, a
 * change set, stack events until it settles, at most `timeoutMinutes`: an update that outlives
 * it is cancelled and rolled back). Credentials come from the AWS CLI's chain; the SDK's
 * `AWS_ENDPOINT_URL[_SERVICE]` variables are honoured. An unchanged stack is skipped (`noOp: true`).
 * Expired or denied credentials, throttling past the retries and a failed rollback each have
 * their code (AWS_CREDENTIALS_EXPIRED, AWS_ACCESS_DENIED, AWS_THROTTLED, AWS_STACK_ROLLBACK_FAILED).
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
  const deploying = (async () => {
    const cx = await toolkit.fromAssemblyDirectory(assemblyDir);
    return toolkit.deploy(cx, {
      stacks: { strategy: StackSelectionStrategy.PATTERN_MUST_MATCH_SINGLE, patterns: [stackName] },
      // Without keeping existing values, toolkit-lib always sees the SSM-typed BootstrapVersion
      // parameter as changed and asks CloudFormation for a change set even when nothing changed.
      parameters: StackParameters.withExisting(options.parameters ?? {}),
      stackEventPollingInterval: stackPollingInterval(options.pollingIntervalMs),
    });
  })();
  const minutes = options.timeoutMinutes ?? stackTimeoutMinutes(DEFAULT_STACK_TIMEOUT_MINUTES);
  const timeout = startTimeout(bridge, minutes);
  let outputs: Record<string, string>;
  try {
    // toolkit-lib waits for the stack without end (and takes no abort signal): race it.
    const result = await Promise.race([deploying, timeout.expired]);
    if (result === TIMED_OUT) {
      throw await stackTimedOut({ stackName, region, io, minutes, deploying });
    }
    const stack = result.stacks.find((s) => s.stackName === stackName) ?? result.stacks[0];
    outputs = { ...(stack?.outputs ?? {}) };
  } catch (e) {
    throw deployError(e, stackName, region, bridge);
  } finally {
    timeout.clear();
  }
  const noOp = bridge.noOp ?? false;
  const missing = declaredOutputs(assemblyDir, stackName).filter((key) => outputs[key] === undefined);
  if (missing.length > 0) throw stackOutputsMissing(stackName, region, missing, outputs);
  io.info('DM_AWS_STACK_DEPLOYED', noOp ? `Stack ${stackName} is unchanged` : `Stack ${stackName} deployed`, { stackName, noOp, outputs });
  return { outputs, noOp };
}

const TIMED_OUT = Symbol('timed out');

/** A timer that starts when the toolkit starts watching the stack operation (asset uploads and the change set are not counted). */
function startTimeout(bridge: ToolkitIoBridge, minutes: number): { expired: Promise<typeof TIMED_OUT>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  const expired = bridge.operationStarted.then(() => new Promise<typeof TIMED_OUT>((resolve) => {
    if (cleared) return;
    // setTimeout takes at most 2^31 - 1 ms (24.8 days); a longer wait would fire at once.
    timer = setTimeout(() => resolve(TIMED_OUT), Math.min(minutes * 60_000, 2 ** 31 - 1));
  }));
  return { expired, clear: () => { cleared = true; clearTimeout(timer); } };
}

function deployError(e: unknown, stackName: string, region: string, bridge: ToolkitIoBridge): DeployModelError {
  if (e instanceof DeployModelError) return e;
  const { failures } = bridge;
  if (ToolkitError.isBootstrapError(e)) return notBootstrapped(e.environment.account, e.environment.region, e);
  if (isExpiredCredentials(e)) return credentialsExpired(region, `deploy stack ${stackName}`, e);
  if (ToolkitError.isAuthenticationError(e) || isCredentialsError(e)) return noCredentials(region, `deploy stack ${stackName}`, e);
  if (isAccessDenied(e)) return accessDenied(region, `deploy stack ${stackName}`, e);
  // toolkit-lib reports a failed upload as AssetPublishFailed, the S3 error inside an AggregateError.
  const uploading = errorsIn(e).some((x) => x.name === 'AssetPublishFailed');
  if (isThrottling(e)) return throttled(uploading ? 'S3' : 'CloudFormation', region, uploading ? `upload the assets of stack ${stackName}` : `deploy stack ${stackName}`, e);
  const root = rootAwsError(e);
  const outer = awsReason(e);
  const reason = root !== e && !outer.includes((root as Error).message) ? `${outer} (${awsReason(root)})` : outer;
  // A missing bootstrap version parameter or bucket is a plain toolkit error naming the environment.
  const env = /aws:\/\/(\d{12})\/([a-z0-9-]+)/.exec(reason);
  if (env && /bootstrap/i.test(reason)) return notBootstrapped(env[1]!, env[2]!, e);
  // toolkit-lib's error names the stack's status; the stack events name the resource that failed
  // and CloudFormation's reason.
  const resources = failures.filter((f) => !reason.includes(f));
  const list = resources.length ? `\n${resources.map((f) => `  - ${f}`).join('\n')}` : '';
  if (/UPDATE_ROLLBACK_FAILED/.test(`${reason} ${failures.join(' ')}`)) return rollbackFailed(e, stackName, region, `${reason}${list}`, failures, bridge.rollbackFailures);
  return new DeployModelError('AWS_DEPLOY_FAILED',
    `Deploying stack ${stackName} in ${region} failed: ${reason}${list}\nCloudFormation keeps or restores what was deployed before. Fix the cause above and deploy again; \`deploy-model status\` shows the stack's state.${overrideNote('CloudFormation')}`,
    { cause: e, details: { stackName, region, failures } });
}

/**
 * The update failed and so did its rollback: the stack is UPDATE_ROLLBACK_FAILED and takes no
 * update until the rollback is continued. Resources the rollback restored serve as before.
 */
function rollbackFailed(e: unknown, stackName: string, region: string, reason: string, failures: string[], stuck: string[]): DeployModelError {
  const skip = stuck.length ? ` (add \`--resources-to-skip ${stuck.join(' ')}\` for a resource that cannot go back to its old state)` : '';
  return new DeployModelError('AWS_STACK_ROLLBACK_FAILED',
    `Deploying stack ${stackName} in ${region} failed, and so did CloudFormation's rollback: the stack is UPDATE_ROLLBACK_FAILED and takes no update until the rollback is continued. ${reason}\n` +
    `Resources the rollback restored, and what they serve, are as before the deploy${stuck.length ? `; ${stuck.join(', ')} could not be restored` : ''}. ` +
    `Fix the cause of the failed restore, then deploy again (deploy-model continues the rollback first), or run \`aws cloudformation continue-update-rollback --stack-name ${stackName} --region ${region}\`${skip}.${overrideNote('CloudFormation')}`,
    { cause: e, details: { stackName, region, failures, notRestored: stuck } });
}
