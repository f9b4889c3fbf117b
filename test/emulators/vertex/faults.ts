/**
 * Faults a test injects into the Vertex AI fake. Each is consumed when it fires, so a test that
 * asks for one failure gets exactly one.
 */
export interface RpcFault {
  /** gRPC status code, e.g. 8 (RESOURCE_EXHAUSTED) or 7 (PERMISSION_DENIED). */
  code: number;
  message: string;
  /**
   * The status's google.rpc.ErrorInfo, sent as Google's APIs send it (`grpc-status-details-bin`);
   * google-gax surfaces it as the error's `reason`, `domain` and `errorInfoMetadata`.
   */
  errorInfo?: { reason: string; domain: string; metadata?: Record<string, string> };
}

export class VertexFaults {
  private readonly calls: Array<{ method: string; fault: RpcFault; remaining: number }> = [];
  private readonly operations: Array<{ method: string; fault: RpcFault }> = [];
  private readonly hangs: string[] = [];
  private readonly inference: string[] = [];
  private readonly modelFailures = new Map<string, string>();

  /** The next `times` calls of `method` (e.g. 'DeployModel', 'UploadModel') answer this error at once. */
  failCall(method: string, fault: RpcFault, times = 1): void {
    this.calls.push({ method, fault, remaining: times });
  }

  /**
   * Vertex AI's quota error, as DeployModel answers it when the region's GPU quota is used up.
   * @default method 'DeployModel'
   */
  quotaExceeded(method = 'DeployModel', metric = 'aiplatform.googleapis.com/custom_model_serving_nvidia_l4_gpus'): void {
    this.failCall(method, { code: 8, message: `The following quota metrics exceed quota limits: ${metric}` });
  }

  /** The answer of a project where the Vertex AI API is not enabled. */
  apiDisabled(method = 'ListEndpoints', project = 'my-project'): void {
    this.failCall(method, {
      code: 7,
      message: `Vertex AI API has not been used in project ${project} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=${project} then retry. [SERVICE_DISABLED]`,
    });
  }

  /**
   * The next `times` calls of `method` answer UNAVAILABLE, as Google's front ends do when a
   * backend is briefly unreachable.
   */
  unavailable(method: string, times = 1): void {
    this.failCall(method, { code: 14, message: 'The service is currently unavailable.' }, times);
  }

  /**
   * The next `times` calls of `method` are refused for their rate: RESOURCE_EXHAUSTED with
   * ErrorInfo RATE_LIMIT_EXCEEDED for Vertex AI's per-minute "Resource management requests" quota.
   */
  rateLimited(method: string, times = 1, projectNumber = '123456789012', region = 'us-central1'): void {
    this.failCall(method, {
      code: 8,
      message: `Quota exceeded for quota metric 'Resource management requests' and limit 'Resource management requests per minute per region' of service 'aiplatform.googleapis.com' for consumer 'project_number:${projectNumber}'.`,
      errorInfo: {
        reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com',
        metadata: { service: 'aiplatform.googleapis.com', consumer: `projects/${projectNumber}`, quota_metric: 'aiplatform.googleapis.com/resource_management_requests', quota_limit: 'ResourceManagementRequestsPerMinutePerProjectPerRegion', quota_location: region },
      },
    }, times);
  }

  /** IAM refused `permission` to the caller on the next call of `method` (PERMISSION_DENIED, ErrorInfo IAM_PERMISSION_DENIED). */
  permissionDenied(method: string, permission: string, resource = 'projects/my-project/locations/us-central1'): void {
    this.failCall(method, {
      code: 7,
      message: `Permission '${permission}' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
      errorInfo: { reason: 'IAM_PERMISSION_DENIED', domain: 'aiplatform.googleapis.com', metadata: { permission, resource } },
    });
  }

  /** The next call of `method` carries a token Google refuses (UNAUTHENTICATED, ErrorInfo ACCESS_TOKEN_EXPIRED). */
  invalidCredentials(method: string): void {
    this.failCall(method, {
      code: 16,
      message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      errorInfo: { reason: 'ACCESS_TOKEN_EXPIRED', domain: 'googleapis.com', metadata: { service: 'aiplatform.googleapis.com' } },
    });
  }

  /** The next operation started by `method` ends done, with this error. */
  failOperation(method: string, fault: RpcFault): void {
    this.operations.push({ method, fault });
  }

  /** The next operation started by `method` never finishes. */
  hangOperation(method: string): void {
    this.hangs.push(method);
  }

  /** The next model deployed (by DeployModel) loads and reports healthy, but answers every inference with HTTP 500. */
  failInference(message = 'injected: the model crashed on this input'): void {
    this.inference.push(message);
  }

  /**
   * From now on, every deployed model of the Model `model` (its resource name, on any endpoint)
   * answers each prediction with HTTP 500 and `message`, as a model that broke under load would,
   * until `clearModelFailure`. Health checks still pass: Vertex AI keeps routing to it.
   */
  modelFailure(model: string, message = 'injected: the model server failed'): void {
    this.modelFailures.set(model, message);
  }

  clearModelFailure(model: string): void {
    this.modelFailures.delete(model);
  }

  reset(): void {
    this.modelFailures.clear();
    this.calls.length = 0;
    this.operations.length = 0;
    this.hangs.length = 0;
    this.inference.length = 0;
  }

  /** @internal */
  takeCall(method: string): RpcFault | undefined {
    const index = this.calls.findIndex((c) => c.method === method);
    if (index < 0) return undefined;
    const entry = this.calls[index];
    if (--entry.remaining <= 0) this.calls.splice(index, 1);
    return entry.fault;
  }

  /** @internal */
  takeOperation(method: string): { fail?: RpcFault; hang: boolean } {
    const hang = this.hangs.indexOf(method);
    if (hang >= 0) {
      this.hangs.splice(hang, 1);
      return { hang: true };
    }
    const index = this.operations.findIndex((o) => o.method === method);
    if (index < 0) return { hang: false };
    const [entry] = this.operations.splice(index, 1);
    return { fail: entry.fault, hang: false };
  }

  /** @internal */
  modelFailureOf(model: string): string | undefined {
    return this.modelFailures.get(model);
  }

  /** @internal */
  takeInferenceFailure(): string | undefined {
    return this.inference.shift();
  }
}
