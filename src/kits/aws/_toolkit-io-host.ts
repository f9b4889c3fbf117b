/** Carries toolkit-lib's messages to our IoHelper and keeps what a deploy or a diff needs from them. */
import type { IIoHost, IoMessage, IoMessageLevel, IoRequest } from '@aws-cdk/toolkit-lib';
import type { IoHelper, IoLevel } from '../../io/io-host.js';

/** Code of the toolkit's message announcing a stack's deploy result (payload: `{ noOp, outputs }`). */
const DEPLOY_RESULT_CODE = 'CDK_TOOLKIT_I5900';
/** Code of the toolkit's start of watching one stack operation (after ExecuteChangeSet). */
const STACK_MONITOR_START_CODE = 'CDK_TOOLKIT_I5501';
/** Code of one stack event while CloudFormation works (payload: `{ event: StackEvent }`). */
const STACK_ACTIVITY_CODE = 'CDK_TOOLKIT_I5502';
/** Code of one stack's diff (message: the rendered diff; payload: `{ formattedDiff: { diff } }`). */
const STACK_DIFF_CODE = 'CDK_TOOLKIT_I4002';

interface StackEventLike { ResourceStatus?: string; ResourceStatusReason?: string; LogicalResourceId?: string; ResourceType?: string }

/**
 * The toolkit's levels mapped to ours. Its `result` messages (outputs, "no changes") are what the
 * CDK CLI prints by default, so they become `info`; its `info` (every stack event) and below only
 * show with --verbose.
 */
const LEVELS: Record<IoMessageLevel, IoLevel> = {
  error: 'error',
  warn: 'warn',
  result: 'info',
  info: 'debug',
  debug: 'debug',
  trace: 'trace',
};

/**
 * Forwards toolkit-lib's messages to our IoHelper as `DM_AWS_TOOLKIT`, its code kept in
 * `data.cdkCode`, and answers its questions (approvals) with their defaults: deploy-model runs
 * unattended, and the CLI's own confirmation covers destroy.
 */
export class ToolkitIoBridge implements IIoHost {
  /** Whether the toolkit reported the stack unchanged. */
  noOp: boolean | undefined;
  /** The toolkit's error-level messages, newest last. */
  readonly errors: string[] = [];
  /** CloudFormation's reasons for the resources that failed, in order: why a deploy failed. */
  readonly failures: string[] = [];
  /** Logical ids of the resources that failed while CloudFormation rolled the stack back: what the rollback could not restore. */
  readonly rollbackFailures: string[] = [];
  /** The toolkit's rendering of the stack's diff, when it diffed. */
  diffText: string | undefined;
  /** Resolves when the toolkit starts watching a stack operation (CloudFormation works from then on). */
  readonly operationStarted: Promise<void>;
  private started!: () => void;
  private rollingBack = false;

  /**
   * @param quiet every message at most `debug` (a diff: the caller reports the result itself)
   */
  constructor(private readonly io: IoHelper, private readonly stackName: string, private readonly quiet = false) {
    this.operationStarted = new Promise<void>((resolve) => (this.started = resolve));
  }

  async notify(msg: IoMessage<unknown>): Promise<void> {
    if (msg.code === DEPLOY_RESULT_CODE) {
      const noOp = (msg.data as { noOp?: unknown } | undefined)?.noOp;
      if (typeof noOp === 'boolean') this.noOp = noOp;
    }
    if (msg.code === STACK_DIFF_CODE) {
      const data = msg.data as { formattedDiff?: { diff?: unknown } } | undefined;
      this.diffText = typeof data?.formattedDiff?.diff === 'string' ? data.formattedDiff.diff : msg.message;
    }
    let level = LEVELS[msg.level] ?? 'debug';
    if (msg.level === 'error') this.errors.push(msg.message);
    if (msg.code === STACK_MONITOR_START_CODE) this.started();
    if (msg.code === STACK_ACTIVITY_CODE) {
      const event = (msg.data as { event?: StackEventLike } | undefined)?.event;
      if (event?.ResourceType === 'AWS::CloudFormation::Stack' && event.ResourceStatus) this.rollingBack = /ROLLBACK_IN_PROGRESS$/.test(event.ResourceStatus);
      else if (this.rollingBack && event?.ResourceStatus?.endsWith('_FAILED') && event.LogicalResourceId) this.rollbackFailures.push(event.LogicalResourceId);
      // A failed resource is the news in a failed deploy: show it without --verbose.
      if (event?.ResourceStatus?.endsWith('_FAILED') && event.ResourceStatusReason) {
        this.failures.push(`${event.LogicalResourceId} (${event.ResourceType}) ${event.ResourceStatus}: ${event.ResourceStatusReason}`);
        level = 'warn';
      }
    }
    if (this.quiet && level !== 'error') level = level === 'trace' ? 'trace' : 'debug';
    this.io.emit(level, 'DM_AWS_TOOLKIT', msg.message, { cdkCode: msg.code, cdkLevel: msg.level, stackName: this.stackName });
  }

  async requestResponse<T>(msg: IoRequest<unknown, T>): Promise<T> {
    await this.notify(msg);
    return msg.defaultResponse;
  }
}
