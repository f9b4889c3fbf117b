/** gRPC status codes the fake answers. */
export const STATUS = { OK: 0, INVALID_ARGUMENT: 3, NOT_FOUND: 5, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, INTERNAL: 13, UNAVAILABLE: 14 } as const;

/** An error the fake answers as a gRPC status (or a failed operation's status). */
export class RpcError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}
