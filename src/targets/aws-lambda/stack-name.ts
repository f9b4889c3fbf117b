import { DeployModelError } from '../../errors.js';

const STACK_NAME_RE = /^[A-Za-z][A-Za-z0-9-]*$/;
const STACK_NAME_MAX = 128;

/** `<name>-<stage>-<target>`, checked against CloudFormation's stack name rules. */
export function lambdaStackName(name: string, stage: string, targetName: string): string {
  const stackName = `${name}-${stage}-${targetName}`;
  if (!STACK_NAME_RE.test(stackName) || stackName.length > STACK_NAME_MAX) {
    throw new DeployModelError('STACK_NAME_INVALID', `Stack name '${stackName}' (from name '${name}', stage '${stage}' and target '${targetName}') is not a valid CloudFormation stack name: it must start with a letter, contain only letters, digits and '-', and be at most ${STACK_NAME_MAX} characters. Shorten or rename the config name, stage or target.`, { details: { stackName, name, stage, targetName } });
  }
  return stackName;
}
