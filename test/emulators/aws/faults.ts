/**
 * An error a service answers, in the service's own wire shape (awsQuery XML, JSON `__type`,
 * REST-JSON `x-amzn-errortype`, S3 XML): the fake formats it as the named service does.
 */
export interface AwsFault {
  /** The error code on the wire, e.g. `ExpiredToken`, `AccessDenied`, `ServiceException`. */
  readonly code: string;
  readonly message: string;
  /** @default 400 */
  readonly status?: number;
  /** Extra fields some shapes carry (Lambda's `Reason`). */
  readonly fields?: Record<string, string>;
}

/**
 * Faults a test injects into the fake. Each one is consumed as it fires, so a test that asks for
 * one throttled call gets exactly one, and the retry that follows succeeds.
 */
export class Faults {
  private readonly throttles = new Map<string, number>();
  private readonly callFailures: Array<{ key: string; fault: AwsFault; remaining: number }> = [];
  private readonly rollbackFailures: Array<{ target: string; reason: string }> = [];
  private expired = false;
  private readonly resourceFailures: Array<{ target: string; reason: string; remaining: number }> = [];
  private readonly changeSetFailures: string[] = [];
  private readonly interruptions: Array<{ released: Promise<void>; release: () => void; taken: boolean }> = [];
  private readonly initFailures = new Map<string, string>();
  private readonly versionFailures = new Map<string, string>();

  /**
   * The next `times` calls of `service`/`action` (e.g. `'cloudformation', 'DescribeStacks'`) answer
   * the service's real throttling error, which the SDK retries with backoff.
   */
  throttle(service: string, action: string, times = 1): void {
    const key = `${service}:${action}`;
    this.throttles.set(key, (this.throttles.get(key) ?? 0) + times);
  }

  /**
   * The next `times` calls of `service`/`action` answer `fault` in the service's wire shape (see
   * `AWS_FAULTS` for the real ones: expired tokens, denied actions, service errors). Whether the
   * SDK retries depends on the code and status, as against AWS.
   */
  failCall(service: string, action: string, fault: AwsFault, times = 1): void {
    this.callFailures.push({ key: `${service}:${action}`, fault, remaining: times });
  }

  /**
   * The credentials expire: every signed request is refused as AWS refuses an expired session
   * token (`ExpiredToken` on awsQuery services and S3, `ExpiredTokenException` on JSON ones), until
   * `renewCredentials()`. Unsigned requests (a public Function URL) are not affected.
   */
  expireCredentials(): void {
    this.expired = true;
  }

  renewCredentials(): void {
    this.expired = false;
  }

  /**
   * When the next stack rollback restores a resource with this logical id or type, the restore
   * fails with `reason`: the stack ends `UPDATE_ROLLBACK_FAILED`, as CloudFormation leaves it, until
   * ContinueUpdateRollback (which retries the restore, or skips the resources it is told to).
   */
  failRollback(logicalIdOrType: string, reason: string): void {
    this.rollbackFailures.push({ target: logicalIdOrType, reason });
  }

  /**
   * The next stack operation that creates, updates or replaces a resource with this logical id
   * or type fails on it with `reason`, and the stack rolls back.
   * @default times 1
   */
  failResource(logicalIdOrType: string, reason: string, times = 1): void {
    this.resourceFailures.push({ target: logicalIdOrType, reason, remaining: times });
  }

  /** The next change set ends `FAILED` with this `StatusReason`. */
  failChangeSet(reason: string): void {
    this.changeSetFailures.push(reason);
  }

  /**
   * The next stack operation stops after its first `*_IN_PROGRESS` event and stays in progress
   * until `release()` is called.
   */
  interruptDeploy(): { release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entry = { released, release, taken: false };
    this.interruptions.push(entry);
    return { release };
  }

  /** Every start of this function (any version) fails in init with `reason`, until cleared. */
  initFailure(functionName: string, reason = 'Init failure injected by the test'): void {
    this.initFailures.set(functionName, reason);
  }

  clearInitFailure(functionName: string): void {
    this.initFailures.delete(functionName);
  }

  /** Every invoke of one version of this function answers a function error (`errorType` `Error`), until cleared: a version whose error alarm fires. */
  versionFailure(functionName: string, version: string, reason = 'Failure of this version injected by the test'): void {
    this.versionFailures.set(`${functionName}:${version}`, reason);
  }

  clearVersionFailure(functionName: string, version: string): void {
    this.versionFailures.delete(`${functionName}:${version}`);
  }

  /** @internal */
  versionFailureFor(functionName: string, version: string): string | undefined {
    return this.versionFailures.get(`${functionName}:${version}`);
  }

