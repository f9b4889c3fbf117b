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

/**
 * How onnxruntime reports a kernel that refused to run (`ExecuteKernel` in
 * onnxruntime/core/framework/sequential_executor.cc). onnxruntime-node keeps only the message of
 * the status, not its code.
 */
const KERNEL_REFUSED = /^Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message: ([\s\S]*)$/;
/** Kernel failures that are the server's: memory, the GPU and its libraries. */
const SERVER_FAULT = /alloc|out of memory|\bCUDA\b|cudnn|cublas|tensorrt|\bdevice\b|bad_alloc|std::/i;

/**
 * A kernel's refusal of a request whose names, dtypes and shapes already passed the signature's
 * checks: the values are what it refused (an index out of range, too few samples for a window),
 * so it is the client's to fix. onnxruntime's kernels answer those with INVALID_ARGUMENT; memory
 * and device failures stay server faults.
 */
export function kernelRefusal(message: string): InferenceError | undefined {
  const m = KERNEL_REFUSED.exec(message.trim());
  if (!m || SERVER_FAULT.test(m[3]!)) return undefined;
  return new InferenceError(400, 'INPUT_VALUES_REJECTED', `the model refused the input values: its ${m[1]} node '${m[2]}' says: ${m[3]!.trim()}`);
}

/** Anything thrown becomes an InferenceError; unknown errors are 500 INTERNAL. */
export function toInferenceError(e: unknown): InferenceError {
  if (isInferenceError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new InferenceError(500, 'INTERNAL', `internal error: ${message}`, { cause: e });
}
