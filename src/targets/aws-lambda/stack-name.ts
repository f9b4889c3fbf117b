/** The aws-lambda stack's name: the target's resource name, checked against CloudFormation's rules. */
import { checkedStackName } from '../../kits/aws/stack-name.js';
import { resourceName } from '../resource-name.js';

/** `<name>-<stage>-<target>`, checked against CloudFormation's stack name rules. */
export function lambdaStackName(name: string, stage: string, targetName: string): string {
  return checkedStackName(resourceName(name, stage, targetName), { name, stage, targetName });
}