  /** Drops every pending fault and releases interrupted operations. */
  reset(): void {
    this.throttles.clear();
    this.expired = false;
    this.callFailures.length = 0;
    this.rollbackFailures.length = 0;
    this.resourceFailures.length = 0;
    this.changeSetFailures.length = 0;
    for (const i of this.interruptions) i.release();
    this.interruptions.length = 0;
    this.initFailures.clear();
  }

  // --- used by the fake ---

  /** @internal */
  takeThrottle(service: string, action: string): boolean {
    const key = `${service}:${action}`;
    const left = this.throttles.get(key) ?? 0;
    if (left <= 0) return false;
    this.throttles.set(key, left - 1);
    return true;
  }

  /** @internal The error a signed call to `service` gets while the credentials are expired. */
  expiredCredentials(service: string): AwsFault | undefined {
    if (!this.expired) return undefined;
    if (service === 's3') return { code: 'ExpiredToken', status: 400, message: 'The provided token has expired.' };
    return ['sts', 'cloudformation'].includes(service) ? AWS_FAULTS.expiredToken : AWS_FAULTS.expiredTokenException;
  }

  /** @internal */
  takeCallFailure(service: string, action: string): AwsFault | undefined {
    const index = this.callFailures.findIndex((f) => f.key === `${service}:${action}`);
    if (index < 0) return undefined;
    const entry = this.callFailures[index]!;
    if (--entry.remaining <= 0) this.callFailures.splice(index, 1);
    return entry.fault;
  }

  /** @internal */
  takeRollbackFailure(logicalId: string, type: string): string | undefined {
    const index = this.rollbackFailures.findIndex((f) => f.target === logicalId || f.target === type);
    return index < 0 ? undefined : this.rollbackFailures.splice(index, 1)[0]!.reason;
  }

  /** @internal */
  takeResourceFailure(logicalId: string, type: string): string | undefined {
    const index = this.resourceFailures.findIndex((f) => f.target === logicalId || f.target === type);
    if (index < 0) return undefined;
    const fault = this.resourceFailures[index]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.resourceFailures.splice(index, 1);
    return fault.reason;
  }

  /** @internal */
  takeChangeSetFailure(): string | undefined {
    return this.changeSetFailures.shift();
  }

  /** @internal Resolves when the operation may go on (immediately when no interruption is pending). */
  takeInterruption(): Promise<void> | undefined {
    const entry = this.interruptions.find((i) => !i.taken);
    if (!entry) return undefined;
    entry.taken = true;
    return entry.released;
  }

  /** @internal */
  initFailureFor(functionName: string): string | undefined {
    return this.initFailures.get(functionName);
  }
}

/**
 * Errors as AWS answers them, for `faults.failCall`. Codes, statuses and messages are the
 * services' own (the AWS "Common Errors" of each API reference; IAM's "not authorized to perform"
 * wording); the SDK classifies them as against AWS (`@smithy/core` retry: 429 and the
 * THROTTLING_ERROR_CODES are throttling, 500/502/503/504 transient, the rest final).
 */
export const AWS_FAULTS = {
  /** Temporary credentials past their expiry, on an awsQuery service (STS, CloudFormation). */
  expiredToken: { code: 'ExpiredToken', status: 403, message: 'The security token included in the request is expired' },
  /** The same on a JSON or REST-JSON service (Lambda, SageMaker). */
  expiredTokenException: { code: 'ExpiredTokenException', status: 403, message: 'The security token included in the request is expired' },
  /** IAM denied `action` to `principal` (awsQuery and S3: `AccessDenied`; JSON services: `AccessDeniedException`). */
  accessDenied(principal: string, action: string, resource: string, code = 'AccessDenied'): AwsFault {
    return { code, status: 403, message: `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action` };
  },
  /** Lambda Invoke refused for concurrency (`Reason`: ConcurrentInvocationLimitExceeded, ReservedFunctionConcurrentInvocationLimitExceeded, CallerRateLimitExceeded). */
  lambdaThrottled(reason = 'ConcurrentInvocationLimitExceeded'): AwsFault {
    return { code: 'TooManyRequestsException', status: 429, message: 'Rate Exceeded.', fields: { Reason: reason } };
  },
  /** Lambda's own internal error (Invoke's ServiceException, HTTP 500). */
  lambdaServiceException: { code: 'ServiceException', status: 500, message: 'The Lambda service encountered an internal error.' },
} as const satisfies Record<string, AwsFault | ((...args: never[]) => AwsFault)>;
