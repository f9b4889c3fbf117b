/** One broken rule: which rule (an id listed in this folder's README), where, and what upstream says. */
export interface Violation {
  rule: string;
  path: string;
  message: string;
}

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` as an array of objects; anything else as none (the type checks report it). */
export const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** Keys of `object` that are not in `allowed`, as paths under `at`. */
export function extraKeys(object: Json, allowed: ReadonlySet<string> | readonly string[], at: string): string[] {
  const set = allowed instanceof Set ? allowed : new Set(allowed);
  return Object.keys(object).filter((k) => !set.has(k)).map((k) => (at ? `${at}.${k}` : k));
}
