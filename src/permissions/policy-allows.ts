/**
 * Small evaluators for the documents `deploy-model permissions` prints: whether an AWS IAM policy,
 * an Azure role definition or a Google Cloud role allows one API action. They implement the
 * wildcard rules of each cloud (IAM: `*` and `?`, actions case-insensitive, resources
 * case-sensitive; Azure: `*`, case-insensitive, NotActions subtracted) and nothing more: policy
 * conditions are reported, not evaluated.
 */
import type { AwsPolicyDocument, AzureRoleDefinition } from './types.js';

/** Whether `pattern` (`*` matches any run of characters, `?` one character) matches all of `value`. */
export function wildcardMatches(pattern: string, value: string, options: { ignoreCase?: boolean } = {}): boolean {
  const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, options.ignoreCase ? 'is' : 's').test(value);
}

const list = (v: string | readonly string[] | undefined): readonly string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

export interface PolicyDecision {
  readonly allowed: boolean;
  /** The Sid of the statement that decided, when it has one. */
  readonly statement?: string;
  /** The allowing statement has a Condition, which was not evaluated. */
  readonly conditional?: boolean;
}

/**
 * Whether an IAM identity policy allows `action` (e.g. `lambda:InvokeFunction`) on `resource` (an
 * ARN). Without a resource only the action is checked. An explicit Deny wins over any Allow.
 */
export function awsPolicyAllows(policy: AwsPolicyDocument, action: string, resource?: string): PolicyDecision {
  const matching = policy.Statement.filter((s) =>
    list(s.Action).some((a) => wildcardMatches(a, action, { ignoreCase: true }))
    && (resource === undefined || list(s.Resource).some((r) => wildcardMatches(r, resource))));
  const deny = matching.find((s) => s.Effect === 'Deny');
  if (deny) return { allowed: false, statement: deny.Sid };
  const allow = matching.find((s) => s.Effect === 'Allow');
  return allow ? { allowed: true, statement: allow.Sid, ...(allow.Condition ? { conditional: true } : {}) } : { allowed: false };
}

/**
 * Whether an Azure role definition allows a control-plane action (`Actions` minus `NotActions`)
 * or, with `data`, a data action (`DataActions` minus `NotDataActions`).
 */
export function azureRoleAllows(role: AzureRoleDefinition, action: string, options: { data?: boolean } = {}): boolean {
  const [allow, except] = options.data ? [role.DataActions ?? [], role.NotDataActions ?? []] : [role.Actions, role.NotActions ?? []];
  const hit = (patterns: readonly string[]) => patterns.some((p) => wildcardMatches(p, action, { ignoreCase: true }));
  return hit(allow) && !hit(except);
}

/** Whether a Google Cloud custom role's permissions include `permission` (custom roles take no wildcards). */
export function gcpRoleAllows(permissions: readonly string[], permission: string): boolean {
  return permissions.includes(permission);
}
