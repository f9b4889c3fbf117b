import { randomInt } from 'node:crypto';
import type { CloudLoggingFake } from './_cloud-logging.js';
import type { GcsFake } from './_gcs.js';
import { packAny, V1 } from './_protos.js';
import type { VertexFaults, RpcFault } from './faults.js';
import { startDeployedContainer, type RunningModel } from './_start-deployed-container.js';
import type { ContainerRun } from './_run-model-container.js';
import { RpcError, STATUS } from './_rpc-error.js';

export { RpcError, STATUS };

export interface FakeModel {
  name: string;
  displayName: string;
  description?: string;
  artifactUri: string;
  /** Vertex AI's copy of the artifacts, made at upload: the container's AIP_STORAGE_URI. */
  storageUri: string;
  containerSpec: {
    imageUri?: string; command?: string[]; args?: string[]; env?: Array<{ name?: string; value?: string }>;
    ports?: Array<{ containerPort?: number }>; healthRoute?: string; predictRoute?: string;
  };
  labels: Record<string, string>;
}

export interface FakeDeployedModel {
  id: string;
  model: string;
  displayName: string;
  dedicatedResources: Record<string, unknown>;
  /** The model's container, serving on AIP_HTTP_PORT. */
  container: RunningModel;
  /** Prediction requests the endpoint routed to it. */
  served: number;
}

export interface FakeEndpoint {
  name: string;
  displayName: string;
  description?: string;
  labels: Record<string, string>;
  deployedModels: FakeDeployedModel[];
  trafficSplit: Record<string, number>;
  /** The smooth weighted round robin's running weights over `trafficSplit`; reset when the split changes. */
  routing?: { split: string; current: Map<string, number> };
}

export interface FakeOperation {
  name: string;
  done: boolean;
  metadata: { type_url: string; value: Buffer };
  error?: RpcFault;
  response?: { type_url: string; value: Buffer };
}

export interface VertexState {
  readonly projectNumber: string;
  readonly endpoints: Map<string, FakeEndpoint>;
  readonly models: Map<string, FakeModel>;
  readonly operations: Map<string, FakeOperation>;
  /** Every container started by DeployModel, in order, whether it came up or not. */
  readonly containers: ContainerRun[];
}

export interface ServiceContext {
  state: VertexState;
  faults: VertexFaults;
  gcs: GcsFake;
  /** Where the containers' output goes, as Vertex AI sends it to Cloud Logging. */
  logging: CloudLoggingFake;
  scratchDir: string;
  /** Pause before an operation's work, to let the client see it running. */
  operationDelayMs: number;
  /** Errors inside the fake itself (bugs, not API errors). */
  internalErrors: Error[];
}

const newId = () => String(randomInt(1, 2 ** 47)) + String(randomInt(100000, 999999));

/** `projects/<id or number>/locations/<loc>` → the same with the project number, as Vertex AI names resources. */
function canonicalParent(ctx: ServiceContext, parent: string): string {
  const m = /^projects\/([^/]+)\/locations\/([^/]+)$/.exec(parent);
  if (!m) throw new RpcError(STATUS.INVALID_ARGUMENT, `Invalid parent: ${parent}`);
  return `projects/${ctx.state.projectNumber}/locations/${m[2]}`;
}

function canonicalName(ctx: ServiceContext, name: string): string {
  return name.replace(/^projects\/[^/]+\//, `projects/${ctx.state.projectNumber}/`);
}

/** `display_name="x"`, `labels.k="v"`, joined with AND: the filters the driver sends. */
function matchesFilter(filter: string | undefined, item: { displayName: string; labels: Record<string, string> }): boolean {
  if (!filter) return true;
  return filter.split(/\s+AND\s+/).every((clause) => {
    const m = /^\s*(display_name|labels\.([\w-]+))\s*=\s*"([^"]*)"\s*$/.exec(clause);
    if (!m) throw new RpcError(STATUS.INVALID_ARGUMENT, `Unsupported filter clause: ${clause}`);
    return m[1] === 'display_name' ? item.displayName === m[3] : item.labels[m[2]] === m[3];
  });
}

