/** What a stack operation that outlives its timeout becomes: an update cancelled (so it rolls back) or left to go on, and the error that says which. */
import { CancelUpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import { awsReason } from './aws-errors.js';
import { cloudFormationClient, describeWith } from './describe-stack.js';
import { STACK_TIMEOUT_ENV } from './stack-polling.js';

export interface StackTimeoutOptions {
  readonly stackName: string;
  readonly region: string;
  readonly io: IoHelper;
  readonly minutes: number;
  /** The toolkit's deploy, still watching the stack: it settles when the stack does. */
  readonly deploying: Promise<unknown>;
}

/** The longest wait for the rollback of a cancelled update before the timeout is reported. */
const ROLLBACK_WAIT_MINUTES = 10;

function duration(minutes: number): string {
  return minutes >= 1 ? `${Math.round(minutes * 10) / 10} min` : `${Math.round(minutes * 600) / 10} s`;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 2 ** 31 - 1)).unref());

/**
 * Called when a stack operation outlived its timeout. An update in progress is cancelled
 * (CancelUpdateStack), so that CloudFormation rolls the stack back to what was deployed before
 * rather than finishing, later and untested, what deploy-model gave up on; the rollback is waited
 * for (as long again, 10 minutes at most). A creation cannot be cancelled. Returns
 * AWS_STACK_TIMEOUT saying what CloudFormation did and what to do.
 */
export async function stackTimedOut(options: StackTimeoutOptions): Promise<DeployModelError> {
  const { stackName, region, io, minutes, deploying } = options;
  const client = cloudFormationClient(region);
  try {
    const before = await describeWith(client, stackName, region).catch(() => undefined);
    let cancelled = false;
    if (before?.status === 'UPDATE_IN_PROGRESS') {
      io.warn('DM_AWS_STACK_CANCEL', `Stack ${stackName} is still ${before.status} after ${duration(minutes)}: cancelling the update, so that CloudFormation rolls it back`, { stackName, region });
      try {
        await client.send(new CancelUpdateStackCommand({ StackName: stackName }));
        cancelled = true;
      } catch (e) {
        io.warn('DM_AWS_STACK_CANCEL_FAILED', `Could not cancel the update of stack ${stackName}: ${awsReason(e)}`, { stackName, region });
      }
    }
    // toolkit-lib still watches the stack: it settles when the rollback ends.
    if (cancelled) await Promise.race([deploying.then(() => undefined, () => undefined), sleep(Math.min(minutes, ROLLBACK_WAIT_MINUTES) * 60_000)]);
    const after = await describeWith(client, stackName, region).catch(() => undefined);
    const now = after?.status ?? 'unknown';
    const what = cancelled
      ? now === 'UPDATE_ROLLBACK_COMPLETE'
        ? 'deploy-model cancelled the update (CancelUpdateStack), and CloudFormation rolled the stack back to what was deployed before, which serves as it did.'
        : `deploy-model cancelled the update (CancelUpdateStack): CloudFormation rolls the stack back to what was deployed before once the resource in progress ends (now ${now}).`
      : `deploy-model stopped waiting; CloudFormation goes on with the operation (now ${now}), which cannot be cancelled.`;
    return new DeployModelError('AWS_STACK_TIMEOUT',
      `Stack ${stackName} in ${region} did not finish its operation within ${duration(minutes)} (it was ${before?.status ?? 'unknown'}). ${what} ` +
      `Fix: find the resource that does not finish in the stack's events (\`aws cloudformation describe-stack-events --stack-name ${stackName} --region ${region}\`) and remove its cause; if the operation only needs longer, set ${STACK_TIMEOUT_ENV} to more minutes. \`deploy-model status\` shows the stack's state.`,
      { details: { stackName, region, timeoutMinutes: minutes, statusAtTimeout: before?.status, status: after?.status, cancelled } });
  } finally {
    client.destroy();
  }
}
