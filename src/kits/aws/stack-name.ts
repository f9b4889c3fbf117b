/** CloudFormation's rules for stack names, checked on the name a target derives from its config. */
import { DeployModelError } from '../../errors.js';

const STACK_NAME_RE = /^[A-Za-z][A-Za-z0-9-]*$/;
export const STACK_NAME_MAX = 128;

/** Where a derived stack name came from, for the error message. */
export interface StackNameSource {
  readonly name: string;
  readonly stage: string;
  readonly targetName: string;
}

/**
 * Returns `stackName` when CloudFormation accepts it (a letter first, then letters, digits and
 * '-', at most 128 characters); throws STACK_NAME_INVALID naming the config values it came from.
 */
export function checkedStackName(stackName: string, from: StackNameSource): string {
  if (STACK_NAME_RE.test(stackName) && stackName.length <= STACK_NAME_MAX) return stackName;
  const { name, stage, targetName } = from;
  throw new DeployModelError('STACK_NAME_INVALID', `Stack name '${stackName}' (from name '${name}', stage '${stage}' and target '${targetName}') is not a valid CloudFormation stack name: it must start with a letter, contain only letters, digits and '-', and be at most ${STACK_NAME_MAX} characters. Shorten or rename the config name, stage or target.`, { details: { stackName, name, stage, targetName } });
}
