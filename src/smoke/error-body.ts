/**
 * Reads the error an endpoint answered, whatever served it: the Open Inference Protocol's
 * `{ "error": "<message>" }` (Triton, KServe, and our runtime, which adds `"code"` beside it), or
 * the `{ "error": { "code", "message" } }` that deploy-model 0.1 answered.
 */
export interface EndpointError {
  code?: string;
  message: string;
}

export function readErrorBody(body: unknown): EndpointError | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { error, code } = body as { error?: unknown; code?: unknown };
  if (typeof error === 'string') return { ...(typeof code === 'string' ? { code } : {}), message: error };
  if (typeof error === 'object' && error !== null) {
    const nested = error as { code?: unknown; message?: unknown };
    if (typeof nested.message === 'string') return { ...(typeof nested.code === 'string' ? { code: nested.code } : {}), message: nested.message };
  }
  return undefined;
}

/** The body of an error the client itself reports (a transport failure, a function error). */
export function errorBody(code: string, message: string): { error: string; code: string } {
  return { error: message, code };
}
