/**
 * Library code never prints. It sends coded messages to an IoHost; the CLI renders them
 * (TTY, --json, CI) and tests record them and assert on codes.
 */
export type IoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'result';

export interface IoMessage<T = unknown> {
  /** Stable code, e.g. `DM_BUILD_LAYER`. Tests and --json consumers rely on it. */
  readonly code: string;
  readonly level: IoLevel;
  readonly message: string;
  /** The target this message is about, when there is one. */
  readonly target?: string;
  readonly data?: T;
  readonly time: Date;
}

export interface IoHost {
  notify(msg: IoMessage): void;
  /** Ask the user; non-interactive hosts return the default. */
  confirm?(question: string, defaultAnswer: boolean): Promise<boolean>;
}

/** Helper that stamps the time and forwards to a host. */
export class IoHelper {
  constructor(private readonly host: IoHost, private readonly target?: string) {}

  forTarget(target: string): IoHelper {
    return new IoHelper(this.host, target);
  }

  emit(level: IoLevel, code: string, message: string, data?: unknown): void {
    this.host.notify({ code, level, message, data, target: this.target, time: new Date() });
  }

  debug(code: string, message: string, data?: unknown): void { this.emit('debug', code, message, data); }
  info(code: string, message: string, data?: unknown): void { this.emit('info', code, message, data); }
  warn(code: string, message: string, data?: unknown): void { this.emit('warn', code, message, data); }
  error(code: string, message: string, data?: unknown): void { this.emit('error', code, message, data); }
  result(code: string, message: string, data?: unknown): void { this.emit('result', code, message, data); }

  async confirm(question: string, defaultAnswer: boolean): Promise<boolean> {
    return this.host.confirm ? this.host.confirm(question, defaultAnswer) : defaultAnswer;
  }
}

/** A host that keeps every message; for tests and for programmatic callers that render later. */
export class RecordingIoHost implements IoHost {
  readonly messages: IoMessage[] = [];
  constructor(private readonly answers: boolean | undefined = undefined) {}
  notify(msg: IoMessage): void { this.messages.push(msg); }
  async confirm(_q: string, defaultAnswer: boolean): Promise<boolean> { return this.answers ?? defaultAnswer; }
  codes(): string[] { return this.messages.map((m) => m.code); }
}

/** A host that drops everything. */
export const silentIoHost: IoHost = { notify() {} };
