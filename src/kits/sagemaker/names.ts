/** The names of an aws-sagemaker target's resources, derived from the config so that CI needs no state file. */
import { createHash } from 'node:crypto';
import { resourceName } from '../resource-name.js';
import { checkedStackName } from '../aws/stack-name.js';

/** SageMaker endpoint names: letters, digits and single hyphens inside, at most 63 characters. */
export const SAGEMAKER_ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * Room left in 63 characters for what SageMaker and CloudWatch add to an endpoint's name
 * (`/aws/sagemaker/Endpoints/<name>`, alarm names): derived names are kept to this length.
 */
export const ENDPOINT_NAME_MAX = 54;

export interface SageMakerNames {
  /** The CloudFormation stack: `<name>-<stage>-<target>`. */
  readonly stackName: string;
  /** The endpoint: the stack name, shortened with a hash when it is too long. */
  readonly endpointName: string;
  /** Triton's model name (the folder in model.tar.gz): the config's name. */
  readonly tritonModel: string;
  /** Where SageMaker writes the endpoint's container logs. */
  readonly logGroupName: string;
}

/** The names of one aws-sagemaker target, derived from the config so that CI needs no state file. */
export function sageMakerNames(name: string, stage: string, targetName: string): SageMakerNames {
  const stackName = checkedStackName(resourceName(name, stage, targetName), { name, stage, targetName });
  const endpointName = sageMakerEndpointName(stackName);
  return { stackName, endpointName, tritonModel: name, logGroupName: endpointLogGroup(endpointName) };
}

/**
 * A valid endpoint name from any text: runs of other characters become one hyphen, and a name
 * longer than ENDPOINT_NAME_MAX keeps its start plus a hash of the whole, so it stays unique.
 */
export function sageMakerEndpointName(text: string, maxLength = ENDPOINT_NAME_MAX): string {
  const clean = text.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'endpoint';
  if (clean.length <= maxLength) return clean;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${clean.slice(0, maxLength - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** `/aws/sagemaker/Endpoints/<endpoint>`: the log group SageMaker writes an endpoint's container logs to. */
export function endpointLogGroup(endpointName: string): string {
  return `/aws/sagemaker/Endpoints/${endpointName}`;
}