function genericMetadata(type: string): { type_url: string; value: Buffer } {
  const now = { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 };
  return packAny(`${V1}.${type}`, { genericMetadata: { createTime: now, updateTime: now } });
}

/**
 * Starts a long-running operation: it is returned not done, and `work` runs in the background,
 * unless a fault makes it fail or hang.
 */
function startOperation(ctx: ServiceContext, method: string, resource: string, metadataType: string, work: () => Promise<{ type: string; value: object } | undefined>): FakeOperation {
  const op: FakeOperation = { name: `${resource}/operations/${newId()}`, done: false, metadata: genericMetadata(metadataType) };
  ctx.state.operations.set(op.name, op);
  const fault = ctx.faults.takeOperation(method);
  if (fault.hang) return op;
  setTimeout(() => {
    void (async () => {
      try {
        if (fault.fail) throw new RpcError(fault.fail.code, fault.fail.message);
        const result = await work();
        op.response = result ? packAny(`${V1}.${result.type}`, result.value) : packAny('google.protobuf.Empty', {});
      } catch (e) {
        if (!(e instanceof RpcError)) ctx.internalErrors.push(e as Error);
        op.error = { code: e instanceof RpcError ? e.code : STATUS.INTERNAL, message: (e as Error).message };
      }
      op.done = true;
    })();
  }, ctx.operationDelayMs);
  return op;
}

export function endpointMessage(e: FakeEndpoint) {
  return {
    name: e.name, displayName: e.displayName, description: e.description, labels: e.labels, trafficSplit: e.trafficSplit,
    deployedModels: e.deployedModels.map((d) => ({ id: d.id, model: d.model, displayName: d.displayName, dedicatedResources: d.dedicatedResources })),
  };
}

/** The bucket holding Vertex AI's copies of Models' artifacts (its real name is Vertex AI's business). */
export function managedBucket(ctx: ServiceContext): string {
  return `vertex-ai-managed-${ctx.state.projectNumber}`;
}

function modelMessage(m: FakeModel) {
  return { name: m.name, displayName: m.displayName, description: m.description, artifactUri: m.artifactUri, containerSpec: m.containerSpec, labels: m.labels, versionId: '1' };
}

function getEndpoint(ctx: ServiceContext, name: string): FakeEndpoint {
  const endpoint = ctx.state.endpoints.get(canonicalName(ctx, name));
  if (!endpoint) throw new RpcError(STATUS.NOT_FOUND, `Endpoint \`${name}\` not found.`);
  return endpoint;
}

/**
 * Replaces "0" by the new id and checks the split as Vertex AI does. Endpoint.traffic_split
 * (google/cloud/aiplatform/v1/endpoint.proto; REST reference
 * https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.endpoints#Endpoint):
 * "A map from a DeployedModel's ID to the percentage of this Endpoint's traffic that should be
 * forwarded to that DeployedModel. If a DeployedModel's ID is not listed in this map, then it
 * receives no traffic. The traffic percentage values must add up to 100, or map must be empty if
 * the Endpoint is to not accept any traffic at a moment." `allowEmpty` is for UpdateEndpoint, where
 * an empty map is that state; DeployModel and UndeployModel treat an empty map as "not given".
 */
function resolveSplit(endpoint: FakeEndpoint, split: Record<string, number>, newId?: string, removing?: string, allowEmpty = false): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(split)) out[k === '0' && newId ? newId : k] = Number(v);
  const ids = new Set(endpoint.deployedModels.map((d) => d.id).filter((id) => id !== removing));
  if (newId) ids.add(newId);
  for (const [id, share] of Object.entries(out)) {
    if (!ids.has(id)) throw new RpcError(STATUS.INVALID_ARGUMENT, `Traffic split refers to DeployedModel ${id}, which is not deployed on ${endpoint.name}.`);
    if (!Number.isInteger(share) || share < 0 || share > 100) throw new RpcError(STATUS.INVALID_ARGUMENT, `Traffic split percentage of DeployedModel ${id} must be an integer from 0 to 100, got ${share}.`);
  }
  if (allowEmpty && Object.keys(out).length === 0) return out;
  const sum = Object.values(out).reduce((a, b) => a + b, 0);
  if (sum !== 100) throw new RpcError(STATUS.INVALID_ARGUMENT, `The traffic split percentages must add up to 100, got ${sum}.`);
  return out;
}

