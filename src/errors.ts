/**
 * Every failure the user can act on is a DeployModelError with a stable code. The message names
 * the value, the rule it broke and the fix; `details` carries machine-readable context for --json.
 */
export type ErrorKind = 'user' | 'usage' | 'internal';

export interface DeployModelErrorOptions {
  cause?: unknown;
  /** Machine-readable context (file, config path, value). Never secrets. */
  details?: Record<string, unknown>;
  /** @default 'user' */
  kind?: ErrorKind;
}

export class DeployModelError extends Error {
  override readonly name = 'DeployModelError';
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: DeployModelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.kind = options.kind ?? 'user';
    this.details = options.details ?? {};
  }

  toJSON(): { code: string; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isDeployModelError(e: unknown): e is DeployModelError {
  return e instanceof DeployModelError || (e instanceof Error && e.name === 'DeployModelError' && 'code' in e);
}

/** Exit codes, documented in the README: 0 ok, 1 failure the user can fix, 2 usage error, 70 internal. */
export const EXIT = { ok: 0, failure: 1, usage: 2, internal: 70 } as const;

export function exitCodeFor(e: unknown): number {
  if (isDeployModelError(e)) return e.kind === 'usage' ? EXIT.usage : e.kind === 'internal' ? EXIT.internal : EXIT.failure;
  return EXIT.internal;
}
