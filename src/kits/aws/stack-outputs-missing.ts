/** The error for a deployed stack that lacks outputs its template declares. */
import { DeployModelError } from '../../errors.js';
import { endpointOverride } from './endpoint-override.js';

/**
 * The error for a deployed stack without outputs its template declares. CloudFormation returns
 * every one, and the targets read their deployment back from them; an endpoint that does not (moto
 * keeps none for stacks made by change set) must fail with what is missing and why, not later as
 * a puzzling state.
 */
export function stackOutputsMissing(stackName: string, region: string, missing: string[], outputs: Record<string, string>): DeployModelError {
  const override = endpointOverride('CloudFormation');
  const returned = Object.keys(outputs).join(', ') || 'none';
  const why = override
    ? `CloudFormation calls go to ${override.url} (${override.variable}), not to AWS, and that endpoint may not support stack outputs for stacks created or updated through change sets, which is how deploy-model deploys. Fix: use an endpoint that keeps them (AWS itself, or an emulator that does), or unset ${override.variable}.`
    : 'CloudFormation returns every declared output of a deployed stack, so the stack was probably changed outside deploy-model. Fix: deploy again, or destroy and deploy.';
  return new DeployModelError('AWS_STACK_OUTPUT_MISSING',
    `Stack ${stackName} in ${region} deployed, but it has no output ${missing.join(', ')} (its template declares ${missing.length === 1 ? 'it' : 'them'}; outputs returned: ${returned}). deploy-model reads the deployment from these outputs. ${why}`,
    { details: { stackName, region, missing, outputs, endpoint: override?.url } });
}