/**
 * Resource labels as Vertex AI checks them ("Labels": keys and values of at most 63 characters,
 * lowercase letters, digits, `_` and `-`, keys starting with a letter, at most 64 labels;
 * https://cloud.google.com/vertex-ai/docs/general/resource-labels).
 */
function checkLabels(labels: Record<string, string>): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > 64) throw new RpcError(STATUS.INVALID_ARGUMENT, `A resource can have at most 64 labels, got ${entries.length}.`);
  for (const [k, v] of entries) {
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k)) throw new RpcError(STATUS.INVALID_ARGUMENT, `Invalid label key "${k}": keys start with a lowercase letter and hold at most 63 lowercase letters, digits, _ and -.`);
    if (!/^[a-z0-9_-]{0,63}$/.test(v)) throw new RpcError(STATUS.INVALID_ARGUMENT, `Invalid label value "${v}" of "${k}": values hold at most 63 lowercase letters, digits, _ and -.`);
  }
  return { ...labels };
}

/**
 * The deployed model that serves the next request on `endpoint`: Vertex AI sends each model its
 * trafficSplit percentage of the requests. The fake picks by smooth weighted round robin (nginx's
 * upstream algorithm) so that the shares are exact over every 100 requests and tests can count:
 * at 10 %, requests 1-10 send one to the model with 10.
 */
export function routeRequest(endpoint: FakeEndpoint): FakeDeployedModel {
  const weighted = endpoint.deployedModels.filter((d) => (endpoint.trafficSplit[d.id] ?? 0) > 0);
  if (weighted.length === 0) throw new RpcError(STATUS.FAILED_PRECONDITION, `Endpoint ${endpoint.name} has no traffic split to any deployed model.`);
  const key = JSON.stringify(weighted.map((d) => [d.id, endpoint.trafficSplit[d.id]]));
  if (endpoint.routing?.split !== key) endpoint.routing = { split: key, current: new Map() };
  const { current } = endpoint.routing;
  let best: FakeDeployedModel | undefined;
  for (const d of weighted) {
    current.set(d.id, (current.get(d.id) ?? 0) + endpoint.trafficSplit[d.id]!);
    if (!best || current.get(d.id)! > current.get(best.id)!) best = d;
  }
  current.set(best!.id, current.get(best!.id)! - 100);
  return best!;
}

type Handler = (request: any) => Promise<object> | object;

