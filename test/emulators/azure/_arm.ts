import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { serveRepository } from '../vertex/serve-repository.js';
import { deploymentSettingsProblem, livenessAllowanceSeconds } from './_deployment-settings.js';
import type { OperationKind } from './faults.js';
import type { ContainerType, Deployment, Endpoint, FakeContext, Workspace } from './_state.js';

export const API_VERSION = '2022-10-01';

export interface WireRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface WireReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export class ArmError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

const json = (req: WireRequest): any => {
  try { return req.body.length ? JSON.parse(req.body.toString('utf8')) : {}; } catch { throw new ArmError(400, 'BadRequest', 'The request body is not JSON.'); }
};

/**
 * Starts an Azure async operation: answers 201/202 with `Azure-AsyncOperation` (and `Location`
 * for deletes) right away, runs `work` in the background unless a fault fails or hangs it.
 */
function asyncOperation(ctx: FakeContext, kind: OperationKind, work: () => Promise<void>, onFailure: () => void): Record<string, string> {
  const id = randomUUID();
  const op = { id, status: 'InProgress' as 'InProgress' | 'Succeeded' | 'Failed', error: undefined as { code: string; message: string } | undefined };
  ctx.state.operations.set(id, op);
  const fault = ctx.faults.takeOperation(kind);
  if (!fault.hang) {
    setTimeout(() => {
      void (async () => {
        try {
          if (fault.fail) throw new ArmError(400, fault.fail.code, fault.fail.message);
          await work();
          op.status = 'Succeeded';
        } catch (e) {
          if (!(e instanceof ArmError)) ctx.internalErrors.push(e as Error);
          op.error = { code: e instanceof ArmError ? e.code : 'InternalServerError', message: (e as Error).message };
          op.status = 'Failed';
          onFailure();
        }
      })();
    }, ctx.operationDelayMs);
  }
  const url = `${ctx.origin()}/operations/${id}?api-version=${API_VERSION}`;
  return { 'azure-asyncoperation': url, location: url, 'retry-after': '0' };
}

function workspaceId(w: Workspace): string {
  return `/subscriptions/${w.subscriptionId}/resourceGroups/${w.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${w.workspace}`;
}

