/** The errors every AWS call shares: no, expired or denied credentials, throttling, no bootstrap, and an AWS error in words. */
import { DeployModelError } from '../../errors.js';

const CREDENTIAL_FIX = 'set AWS_PROFILE to a configured profile (`aws configure`, or `aws sso login --profile NAME` for SSO), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials); in CI, give the job a role (OIDC) that sets them';

/**
 * Errors of the SDK's credential chain, and toolkit-lib's wording of them, that mean "no usable
 * credentials". (No toolkit-lib import here: status and smoke should not load it.)
 */
export function isCredentialsError(e: unknown): boolean {
  if (isExpiredCredentials(e)) return true;
  const err = e as { name?: string; message?: string; Code?: string } | undefined;
  const name = err?.name ?? err?.Code ?? '';
  if (['CredentialsProviderError', 'InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId'].includes(name)) return true;
  return /could not load credentials|unable to resolve aws account|need to perform aws calls for account .* but no credentials/i.test(err?.message ?? '');
}

/**
 * No usable credentials: AWS_NO_CREDENTIALS, or AWS_CREDENTIALS_EXPIRED when the credentials exist
 * but AWS refused them as expired.
 */
export function noCredentials(region: string, action: string, cause: unknown): DeployModelError {
  if (isExpiredCredentials(cause)) return credentialsExpired(region, action, cause);
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

/** An AWS service error, as the SDK raises it: its code in `name`, the HTTP status in `$metadata`. */
interface AwsServiceError extends Error { $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean }; Code?: string }

/**
 * The errors inside `e`, outermost first: itself, its causes, and the errors of an AggregateError
 * (toolkit-lib reports a failed asset upload as AssetPublishFailed caused by one).
 */
export function errorsIn(e: unknown, depth = 0): AwsServiceError[] {
  if (!(e instanceof Error) || depth > 8) return [];
  const inner = e instanceof AggregateError ? e.errors.flatMap((x) => errorsIn(x, depth + 1)) : [];
  return [e as AwsServiceError, ...inner, ...errorsIn((e as { cause?: unknown }).cause, depth + 1)];
}

/** The innermost error that AWS answered (it has an HTTP status), else `e` itself. */
export function rootAwsError(e: unknown): unknown {
  return errorsIn(e).filter((x) => x.$metadata?.httpStatusCode !== undefined).at(-1) ?? e;
}

const codeOf = (e: AwsServiceError): string => e.name && e.name !== 'Error' ? e.name : e.Code ?? '';

/**
 * AWS refused the credentials as expired: `ExpiredToken` (awsQuery services, S3),
 * `ExpiredTokenException` (JSON services), or an SSO session past its end.
 */
export function isExpiredCredentials(e: unknown): boolean {
  return errorsIn(e).some((x) => ['ExpiredToken', 'ExpiredTokenException', 'TokenRefreshRequired'].includes(codeOf(x))
    || /security token included in the request is expired|provided token has expired|token has expired and refresh failed|sso session .*expired/i.test(x.message));
}

/** IAM denied the call: `AccessDenied` (awsQuery, S3), `AccessDeniedException` (JSON services), or IAM's "is not authorized to perform". */
export function isAccessDenied(e: unknown): boolean {
  return errorsIn(e).some((x) => ['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation'].includes(codeOf(x)) || /is not authorized to perform/.test(x.message));
}

/**
 * Error codes the SDK treats as throttling (`THROTTLING_ERROR_CODES` of @smithy/core's
 * service-error-classification, which also counts any HTTP 429): the SDK retried them with backoff
 * before this error reached deploy-model.
 */
const THROTTLING_CODES = new Set([
  'BandwidthLimitExceeded', 'EC2ThrottledException', 'LimitExceededException', 'PriorRequestNotComplete', 'ProvisionedThroughputExceededException',
  'RequestLimitExceeded', 'RequestThrottled', 'RequestThrottledException', 'SlowDown', 'ThrottledException', 'Throttling', 'ThrottlingException',
  'TooManyRequestsException', 'TransactionInProgressException',
]);

export function isThrottling(e: unknown): boolean {
  return errorsIn(e).some((x) => x.$metadata?.httpStatusCode === 429 || THROTTLING_CODES.has(codeOf(x)) || x.$retryable?.throttling === true);
}

export function credentialsExpired(region: string, action: string, cause: unknown): DeployModelError {
  return new DeployModelError('AWS_CREDENTIALS_EXPIRED',
    `The AWS credentials used to ${action} in ${region} have expired: ${awsReason(rootAwsError(cause))}. AWS refused the call, so it changed nothing. Fix: get new credentials and run the command again: \`aws sso login --profile NAME\` for an SSO profile; for temporary credentials (AWS_SESSION_TOKEN), assume the role again and export the new three values; in CI, give the job's role session a duration longer than the deploy.`,
    { cause, details: { region } });
}

/**
 * IAM denied a call. The message names who was denied what, from IAM's own wording; a CDK
 * bootstrap role that lacks a permission it normally has points at the bootstrap or at a policy
 * above it (a service control policy, a permissions boundary).
 */
export function accessDenied(region: string, action: string, cause: unknown): DeployModelError {
  const root = rootAwsError(cause);
  const reason = awsReason(root);
  const m = /User: (\S+) is not authorized to perform: (\S+)(?: on resource: (\S+))?/.exec(reason);
  const [principal, permission, resource] = m ? [m[1]!, m[2]!, m[3]] : [undefined, undefined, undefined];
  const bootstrapRole = principal && /cdk-[a-z0-9]+-(deploy|file-publishing|image-publishing|lookup|cfn-exec)-role/.exec(principal)?.[0];
  const who = principal ? `${principal} may not ${permission}${resource ? ` on ${resource}` : ''}` : 'AWS denied the call';
  const fix = bootstrapRole
    ? `${bootstrapRole} is a CDK bootstrap role, which has this permission unless its policy was changed or a service control policy or permissions boundary denies it: run \`npx cdk bootstrap\` again for this account and region to restore its policy, or ask your AWS administrator to allow ${permission} for it`
    : `attach a policy that allows ${permission ?? 'the action'}${resource ? ` on ${resource}` : ''} to that identity, or run the command with credentials that have it`;
  return new DeployModelError('AWS_ACCESS_DENIED', `Could not ${action} in ${region}: ${who} (${reason}). Fix: ${fix}.`,
    { cause, details: { region, principal, permission, resource } });
}

/** Throttling that outlasted the SDK's retries. */
export function throttled(service: string, region: string, action: string, cause: unknown): DeployModelError {
  return new DeployModelError('AWS_THROTTLED',
    `${service} kept throttling the calls to ${action} in ${region}, past the SDK's retries with backoff: ${awsReason(rootAwsError(cause))}. Fix: wait a minute and run the command again; run fewer deploys (or other tools calling ${service}) at once in this account and region; if it keeps happening, ask for a higher rate in the Service Quotas console.`,
    { cause, details: { service, region } });
}