export function endpointService(ctx: ServiceContext): Record<string, Handler> {
  const { state } = ctx;
  return {
    CreateEndpoint(req: { parent: string; endpoint: Partial<FakeEndpoint> }) {
      const parent = canonicalParent(ctx, req.parent);
      const endpoint: FakeEndpoint = {
        name: `${parent}/endpoints/${newId()}`, displayName: req.endpoint.displayName ?? '', description: req.endpoint.description,
        labels: req.endpoint.labels ?? {}, deployedModels: [], trafficSplit: {},
      };
      return startOperation(ctx, 'CreateEndpoint', endpoint.name, 'CreateEndpointOperationMetadata', async () => {
        state.endpoints.set(endpoint.name, endpoint);
        return { type: 'Endpoint', value: endpointMessage(endpoint) };
      });
    },
    GetEndpoint(req: { name: string }) {
      return endpointMessage(getEndpoint(ctx, req.name));
    },
    ListEndpoints(req: { parent: string; filter?: string }) {
      const parent = canonicalParent(ctx, req.parent);
      const endpoints = [...state.endpoints.values()].filter((e) => e.name.startsWith(`${parent}/`) && matchesFilter(req.filter, e));
      return { endpoints: endpoints.map(endpointMessage) };
    },
    UpdateEndpoint(req: { endpoint: { name: string; trafficSplit?: Record<string, number>; labels?: Record<string, string> }; updateMask?: { paths?: string[] } }) {
      const endpoint = getEndpoint(ctx, req.endpoint.name);
      const paths = req.updateMask?.paths ?? [];
      const unsupported = paths.filter((p) => p !== 'traffic_split' && p !== 'labels');
      if (paths.length === 0 || unsupported.length > 0) throw new RpcError(STATUS.INVALID_ARGUMENT, `This fake updates traffic_split and labels only, got mask [${paths.join(', ')}].`);
      // Checked before anything changes: a refused update changes nothing.
      const split = paths.includes('traffic_split') ? resolveSplit(endpoint, req.endpoint.trafficSplit ?? {}, undefined, undefined, true) : undefined;
      const labels = paths.includes('labels') ? checkLabels(req.endpoint.labels ?? {}) : undefined;
      if (split) endpoint.trafficSplit = split;
      if (labels) endpoint.labels = labels;
      return endpointMessage(endpoint);
    },
    DeleteEndpoint(req: { name: string }) {
      const endpoint = getEndpoint(ctx, req.name);
      if (endpoint.deployedModels.length > 0) {
        throw new RpcError(STATUS.FAILED_PRECONDITION, `Endpoint ${endpoint.name} has deployed models; undeploy them before deleting the endpoint.`);
      }
      return startOperation(ctx, 'DeleteEndpoint', endpoint.name, 'DeleteOperationMetadata', async () => {
        state.endpoints.delete(endpoint.name);
        return undefined;
      });
    },
    DeployModel(req: { endpoint: string; deployedModel: { model: string; displayName?: string; dedicatedResources?: Record<string, any> }; trafficSplit?: Record<string, number> }) {
      const endpoint = getEndpoint(ctx, req.endpoint);
      const model = state.models.get(canonicalName(ctx, req.deployedModel.model));
      if (!model) throw new RpcError(STATUS.NOT_FOUND, `Model ${req.deployedModel.model} not found.`);
      const resources = req.deployedModel.dedicatedResources;
      if (!resources?.machineSpec?.machineType) throw new RpcError(STATUS.INVALID_ARGUMENT, 'Custom models need dedicatedResources with a machineSpec.');
      if (!(Number(resources.minReplicaCount) >= 1)) throw new RpcError(STATUS.INVALID_ARGUMENT, 'dedicatedResources.minReplicaCount must be at least 1.');
      const id = newId();
      const split = req.trafficSplit && Object.keys(req.trafficSplit).length > 0 ? resolveSplit(endpoint, req.trafficSplit, id) : undefined;
      const inferenceFailure = ctx.faults.takeInferenceFailure();
      return startOperation(ctx, 'DeployModel', endpoint.name, 'DeployModelOperationMetadata', async () => {
        const container = await startDeployedContainer(ctx, { endpoint: endpoint.name, deployedModelId: id, model, machineSpec: resources.machineSpec, failInference: inferenceFailure });
        const deployed: FakeDeployedModel = { id, model: model.name, displayName: req.deployedModel.displayName ?? '', dedicatedResources: resources, container, served: 0 };
        endpoint.deployedModels.push(deployed);
        if (split) endpoint.trafficSplit = split;
        const { container: _c, served: _s, ...message } = deployed;
        return { type: 'DeployModelResponse', value: { deployedModel: message } };
      });
    },
    UndeployModel(req: { endpoint: string; deployedModelId: string; trafficSplit?: Record<string, number> }) {
      const endpoint = getEndpoint(ctx, req.endpoint);
      const deployed = endpoint.deployedModels.find((d) => d.id === req.deployedModelId);
      if (!deployed) throw new RpcError(STATUS.NOT_FOUND, `DeployedModel ${req.deployedModelId} is not deployed on ${endpoint.name}.`);
      const last = endpoint.deployedModels.length === 1;
      let split: Record<string, number>;
      if (last) split = {};
      else if (req.trafficSplit && Object.keys(req.trafficSplit).length > 0) split = resolveSplit(endpoint, req.trafficSplit, undefined, deployed.id);
      else {
        if ((endpoint.trafficSplit[deployed.id] ?? 0) > 0) {
          throw new RpcError(STATUS.FAILED_PRECONDITION, `DeployedModel ${deployed.id} has ${endpoint.trafficSplit[deployed.id]}% of the traffic; give its traffic to other models in trafficSplit to undeploy it.`);
        }
        split = Object.fromEntries(Object.entries(endpoint.trafficSplit).filter(([k]) => k !== deployed.id));
      }
      return startOperation(ctx, 'UndeployModel', endpoint.name, 'UndeployModelOperationMetadata', async () => {
        endpoint.deployedModels = endpoint.deployedModels.filter((d) => d !== deployed);
        endpoint.trafficSplit = split;
        await deployed.container.close();
        return { type: 'UndeployModelResponse', value: {} };
      });
    },
  };
}

