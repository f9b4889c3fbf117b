/**
 * Faults a test injects into the Azure fake. Each is consumed when it fires.
 */
export interface HttpFault {
  status: number;
  code: string;
  message: string;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
}

/** What a long-running operation does: create or update an endpoint or a deployment, or delete one. */
export type OperationKind = 'endpoint' | 'deployment' | 'delete';

interface RequestFault { method?: string; path: RegExp; fault: HttpFault; remaining: number }

export class AzureFaults {
  private readonly requests: RequestFault[] = [];
  private readonly operations: Array<{ kind: OperationKind; fault: { code: string; message: string } }> = [];
  private readonly hangs: OperationKind[] = [];
  private readonly inference: string[] = [];
  private readonly startups: number[] = [];
  private readonly expiredTokens = new Set<string>();
  private readonly deploymentFailures = new Map<string, string>();

  /** The next `times` requests matching `method` and `path` answer this error. */
  failRequest(match: { method?: string; path: RegExp }, fault: HttpFault, times = 1): void {
    this.requests.push({ ...match, fault, remaining: times });
  }

  /** Azure ML's answer when the subscription's quota for the VM family is used up, on the next deployment PUT. */
  quotaExceeded(instanceType = 'Standard_NC4as_T4_v3', subscriptionId = '00000000-0000-0000-0000-000000000000'): void {
    this.failRequest({ method: 'PUT', path: /\/deployments\/[^/]+$/ }, {
      status: 400, code: 'BadArgument',
      message: `Not enough quota available for ${instanceType} in SubscriptionId ${subscriptionId}. Current usage/limit: 4/4. Additional needed: 4 Please choose a different SKU or request for quota increase.`,
    });
  }

  /** A subscription that never registered Microsoft.MachineLearningServices, on the next ARM request. */
  providerNotRegistered(subscriptionId = '00000000-0000-0000-0000-000000000000'): void {
    this.failRequest({ path: /^\/subscriptions\// }, {
      status: 409, code: 'MissingSubscriptionRegistration',
      message: `The subscription '${subscriptionId}' is not registered to use namespace 'Microsoft.MachineLearningServices'. See https://aka.ms/rps-not-found for how to register subscriptions.`,
    });
  }

  /**
   * Azure RBAC refused `action` to the caller on the next request matching (ARM's 403
   * AuthorizationFailed, with its wording).
   */
  authorizationFailed(match: { method?: string; path: RegExp }, action: string, scope: string): void {
    this.failRequest(match, {
      status: 403, code: 'AuthorizationFailed',
      message: `The client 'deployer@contoso.onmicrosoft.com' with object id '11111111-1111-1111-1111-111111111111' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    });
  }

  /**
   * The next `times` blob uploads (PUT of a block blob) answer this Blob Storage error, e.g. 403
   * AuthorizationPermissionMismatch (the identity has no Storage Blob Data role) or 503 ServerBusy.
   */
  failBlobUpload(fault: { status: number; code: string; message: string }, times = 1): void {
    this.failRequest({ method: 'PUT', path: /^\/[^/]+\/azureml-blobstore-[^/]+\/.+/ }, fault, times);
  }

  /**
   * Requests bearing this bearer token are refused as Azure refuses an expired one: Resource
   * Manager with 401 ExpiredAuthenticationToken, Blob Storage with 401 InvalidAuthenticationInfo.
   */
  expireToken(token: string): void {
    this.expiredTokens.add(token);
  }

  /** The next `times` requests matching answer 429 with Retry-After (which the SDK honours and retries). */
  throttle(match: { method?: string; path: RegExp }, times = 1, retryAfterSeconds = 1): void {
    this.failRequest(match, { status: 429, code: 'TooManyRequests', message: 'The request is being throttled.', headers: { 'retry-after': String(retryAfterSeconds) } }, times);
  }

  /** The next operation of this kind ends `Failed` with this error. */
  failOperation(kind: OperationKind, fault: { code: string; message: string }): void {
    this.operations.push({ kind, fault });
  }

  /** The next operation of this kind stays `InProgress` forever. */
  hangOperation(kind: OperationKind): void {
    this.hangs.push(kind);
  }

  /** The next deployment created reports healthy but answers every inference with HTTP 500. */
  failInference(message = 'injected: the model crashed on this input'): void {
    this.inference.push(message);
  }

  /**
   * The next deployment created takes this long, in seconds of the deployment's own clock, before
   * Triton answers (a TensorRT engine build): its liveness probe settings decide whether it lives.
   */
  slowStartup(seconds: number): void {
    this.startups.push(seconds);
  }

  /**
   * From now on, deployment `deployment` of online endpoint `endpoint` answers every scoring
   * request with HTTP 500 and `message`, as a model that broke under load would, until
   * `clearDeploymentFailure`. Its probes still pass: the endpoint keeps routing to it.
   */
  deploymentFailure(endpoint: string, deployment: string, message = 'injected: the model server failed'): void {
    this.deploymentFailures.set(`${endpoint}/${deployment}`, message);
  }

  clearDeploymentFailure(endpoint: string, deployment: string): void {
    this.deploymentFailures.delete(`${endpoint}/${deployment}`);
  }

  reset(): void {
    this.deploymentFailures.clear();
    this.requests.length = 0;
    this.expiredTokens.clear();
    this.operations.length = 0;
    this.hangs.length = 0;
    this.inference.length = 0;
    this.startups.length = 0;
  }

  /** @internal */
  isExpired(authorization: string | undefined): boolean {
    return !!authorization && this.expiredTokens.has(authorization.replace(/^Bearer /, ''));
  }

  /** @internal */
  deploymentFailureOf(endpoint: string, deployment: string): string | undefined {
    return this.deploymentFailures.get(`${endpoint}/${deployment}`);
  }

  /** @internal */
  takeStartup(): number | undefined {
    return this.startups.shift();
  }

  /** @internal */
  takeRequest(method: string, path: string): HttpFault | undefined {
    const index = this.requests.findIndex((r) => (!r.method || r.method === method) && r.path.test(path));
    if (index < 0) return undefined;
    const entry = this.requests[index];
    if (--entry.remaining <= 0) this.requests.splice(index, 1);
    return entry.fault;
  }

  /** @internal */
  takeOperation(kind: OperationKind): { fail?: { code: string; message: string }; hang: boolean } {
    const hang = this.hangs.indexOf(kind);
    if (hang >= 0) {
      this.hangs.splice(hang, 1);
      return { hang: true };
    }
    const index = this.operations.findIndex((o) => o.kind === kind);
    if (index < 0) return { hang: false };
    const [entry] = this.operations.splice(index, 1);
    return { fail: entry.fault, hang: false };
  }

  /** @internal */
  takeInferenceFailure(): string | undefined {
    return this.inference.shift();
  }
}
