/** HTTP statuses the runtime answers errors with. */
export type InferenceErrorStatus = 400 | 404 | 405 | 413 | 415 | 500 | 503;

/**
 * The Open Inference Protocol's error body (kserve `docs/predict-api/v2/required_api.md`:
 * `{ "error": <error message string> }`), which v2 clients such as tritonclient read, with the
 * project's stable code beside it, where those clients ignore it.
 */
export interface InferenceErrorBody {
  error: string;
  code: string;
}

/**
 * Every error the runtime answers a client with. It knows its HTTP status and its JSON body, so
 * each adapter renders it the same way. Messages name the input and the rule it broke.
 */
export class InferenceError extends Error {
  override readonly name = 'InferenceError';
  readonly status: InferenceErrorStatus;
  readonly code: string;

  constructor(status: InferenceErrorStatus, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
  }

  /** The JSON body every adapter answers with. */
  get body(): InferenceErrorBody {
    return { error: this.message, code: this.code };
  }

  toJSON(): InferenceErrorBody {
    return this.body;
  }
}

export function isInferenceError(e: unknown): e is InferenceError {
  return e instanceof InferenceError
    || (e instanceof Error && e.name === 'InferenceError' && typeof (e as InferenceError).status === 'number');
}

/** Anything thrown becomes an InferenceError; unknown errors are 500 INTERNAL. */
export function toInferenceError(e: unknown): InferenceError {
  if (isInferenceError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new InferenceError(500, 'INTERNAL', `internal error: ${message}`, { cause: e });
}