export function modelService(ctx: ServiceContext): Record<string, Handler> {
  const { state } = ctx;
  const deployedSomewhere = (name: string) => [...state.endpoints.values()].some((e) => e.deployedModels.some((d) => d.model === name));
  return {
    UploadModel(req: { parent: string; model: Partial<FakeModel> }) {
      const parent = canonicalParent(ctx, req.parent);
      const m = req.model;
      if (!m.containerSpec?.imageUri) throw new RpcError(STATUS.INVALID_ARGUMENT, 'Model.containerSpec.imageUri is required for custom models.');
      if (!m.artifactUri?.startsWith('gs://')) throw new RpcError(STATUS.INVALID_ARGUMENT, `Model.artifactUri must be a gs:// URI, got ${m.artifactUri}.`);
      const name = `${parent}/models/${newId()}`;
      const model: FakeModel = {
        name, displayName: m.displayName ?? '', description: m.description, artifactUri: m.artifactUri, containerSpec: m.containerSpec, labels: m.labels ?? {},
        storageUri: `gs://${managedBucket(ctx)}/${name.split('/').pop()}/artifacts`,
      };
      return startOperation(ctx, 'UploadModel', model.name, 'UploadModelOperationMetadata', async () => {
        // Vertex AI copies the artifacts into a bucket it manages when the Model is created.
        ctx.gcs.createBucket(managedBucket(ctx));
        try {
          ctx.gcs.copy(model.artifactUri, model.storageUri);
        } catch (e) {
          throw new RpcError(STATUS.FAILED_PRECONDITION, `Failed to copy the model artifacts from ${model.artifactUri}: ${(e as Error).message}`);
        }
        state.models.set(model.name, model);
        return { type: 'UploadModelResponse', value: { model: model.name, modelVersionId: '1' } };
      });
    },
    GetModel(req: { name: string }) {
      const model = state.models.get(canonicalName(ctx, req.name.replace(/@.*$/, '')));
      if (!model) throw new RpcError(STATUS.NOT_FOUND, `Model ${req.name} not found.`);
      return modelMessage(model);
    },
    ListModels(req: { parent: string; filter?: string }) {
      const parent = canonicalParent(ctx, req.parent);
      return { models: [...state.models.values()].filter((m) => m.name.startsWith(`${parent}/`) && matchesFilter(req.filter, m)).map(modelMessage) };
    },
    DeleteModel(req: { name: string }) {
      const name = canonicalName(ctx, req.name);
      if (!state.models.has(name)) throw new RpcError(STATUS.NOT_FOUND, `Model ${req.name} not found.`);
      if (deployedSomewhere(name)) throw new RpcError(STATUS.FAILED_PRECONDITION, `Model ${name} is deployed on an endpoint; undeploy it first.`);
      return startOperation(ctx, 'DeleteModel', name, 'DeleteOperationMetadata', async () => {
        ctx.gcs.deleteAll(state.models.get(name)!.storageUri);
        state.models.delete(name);
        return undefined;
      });
    },
  };
}

const GRPC_OF_HTTP: Record<number, number> = { 400: STATUS.INVALID_ARGUMENT, 404: STATUS.NOT_FOUND, 429: STATUS.RESOURCE_EXHAUSTED, 503: STATUS.UNAVAILABLE };

