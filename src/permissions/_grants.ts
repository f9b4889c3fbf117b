/** A permission as the generators write it: actions on resources, why, and the statement it becomes. */
import type { AwsPolicyStatement, PermissionAction } from './types.js';

export interface Grant {
  /** The IAM statement id (letters and digits); also groups the actions table. */
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: AwsPolicyStatement['Condition'];
  /** Which commands call these, and when. */
  readonly usedBy: string;
}

/** One IAM statement per grant. */
export function statementsOf(grants: readonly Grant[]): AwsPolicyStatement[] {
  return grants.map((g) => ({
    Sid: g.sid, Effect: 'Allow', Action: [...g.actions], Resource: [...g.resources], ...(g.condition ? { Condition: g.condition } : {}),
  }));
}

/** One row per action, with its resources. */
export function actionsOf(grants: readonly Grant[]): PermissionAction[] {
  return grants.flatMap((g) => g.actions.map((action) => ({ action, resource: g.resources.join(', '), usedBy: g.usedBy })));
}
