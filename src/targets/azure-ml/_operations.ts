/** Azure errors translated into DeployModelErrors with the fix, and long-running operations waited for. */
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';

interface AzureRestError { name?: string; statusCode?: number; code?: string; message?: string }

const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AuthenticationError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

/** A failed long-running operation, as @azure/core-lro reports it: "The long-running operation has failed. <code>. <message>". */
const LRO_FAILED = /^The long-running operation has failed\.\s*([^.]*)\.\s*([\s\S]*)$/;

export interface AzureErrorContext {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  instanceType?: string;
}

/**
 * Turns an error of an Azure call (or a failed operation) into a DeployModelError that says what
 * to do. `what` names the call. Messages never carry request headers, so keys and tokens stay out.
 */
export function azureError(e: unknown, what: string, ctx: AzureErrorContext): DeployModelError {
  if (e instanceof DeployModelError) return e;
  const err = (e ?? {}) as AzureRestError;
  let message = err.message ?? String(e);
  let code = err.code;
  const failed = LRO_FAILED.exec(message);
  if (failed) {
    code = failed[1] || code;
    message = failed[2];
  }
  const details = { call: what, statusCode: err.statusCode, code, message };
  if (err.name && CREDENTIAL_ERRORS.has(err.name)) {
    return new DeployModelError('AZURE_CREDENTIALS_MISSING', `${what} failed: no usable Azure credentials (${message.split('\n')[0]}). Run \`az login\` and deploy again.`, { cause: e, details });
  }
  if (/quota/i.test(message) || code === 'QuotaExceeded') {
    return new DeployModelError('AZURE_QUOTA_EXCEEDED',
      `${what} failed: not enough quota (${message}). Request more for the ${ctx.instanceType ?? 'VM'} family in the workspace's region (Azure portal > Azure Machine Learning > Quota), or choose another instanceType or a smaller instanceCount.`,
      { cause: e, details });
  }
  if (code === 'MissingSubscriptionRegistration' || /not registered to use namespace/i.test(message)) {
    return new DeployModelError('AZURE_PROVIDER_NOT_REGISTERED',
      `${what} failed: the subscription is not registered for Azure Machine Learning (${message}). Run \`az provider register --namespace Microsoft.MachineLearningServices --subscription ${ctx.subscriptionId}\` and deploy again.`,
      { cause: e, details });
  }
  if (err.statusCode === 401) {
    return new DeployModelError('AZURE_CREDENTIALS_INVALID',
      `${what} failed: Azure refused the credentials${code ? ` (${code})` : ''}: ${message.split('\n')[0]} Fix: run \`az login\` again (or get a fresh token for DEPLOY_MODEL_AZURE_ACCESS_TOKEN with \`az account get-access-token\`), and check the tenant and subscription with \`az account show\`.`,
      { cause: e, details });
  }
  if (err.statusCode === 403) {
    // Blob Storage's data-plane refusal (the identity lacks a Storage Blob Data role), or ARM's AuthorizationFailed naming the action.
    const blob = code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationFailure' || /^Uploading|from datastore/.test(what);
    const action = /perform action '([^']+)'/.exec(message)?.[1];
    const fix = blob
      ? `grant the deploying identity Storage Blob Data Contributor on the workspace's storage account (\`az role assignment create --role "Storage Blob Data Contributor" --assignee <identity> --scope <storage account id>\`); the upload uses Entra ID, not account keys`
      : `grant the deploying identity Contributor (or AzureML Data Scientist) on workspace ${ctx.workspace}${action ? ` (it lacks ${action})` : ''}: \`az role assignment create --role "AzureML Data Scientist" --assignee <identity> --scope /subscriptions/${ctx.subscriptionId}/resourceGroups/${ctx.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${ctx.workspace}\`; a grant takes a few minutes to apply`;
    return new DeployModelError('AZURE_PERMISSION_DENIED', `${what} failed: permission denied${code ? ` (${code})` : ''}: ${message.split('\n')[0]} Fix: ${fix}.`, { cause: e, details: { ...details, ...(action ? { action } : {}) } });
  }
  if (err.statusCode === 404 && /workspace|ResourceGroupNotFound|ResourceNotFound/i.test(`${code} ${message}`) && /workspace|resource group/i.test(what)) {
    const group = code === 'ResourceGroupNotFound';
    return new DeployModelError('AZURE_WORKSPACE_NOT_FOUND',
      `${what} failed: ${group ? `resource group ${ctx.resourceGroup} does not exist in subscription ${ctx.subscriptionId}` : `workspace ${ctx.workspace} was not found in resource group ${ctx.resourceGroup} of subscription ${ctx.subscriptionId}`} (${message}). Nothing was changed. Fix: correct subscriptionId, resourceGroup or workspace in the target's config; \`az ml workspace list --resource-group ${ctx.resourceGroup} --subscription ${ctx.subscriptionId}\` lists the workspaces${group ? ` (\`az group list --subscription ${ctx.subscriptionId}\` the groups)` : ''}.`,
      { cause: e, details });
  }
  if (failed) {
    return new DeployModelError('AZURE_OPERATION_FAILED',
      `${what} failed: ${code ? `${code}: ` : ''}${message}. The deployment's container logs: \`az ml online-deployment get-logs\`.`,
      { cause: e, details });
  }
  if (err.statusCode && (err.statusCode === 429 || err.statusCode >= 500)) {
    // The SDK's retry policies (core-rest-pipeline's, and Blob Storage's own) retried these with backoff first.
    return new DeployModelError('AZURE_SERVICE_ERROR',
      `${what} failed: Azure answered HTTP ${err.statusCode}${code ? ` ${code}` : ''} (${message.split('\n')[0]}), still after the SDK's retries. Fix: run the command again in a few minutes (a deploy skips the files already uploaded); https://azure.status.microsoft shows whether the service has trouble in the workspace's region.`,
      { cause: e, details });
  }
  return new DeployModelError('AZURE_API_ERROR', `${what} failed: ${err.statusCode ? `HTTP ${err.statusCode} ` : ''}${code ? `${code}: ` : ''}${message}`, { cause: e, details });
}

