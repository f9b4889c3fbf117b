/** The errors every AWS call shares: no credentials, no bootstrap, and an AWS error in words. */
import { DeployModelError } from '../../errors.js';

const CREDENTIAL_FIX = 'set AWS_PROFILE to a configured profile (`aws configure`, or `aws sso login --profile NAME` for SSO), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials); in CI, give the job a role (OIDC) that sets them';

/**
 * Errors of the SDK's credential chain, and toolkit-lib's wording of them, that mean "no usable
 * credentials". (No toolkit-lib import here: status and smoke should not load it.)
 */
export function isCredentialsError(e: unknown): boolean {
  const err = e as { name?: string; message?: string; Code?: string } | undefined;
  const name = err?.name ?? err?.Code ?? '';
  if (['CredentialsProviderError', 'ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId'].includes(name)) return true;
  return /could not load credentials|unable to resolve aws account|need to perform aws calls for account .* but no credentials/i.test(err?.message ?? '');
}

export function noCredentials(region: string, action: string, cause: unknown): DeployModelError {
  const reason = awsReason(cause);
  return new DeployModelError('AWS_NO_CREDENTIALS',
    `No usable AWS credentials to ${action} in ${region}: ${reason}. deploy-model reads them like the AWS CLI (environment variables, AWS_PROFILE and the shared config and credentials files, SSO, container and instance roles). Fix: ${CREDENTIAL_FIX}.`,
    { cause, details: { region } });
}

export function notBootstrapped(account: string, region: string, cause: unknown): DeployModelError {
  const reason = awsReason(cause);
  return new DeployModelError('AWS_NOT_BOOTSTRAPPED',
    `The AWS environment aws://${account}/${region} is not bootstrapped for the CDK (no staging bucket, bootstrap version parameter or deploy roles): ${reason}. Fix: run \`npx cdk bootstrap aws://${account}/${region}\` once with administrator credentials, then deploy again.`,
    { cause, details: { account, region } });
}

/** The message of an AWS error, with its code when the message does not say it. */
export function awsReason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const name = e.name && e.name !== 'Error' && !e.message.includes(e.name) ? `${e.name}: ` : '';
  // toolkit-lib appends the root cause's error code on its own line; 'UnknownError' says nothing.
  return `${name}${e.message.replace(/\n+UnknownError\s*$/, '')}`;
}
