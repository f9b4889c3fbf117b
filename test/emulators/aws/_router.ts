import { cloudformation } from './cloudformation.js';
import { lambda } from './lambda.js';
import { lambdaUrl } from './_lambda-url.js';
import type { AwsServiceModule } from './_service.js';
import { s3 } from './s3.js';
import { sagemaker } from './sagemaker.js';
import { ssm } from './ssm.js';
import { ecr } from './ecr.js';
import { cloudWatchLogs } from './logs.js';
import { sts } from './sts.js';
import { headerValue, type WireRequest } from './_wire.js';

/**
 * The services every fake serves. Order matters only for `claims` (path-based routing): Function
 * URLs before the Lambda API. A new service (e.g. `sagemaker.ts`, signing name `sagemaker`,
 * target prefix `SageMaker`, claiming `/endpoints/{name}/invocations`) is one more entry here.
 */
export const DEFAULT_SERVICES: readonly AwsServiceModule[] = [lambdaUrl, lambda, sts, ssm, ecr, cloudformation, sagemaker, cloudWatchLogs, s3];

/**
 * Picks the module for a request: a path a module claims, then the `x-amz-target` prefix (JSON
 * protocols), then the SigV4 credential scope's service, then an unsigned awsQuery form's API
 * version; anything else is S3 (path-style).
 */
export function pickService(services: readonly AwsServiceModule[], req: WireRequest): AwsServiceModule | undefined {
  const claimed = services.find((s) => s.claims?.(req));
  if (claimed) return claimed;
  const target = headerValue(req.headers, 'x-amz-target');
  if (target) {
    const prefix = target.slice(0, target.indexOf('.'));
    return services.find((s) => s.targetPrefixes?.includes(prefix));
  }
  if (req.scope) return services.find((s) => s.signingNames.includes(req.scope!.service));
  const form = headerValue(req.headers, 'content-type')?.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(req.body.toString('utf8')) : undefined;
  if (form?.has('Action')) {
    const name = form.get('Version') === '2011-06-15' ? 'sts' : 'cloudformation';
    return services.find((s) => s.name === name);
  }
  return services.find((s) => s.name === 's3');
}