interface Poller<T> {
  pollUntilDone(): Promise<T>;
  stopPolling(): void;
  getOperationState(): unknown;
}

function minutes(ms: number): string {
  if (ms >= 60_000) return `${Math.round(ms / 6_000) / 10} min`;
  return ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * Starts a long-running operation (`begin(updateIntervalInMs)`) and waits for it, at most
 * `timeoutMs`: a failure becomes a DeployModelError with the operation's message, and an operation
 * that outlives the wait becomes AZURE_OPERATION_TIMEOUT naming it.
 */
export async function runOperation<T>(options: {
  what: string;
  begin: (updateIntervalInMs: number) => Promise<Poller<T>>;
  io: IoHelper;
  timeoutMs: number;
  pollMs: number;
  errorContext: AzureErrorContext;
}): Promise<T> {
  const { what, begin, io, timeoutMs, pollMs, errorContext } = options;
  let poller: Poller<T>;
  try {
    poller = await begin(pollMs);
  } catch (e) {
    throw azureError(e, what, errorContext);
  }
  const started = Date.now();
  const timedOut = Symbol('timed out');
  let deadline: NodeJS.Timeout | undefined;
  const timer = new Promise<typeof timedOut>((resolve) => { deadline = setTimeout(() => resolve(timedOut), timeoutMs); });
  const progress = setInterval(() => io.info('DM_AZURE_WAITING', `Still ${what} (${minutes(Date.now() - started)})`, { elapsedMs: Date.now() - started }), 60_000);
  const done = poller.pollUntilDone();
  try {
    // The SDK's legacy poller ignores abort signals: race it, and stop its polling loop on timeout.
    const result = await Promise.race([done, timer]);
    if (result !== timedOut) return result as T;
    poller.stopPolling();
    done.catch(() => {});
    const location = (poller.getOperationState() as { config?: { operationLocation?: string } } | undefined)?.config?.operationLocation;
    throw new DeployModelError('AZURE_OPERATION_TIMEOUT',
      `Gave up waiting for ${what} after ${minutes(Date.now() - started)} (operationTimeoutMinutes allows ${minutes(timeoutMs)}); the operation${location ? ` ${location.replace(/\?.*$/, '')}` : ''} is still running in Azure. Check it in Azure ML studio (Endpoints) or with \`az ml online-endpoint show\`, and raise operationTimeoutMinutes if this step takes longer for this model.`,
      { details: { operation: location, waitedMs: Date.now() - started, timeoutMs } });
  } catch (e) {
    throw azureError(e, what, errorContext);
  } finally {
    clearTimeout(deadline);
    clearInterval(progress);
  }
}
