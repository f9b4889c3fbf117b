/** Where the AWS SDK sends a service's calls instead of AWS, and the variable that says so. */
export interface EndpointOverride {
  /** `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`. */
  readonly variable: string;
  readonly url: string;
}

/**
 * The endpoint the SDK uses for a service (its SDK id, e.g. `CloudFormation`, `SageMaker`) when an
 * environment variable overrides AWS's, read the way the SDK reads it: `AWS_ENDPOINT_URL_<SERVICE>`,
 * then `AWS_ENDPOINT_URL`, neither when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true. Errors use
 * it to say that an AWS emulator (moto, LocalStack) answered, and may lack what AWS has.
 */
export function endpointOverride(serviceId: string): EndpointOverride | undefined {
  if ((process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return undefined;
  const specific = `AWS_ENDPOINT_URL_${serviceId.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
  for (const variable of [specific, 'AWS_ENDPOINT_URL']) {
    const url = process.env[variable];
    if (url) return { variable, url };
  }
  return undefined;
}

/** For an error about a service's calls: nothing against AWS, else which endpoint answered and what that means. */
export function overrideNote(serviceId: string): string {
  const o = endpointOverride(serviceId);
  return o
    ? ` ${serviceId} calls go to ${o.url} (${o.variable}), not to AWS: that endpoint gave this answer, and an AWS emulator may lack an API, a resource type or a value that AWS has.`
    : '';
}