function endpointView(e: Endpoint) {
  const { keys: _keys, ...view } = e;
  return { ...view, type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints' };
}

function deploymentView(d: Deployment) {
  const { server: _server, logs: _logs, ...view } = d;
  return { ...view, type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments' };
}

/** `azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/ds/paths/<path>` → the blob prefix. */
function modelPath(uri: string): string {
  const m = /^azureml:\/\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/workspaces\/[^/]+\/datastores\/[^/]+\/paths\/(.+)$/i.exec(uri) ?? /^azureml:\/\/datastores\/[^/]+\/paths\/(.+)$/.exec(uri);
  if (!m) throw new ArmError(400, 'BadArgument', `Unsupported model URI: ${uri}`);
  return m[1].replace(/\/+$/, '');
}

/**
 * What Azure ML does when a Triton deployment is created: mount the model folder, start Triton,
 * wait for readiness. `startupSeconds` is how long the server stays silent while it loads (a
 * TensorRT engine build); a liveness probe that gives up sooner restarts the container, and the
 * restart starts the build over, so the deployment never becomes ready.
 */
async function startDeployment(ctx: FakeContext, ws: Workspace, deployment: Deployment, modelUri: string, failInference: string | undefined, startupSeconds: number | undefined) {
  const allowance = livenessAllowanceSeconds(deployment.properties.livenessProbe);
  if (startupSeconds !== undefined && startupSeconds > allowance) {
    throw new ArmError(400, 'ResourceNotReady', `User container has crashed or terminated: the liveness probe failed (it allows ${allowance} s: initialDelay + failureThreshold x period) while the container needed ${startupSeconds} s to start, so it was restarted, again and again. Please see troubleshooting guide, available here: https://aka.ms/oe-tsg#error-resourcenotready`);
  }
  const container = ctx.state.blobs.get(`${ctx.account}/${ws.container}`) ?? new Map();
  const prefix = `${modelPath(modelUri)}/`;
  const dir = await mkdtemp(path.join(ctx.scratchDir, 'azureml-model-'));
  let count = 0;
  for (const [name, blob] of container) {
    if (!name.startsWith(prefix)) continue;
    const file = path.join(dir, ...name.slice(prefix.length).split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, blob.data);
    count++;
  }
  const print = (container: ContainerType, line: string) => deployment.logs[container].push(`${new Date().toISOString()} ${line}`);
  print('StorageInitializer', `Downloading ${modelUri} to /var/azureml-app/azureml-models`);
  if (count === 0) throw new ArmError(400, 'ModelNotFound', `No files under ${modelUri}; the model's folder is empty.`);
  print('StorageInitializer', `Downloaded ${count} files`);
  const server = await serveRepository(dir, { failInference }).catch((e: Error) => {
    print('InferenceServer', `E ${e.message}`);
    throw new ArmError(400, 'ResourceNotReady', `User container has crashed or terminated: ${e.message}`);
  });
  print('InferenceServer', `I successfully loaded '${server.modelName}' version 1`);
  print('InferenceServer', 'I Started HTTPService at 0.0.0.0:8000');
  const ready = await fetch(`${server.url}/v2/health/ready`).then((r) => r.status, () => 0);
  if (ready !== 200) {
    await server.close();
    throw new ArmError(400, 'ResourceNotReady', 'User container has crashed or terminated: the readiness probe failed.');
  }
  return server;
}

/** Resource Manager: workspaces, datastores, models, online endpoints and deployments, async operations. */
export function armRoutes(ctx: FakeContext) {
  const { state } = ctx;

  function workspaceOf(sub: string, rg: string, ws: string): Workspace {
    const found = state.workspaces.find((w) => w.subscriptionId === sub && w.resourceGroup.toLowerCase() === rg.toLowerCase() && w.workspace.toLowerCase() === ws.toLowerCase());
    if (!found && !state.workspaces.some((w) => w.subscriptionId === sub && w.resourceGroup.toLowerCase() === rg.toLowerCase())) {
      throw new ArmError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
    }
    if (!found) {
      throw new ArmError(404, 'ResourceNotFound', `The Resource 'Microsoft.MachineLearningServices/workspaces/${ws}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    }
    return found;
  }

  function endpointOf(name: string): Endpoint {
    const e = state.endpoints.get(name);
    if (!e) throw new ArmError(404, 'UserError', `Could not find endpoint with name ${name}.`);
    return e;
  }

  function deploymentsOf(endpoint: string): Map<string, Deployment> {
    let map = state.deployments.get(endpoint);
    if (!map) state.deployments.set(endpoint, (map = new Map()));
    return map;
  }

  function checkTraffic(endpoint: string, traffic: Record<string, number>): void {
    const deployments = deploymentsOf(endpoint);
    for (const [name, share] of Object.entries(traffic)) {
      if (!deployments.has(name)) throw new ArmError(400, 'BadArgument', `Traffic refers to deployment ${name}, which does not exist on endpoint ${endpoint}.`);
      // OnlineEndpointProperties.traffic: "Percentage of traffic from endpoint to divert to each deployment. Traffic values need to sum to 100." (mfe.json, int32 values)
      if (!Number.isInteger(share) || share < 0 || share > 100) throw new ArmError(400, 'BadArgument', `Traffic of deployment ${name} must be a whole percentage from 0 to 100, got ${share}.`);
    }
    const sum = Object.values(traffic).reduce((a, b) => a + Number(b), 0);
    if (sum !== 0 && sum !== 100) throw new ArmError(400, 'BadArgument', `Traffic must add up to 0 or 100, got ${sum}.`);
  }

  /**
   * Azure Resource Manager's tag limits: at most 50 tags, names of at most 512 characters, values of
   * at most 256 (https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations).
   */
  function checkTags(tags: Record<string, unknown>): void {
    const entries = Object.entries(tags);
    if (entries.length > 50) throw new ArmError(400, 'InvalidTemplate', `A resource can have at most 50 tags, got ${entries.length}.`);
    for (const [k, v] of entries) {
      if (k.length > 512 || /[<>%&\\?/]/.test(k)) throw new ArmError(400, 'InvalidTagNameCharacters', `The tag name '${k}' is longer than 512 characters or has one of <, >, %, &, \\, ?, /.`);
      if (typeof v !== 'string' || v.length > 256) throw new ArmError(400, 'InvalidTemplate', `The value of tag '${k}' must be a string of at most 256 characters.`);
    }
  }

  async function workspaceRoute(req: WireRequest, ws: Workspace, rest: string[]): Promise<WireReply> {
    const base = workspaceId(ws);
    const [kind, name, sub, subName, action] = rest;
    if (!kind && req.method === 'GET') {
      return { status: 200, body: { id: base, name: ws.workspace, location: ws.location, type: 'Microsoft.MachineLearningServices/workspaces', properties: { provisioningState: 'Succeeded' } } };
    }
    if (kind === 'datastores' && !name && req.method === 'GET') {
      return {
        status: 200, body: {
          value: [{
            id: `${base}/datastores/workspaceblobstore`, name: 'workspaceblobstore',
            properties: { datastoreType: 'AzureBlob', isDefault: true, accountName: ctx.account, containerName: ws.container, endpoint: 'core.windows.net', protocol: 'https', credentials: { credentialsType: 'AccountKey' } },
          }],
        },
      };
    }
    if (kind === 'models' && name) {
      const id = `${base}/models/${name}`;
      if (!sub) {
        if (req.method === 'PUT') {
          const existing = state.models.get(name);
          state.models.set(name, { versions: existing?.versions ?? new Map(), properties: json(req).properties ?? {} });
          return { status: existing ? 200 : 201, body: { id, name, properties: state.models.get(name)!.properties } };
        }
        const model = state.models.get(name);
        if (!model) throw new ArmError(404, 'UserError', `Model container ${name} not found.`);
        if (req.method === 'GET') return { status: 200, body: { id, name, properties: model.properties } };
        if (req.method === 'DELETE') {
          if (model.versions.size > 0) throw new ArmError(409, 'Conflict', `Model ${name} still has versions.`);
          state.models.delete(name);
          return { status: 200 };
        }
      }
      if (sub === 'versions') {
        const model = state.models.get(name);
        if (!subName && req.method === 'GET') {
          if (!model) throw new ArmError(404, 'UserError', `Model container ${name} not found.`);
          return { status: 200, body: { value: [...model.versions.values()] } };
        }
        if (subName && req.method === 'PUT') {
          if (!model) throw new ArmError(404, 'UserError', `Model container ${name} not found; create it first.`);
          const body = json(req);
          if (!body.properties?.modelUri) throw new ArmError(400, 'BadArgument', 'modelUri is required.');
          const version = { id: `${id}/versions/${subName}`, name: subName, version: subName, properties: { ...body.properties, provisioningState: 'Succeeded' } };
          const created = !model.versions.has(subName);
          model.versions.set(subName, version);
          return { status: created ? 201 : 200, body: version };
        }
        const version = model?.versions.get(subName);
        if (!version) throw new ArmError(404, 'UserError', `Model ${name} version ${subName} not found.`);
        if (req.method === 'GET') return { status: 200, body: version };
        if (req.method === 'DELETE') {
          model!.versions.delete(subName);
          return { status: 200 };
        }
      }
    }
    if (kind === 'onlineEndpoints' && name) {
      const id = `${base}/onlineEndpoints/${name}`;
      if (!sub) {
        if (req.method === 'GET') return { status: 200, body: endpointView(endpointOf(name)) };
        if (req.method === 'PUT') {
          const body = json(req);
          if (!body.location) throw new ArmError(400, 'BadArgument', 'location is required.');
          if (!body.properties?.authMode) throw new ArmError(400, 'BadArgument', 'properties.authMode is required.');
          const traffic = Object.fromEntries(Object.entries(body.properties.traffic ?? {}).map(([k, v]) => [k, Number(v)]));
          checkTraffic(name, traffic);
          checkTags(body.tags ?? {});
          const existing = state.endpoints.get(name);
          if (existing && existing.properties.authMode !== body.properties.authMode) throw new ArmError(400, 'BadArgument', 'The auth mode of an endpoint cannot be changed.');
          const endpoint: Endpoint = existing ?? {
            id, name, location: body.location, tags: {}, keys: { primaryKey: randomBytes(24).toString('base64url'), secondaryKey: randomBytes(24).toString('base64url') },
            properties: { authMode: body.properties.authMode, traffic: {}, provisioningState: 'Creating', scoringUri: `${ctx.origin()}/endpoints/${name}/score` },
          };
          endpoint.tags = body.tags ?? endpoint.tags;
          endpoint.identity = body.identity ?? endpoint.identity ?? { type: 'SystemAssigned' };
          endpoint.properties = { ...endpoint.properties, description: body.properties.description, provisioningState: existing ? 'Updating' : 'Creating' };
          state.endpoints.set(name, endpoint);
          const headers = asyncOperation(ctx, 'endpoint', async () => {
            endpoint.properties.traffic = traffic;
            endpoint.properties.provisioningState = 'Succeeded';
          }, () => { endpoint.properties.provisioningState = 'Failed'; });
          return { status: existing ? 200 : 201, headers, body: endpointView(endpoint) };
        }
        if (req.method === 'DELETE') {
          const endpoint = endpointOf(name);
          endpoint.properties.provisioningState = 'Deleting';
          const headers = asyncOperation(ctx, 'delete', async () => {
            for (const d of deploymentsOf(name).values()) await d.server?.close();
            state.deployments.delete(name);
            state.endpoints.delete(name);
          }, () => { endpoint.properties.provisioningState = 'Failed'; });
          return { status: 202, headers };
        }
      }
      if (sub === 'listKeys' && req.method === 'POST') {
        const endpoint = endpointOf(name);
        if (endpoint.properties.authMode !== 'Key') throw new ArmError(400, 'BadArgument', 'Keys are only available on endpoints with auth mode Key.');
        return { status: 200, body: { ...endpoint.keys } };
      }
      if (sub === 'token' && req.method === 'POST') {
        const endpoint = endpointOf(name);
        if (endpoint.properties.authMode !== 'AMLToken') throw new ArmError(400, 'BadArgument', 'Tokens are only available on endpoints with auth mode AMLToken.');
        const token = randomBytes(24).toString('base64url');
        state.issuedTokens.set(token, name);
        const now = Math.floor(Date.now() / 1000);
        return { status: 200, body: { accessToken: token, tokenType: 'Bearer', expiryTimeUtc: now + 3600, refreshAfterTimeUtc: now + 1800 } };
      }
      if (sub === 'deployments') {
        const endpoint = endpointOf(name);
        const deployments = deploymentsOf(name);
        if (!subName && req.method === 'GET') return { status: 200, body: { value: [...deployments.values()].map(deploymentView) } };
        if (subName && action === 'getLogs' && req.method === 'POST') return deploymentLogs(req, deployments, name, subName);
        if (subName && !action) {
          if (req.method === 'PUT') return putDeployment(req, ws, endpoint, deployments, subName, `${id}/deployments/${subName}`);
          const deployment = deployments.get(subName);
          if (!deployment) throw new ArmError(404, 'UserError', `Could not find deployment ${subName} on endpoint ${name}.`);
          if (req.method === 'GET') return { status: 200, body: deploymentView(deployment) };
          if (req.method === 'DELETE') {
            if ((endpoint.properties.traffic[subName] ?? 0) > 0) throw new ArmError(400, 'BadArgument', `Deployment ${subName} has ${endpoint.properties.traffic[subName]}% of the traffic; move it first.`);
            deployment.properties.provisioningState = 'Deleting';
            const headers = asyncOperation(ctx, 'delete', async () => {
              await deployment.server?.close();
              deployments.delete(subName);
            }, () => { deployment.properties.provisioningState = 'Failed'; });
            return { status: 202, headers };
          }
        }
      }
    }
    throw new ArmError(404, 'NoRoute', `The fake has no route for ${req.method} ${req.path}.`);
  }

  /**
   * `POST .../deployments/{name}/getLogs` (OnlineDeployments_GetLogs; @azure/arm-machinelearning's
   * getLogsOperationSpec): a DeploymentLogsRequest `{ containerType, tail }` answered with
   * DeploymentLogs `{ content }`, the last `tail` lines of that container's output. The service
   * knows two container types (KnownContainerType) and refuses any other.
   */
  function deploymentLogs(req: WireRequest, deployments: Map<string, Deployment>, endpoint: string, name: string): WireReply {
    const deployment = deployments.get(name);
    if (!deployment) throw new ArmError(404, 'UserError', `Could not find deployment ${name} on endpoint ${endpoint}.`);
    const body = json(req);
    const containerType = body.containerType ?? 'InferenceServer';
    if (containerType !== 'InferenceServer' && containerType !== 'StorageInitializer') {
      throw new ArmError(400, 'BadArgument', `Container type ${containerType} is not supported; use InferenceServer or StorageInitializer.`);
    }
    const { tail } = body;
    if (tail !== undefined && tail !== null && (!Number.isInteger(tail) || tail < 0)) {
      throw new ArmError(400, 'BadArgument', `tail must be a whole number of lines, 0 or more; got ${JSON.stringify(tail)}.`);
    }
    const lines = deployment.logs[containerType as ContainerType];
    const kept = typeof tail === 'number' ? lines.slice(Math.max(0, lines.length - tail)) : lines;
    return { status: 200, body: { content: kept.map((l) => `${l}\n`).join('') } };
  }

  function putDeployment(req: WireRequest, ws: Workspace, endpoint: Endpoint, deployments: Map<string, Deployment>, name: string, id: string): WireReply {
    const body = json(req);
    const props = body.properties ?? {};
    if (props.endpointComputeType !== 'Managed') throw new ArmError(400, 'BadArgument', 'This fake serves managed online deployments only.');
    if (!props.instanceType) throw new ArmError(400, 'BadArgument', 'instanceType is required.');
    const model = /\/models\/([^/]+)\/versions\/([^/]+)$/.exec(props.model ?? '');
    const version = model && state.models.get(model[1])?.versions.get(model[2]);
    if (!version) throw new ArmError(400, 'BadArgument', `Model ${props.model} was not found.`);
    if (version.properties.modelType !== 'triton_model' && !props.environmentId) {
      throw new ArmError(400, 'BadArgument', 'Environment is required for models other than mlflow_model and triton_model (no-code deployment).');
    }
    // A managed online deployment runs at least one instance: it cannot be kept at 0 to be scaled up
    // later (Azure/mlops-v2#48: "The online endpoint cannot be stopped. You need to have at least one
    // machine running."; the minimum instance count is 1).
    const capacity = body.sku?.capacity ?? 1;
    if (!Number.isInteger(capacity) || capacity < 1) throw new ArmError(400, 'BadArgument', `sku.capacity (the instance count) must be at least 1 for a managed online deployment, got ${capacity}.`);
    const settingsProblem = deploymentSettingsProblem(props);
    if (settingsProblem) throw new ArmError(400, 'BadArgument', settingsProblem);
    if (deployments.has(name)) throw new ArmError(400, 'BadArgument', `Deployment ${name} exists; this fake does not update deployments.`);
    const deployment: Deployment = { id, name, location: body.location, tags: body.tags ?? {}, sku: body.sku, properties: { ...props, provisioningState: 'Creating' }, logs: { StorageInitializer: [], InferenceServer: [] } };
    deployments.set(name, deployment);
    const failInference = ctx.faults.takeInferenceFailure();
    const startupSeconds = ctx.faults.takeStartup();
    const headers = asyncOperation(ctx, 'deployment', async () => {
      deployment.server = await startDeployment(ctx, ws, deployment, version.properties.modelUri, failInference, startupSeconds);
      deployment.properties.provisioningState = 'Succeeded';
    }, () => { deployment.properties.provisioningState = 'Failed'; });
    return { status: 201, headers, body: deploymentView(deployment) };
  }

  return async (req: WireRequest): Promise<WireReply> => {
    if (req.path.startsWith('/operations/')) {
      const op = state.operations.get(req.path.slice('/operations/'.length));
      if (!op) throw new ArmError(404, 'NotFound', `Operation ${req.path} not found.`);
      return { status: 200, body: { id: op.id, name: op.id, status: op.status, ...(op.error ? { error: op.error } : {}) } };
    }
    if (req.query.get('api-version') !== API_VERSION) throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version '${req.query.get('api-version')}' is not supported by this fake; it speaks ${API_VERSION}.`);
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)(\/.*)?$/i.exec(req.path);
    if (!m) throw new ArmError(404, 'NoRoute', `The fake has no route for ${req.method} ${req.path}.`);
    const ws = workspaceOf(decodeURIComponent(m[1]), decodeURIComponent(m[2]), decodeURIComponent(m[3]));
    const rest = (m[4] ?? '').split('/').filter(Boolean).map(decodeURIComponent);
    return workspaceRoute(req, ws, rest);
  };
}
