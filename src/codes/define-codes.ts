/** The shapes of the code catalogue: an error code's meaning and fix, a message code's meaning and payload type. */

/** A `DeployModelError` code. `Details` is the type of the error's `details`, where the code fixes one. */
export interface ErrorCodeSpec<Details = Record<string, unknown>> {
  /** What happened, in one sentence. */
  readonly meaning: string;
  /** What the user does about it (the error's message says it again, with the values). */
  readonly fix: string;
  /** Type only: never set. */
  readonly details?: Details;
}

/** A message code (`DM_*`) sent to an `IoHost`. `Payload` is the type of the message's `data`. */
export interface MessageCodeSpec<Payload = undefined> {
  /** What the message reports, in one sentence. */
  readonly meaning: string;
  /** Type only: never set. */
  readonly payload?: Payload;
}

/** Declares an error code: `NOT_DEPLOYED: error('…', '…')`, or `error<{ target: string }>(…)` with its details. */
export function error<Details = Record<string, unknown>>(meaning: string, fix: string): ErrorCodeSpec<Details> {
  return { meaning, fix };
}

/** Declares a message code: `DM_SMOKE_DONE: message<SmokeResult>('…')`; without a type argument it carries no typed data. */
export function message<Payload = undefined>(meaning: string): MessageCodeSpec<Payload> {
  return { meaning };
}