/** A google.protobuf.Value as protobufjs decodes it, to plain JSON. */
function fromValue(v: Record<string, any> | undefined): unknown {
  if (!v) return null;
  if ('numberValue' in v) return v.numberValue;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) return Object.fromEntries(Object.entries(v.structValue?.fields ?? {}).map(([k, f]) => [k, fromValue(f as Record<string, any>)]));
  if ('listValue' in v) return (v.listValue?.values ?? []).map((x: Record<string, any>) => fromValue(x));
  return null;
}

/** Plain JSON to a google.protobuf.Value message. */
function toValue(x: unknown): Record<string, unknown> {
  if (x === null || x === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof x === 'number') return { numberValue: x };
  if (typeof x === 'string') return { stringValue: x };
  if (typeof x === 'boolean') return { boolValue: x };
  if (Array.isArray(x)) return { listValue: { values: x.map(toValue) } };
  return { structValue: { fields: Object.fromEntries(Object.entries(x as object).map(([k, f]) => [k, toValue(f)])) } };
}

export function predictionService(ctx: ServiceContext): Record<string, Handler> {
  return {
    /**
     * Routes by the traffic split, like RawPredict, and sends the container Vertex AI's JSON body
     * `{"instances": [...], "parameters": ...}` on the predict route; the answer's `predictions`
     * come back with the id of the deployed model that served (PredictResponse.deployed_model_id).
     */
    async Predict(req: { endpoint: string; instances?: Array<Record<string, any>>; parameters?: Record<string, any> }) {
      const endpoint = getEndpoint(ctx, req.endpoint);
      const chosen = routeRequest(endpoint);
      chosen.served++;
      const failure = ctx.faults.modelFailureOf(chosen.model);
      if (failure !== undefined) throw new RpcError(STATUS.INTERNAL, JSON.stringify({ error: failure }));
      const body = { instances: (req.instances ?? []).map(fromValue), ...(req.parameters ? { parameters: fromValue(req.parameters) } : {}) };
      const res = await fetch(`${chosen.container.url}${chosen.container.predictRoute}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status !== 200) throw new RpcError(GRPC_OF_HTTP[res.status] ?? STATUS.INTERNAL, text);
      const predictions = (JSON.parse(text) as { predictions?: unknown[] }).predictions;
      if (!Array.isArray(predictions)) throw new RpcError(STATUS.INTERNAL, `The model server's answer has no "predictions" list: ${text.slice(0, 200)}`);
      return { predictions: predictions.map(toValue), deployedModelId: chosen.id, model: chosen.model, modelDisplayName: chosen.displayName };
    },
    /** Routes by the traffic split (the only way Vertex AI v1 routes), forwards the body to the predict route. */
    async RawPredict(req: { endpoint: string; httpBody?: { contentType?: string; data?: Buffer } }) {
      const endpoint = getEndpoint(ctx, req.endpoint);
      const chosen = routeRequest(endpoint);
      chosen.served++;
      const failure = ctx.faults.modelFailureOf(chosen.model);
      // The model's server answers 500 from the moment the fault was set, as a crashed model would.
      if (failure !== undefined) throw new RpcError(STATUS.INTERNAL, JSON.stringify({ error: failure }));
      // Vertex AI forwards the body to AIP_PREDICT_ROUTE on AIP_HTTP_PORT.
      const res = await fetch(`${chosen.container.url}${chosen.container.predictRoute}`, {
        method: 'POST', headers: { 'content-type': req.httpBody?.contentType || 'application/json' }, body: req.httpBody?.data ?? Buffer.alloc(0),
      });
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new RpcError(GRPC_OF_HTTP[res.status] ?? STATUS.INTERNAL, body.toString('utf8'));
      return { contentType: res.headers.get('content-type') ?? 'application/json', data: body };
    },
  };
}

export function operationsService(ctx: ServiceContext): Record<string, Handler> {
  return {
    GetOperation(req: { name: string }) {
      const op = ctx.state.operations.get(canonicalName(ctx, req.name));
      if (!op) throw new RpcError(STATUS.NOT_FOUND, `Operation ${req.name} not found.`);
      return op.done
        ? (op.error ? { name: op.name, done: true, metadata: op.metadata, error: op.error } : { name: op.name, done: true, metadata: op.metadata, response: op.response })
        : { name: op.name, done: false, metadata: op.metadata };
    },
  };
}
