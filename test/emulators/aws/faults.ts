/**
 * Faults a test injects into the fake. Each one is consumed as it fires, so a test that asks for
 * one throttled call gets exactly one, and the retry that follows succeeds.
 */
export class Faults {
  private readonly throttles = new Map<string, number>();
  private readonly resourceFailures: Array<{ target: string; reason: string; remaining: number }> = [];
  private readonly changeSetFailures: string[] = [];
  private readonly interruptions: Array<{ released: Promise<void>; release: () => void; taken: boolean }> = [];
  private readonly initFailures = new Map<string, string>();

  /**
   * The next `times` calls of `service`/`action` (e.g. `'cloudformation', 'DescribeStacks'`) answer
   * the service's real throttling error, which the SDK retries with backoff.
   */
  throttle(service: string, action: string, times = 1): void {
    const key = `${service}:${action}`;
    this.throttles.set(key, (this.throttles.get(key) ?? 0) + times);
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

  /** Drops every pending fault and releases interrupted operations. */
  reset(): void {
    this.throttles.clear();
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
