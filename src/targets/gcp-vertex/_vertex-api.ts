/** The Vertex AI calls the driver makes, one SDK call (and its operation) each, errors translated. */
import type { IoHelper } from '../../io/io-host.js';
import type { VertexClients } from './_clients.js';
import { isRetryable, vertexError, waitForOperation, type PolledOperation } from './_operations.js';
import type { LiveDeployedModel, VertexDedicatedResources, VertexDeployedModelSpec, VertexEndpointSpec, VertexModelSpec } from './plan.js';

export interface VertexEndpointState {
  name: string;
  displayName: string;
  deployed: LiveDeployedModel[];
  trafficSplit: Record<string, number>;
  labels: Record<string, string>;
}

/**
 * The Vertex AI calls the driver makes, each one SDK call (and its operation) with the error
 * translated; no decisions here.
 */
export class VertexApi {
  constructor(
    private readonly clients: VertexClients,
    private readonly io: IoHelper,
    private readonly project: string,
    private readonly timeoutMs: number,
  ) {}

  /**
   * One call, retried with backoff when Vertex AI limits its rate, or is unavailable and the call
   * is `idempotent` (it reads, or sets what it sets twice alike).
   */
  private async call<T>(what: string, fn: () => Promise<T>, idempotent = false): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= ATTEMPTS || !isRetryable(e, idempotent)) throw vertexError(e, what, this.project);
        const delay = backoff(this.clients.retryDelayMs, attempt);
        this.io.info('DM_VERTEX_RETRY', `${what}: ${(e as Error).message.replace(/^\d+ [A-Z_]+: /, '')}; retrying in ${Math.round(delay)} ms (attempt ${attempt + 1} of ${ATTEMPTS})`, { call: what, attempt, code: (e as { code?: number }).code });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private wait<T>(what: string, name: string, check: (name: string) => Promise<PolledOperation<T>>): Promise<T> {
    return waitForOperation({ what, name, check, io: this.io, timeoutMs: this.timeoutMs, pollMs: this.clients.pollIntervalMs, project: this.project });
  }

  async findEndpoint(parent: string, displayName: string): Promise<VertexEndpointState | undefined> {
    const [endpoints] = await this.call(`Listing endpoints in ${parent}`, () =>
      this.clients.endpoints.listEndpoints({ parent, filter: `display_name="${displayName}"` }, { autoPaginate: true }), true);
    const found = endpoints.find((e) => e.displayName === displayName);
    return found ? toState(found) : undefined;
  }

  async getEndpoint(name: string): Promise<VertexEndpointState> {
    const [endpoint] = await this.call(`Reading endpoint ${name}`, () => this.clients.endpoints.getEndpoint({ name }), true);
    return toState(endpoint);
  }

  async createEndpoint(parent: string, spec: VertexEndpointSpec): Promise<VertexEndpointState> {
    const what = `creating endpoint '${spec.displayName}'`;
    const [op] = await this.call(`Creating endpoint '${spec.displayName}'`, () => this.clients.endpoints.createEndpoint({ parent, endpoint: spec }));
    const endpoint = await this.wait(what, op.name!, (n) => this.clients.endpoints.checkCreateEndpointProgress(n));
    return toState(endpoint);
  }

  async deleteEndpoint(name: string): Promise<void> {
    const [op] = await this.call(`Deleting endpoint ${name}`, () => this.clients.endpoints.deleteEndpoint({ name }));
    await this.wait(`deleting endpoint ${name}`, op.name!, (n) => this.clients.endpoints.checkDeleteEndpointProgress(n));
  }

  /** Uploads the Model and returns its resource name. */
  async uploadModel(parent: string, spec: VertexModelSpec): Promise<string> {
    const [op] = await this.call(`Uploading model '${spec.displayName}'`, () => this.clients.models.uploadModel({ parent, model: spec }));
    const result = await this.wait(`uploading model '${spec.displayName}'`, op.name!, (n) => this.clients.models.checkUploadModelProgress(n));
    return (result as { model?: string | null } | null)?.model ?? '';
  }

  /** Models carrying all these labels. */
  async listModels(parent: string, labels: Record<string, string>): Promise<Array<{ name: string; displayName: string }>> {
    const filter = Object.entries(labels).map(([k, v]) => `labels.${k}="${v}"`).join(' AND ');
    const [models] = await this.call(`Listing models in ${parent}`, () => this.clients.models.listModels({ parent, filter }, { autoPaginate: true }), true);
    return models.map((m) => ({ name: m.name ?? '', displayName: m.displayName ?? '' }));
  }

  /** The Model's labels, or undefined when the Model Registry has no such Model. */
  async findModel(name: string): Promise<{ name: string; displayName: string; labels: Record<string, string> } | undefined> {
    try {
      const [model] = await this.call(`Reading model ${name}`, () => this.clients.models.getModel({ name }), true);
      return { name: model.name ?? name, displayName: model.displayName ?? '', labels: { ...(model.labels ?? {}) } };
    } catch (e) {
      // gRPC NOT_FOUND: deleted since it was recorded.
      if ((e as { details?: { grpcCode?: number } }).details?.grpcCode === 5) return undefined;
      throw e;
    }
  }

  async deleteModel(name: string): Promise<void> {
    const [op] = await this.call(`Deleting model ${name}`, () => this.clients.models.deleteModel({ name }));
    await this.wait(`deleting model ${name}`, op.name!, (n) => this.clients.models.checkDeleteModelProgress(n));
  }

  /** Deploys a model on an endpoint's replicas and returns the deployed model's id. */
  async deployModel(endpoint: string, deployedModel: VertexDeployedModelSpec, trafficSplit: Record<string, number>): Promise<string> {
    const what = `deploying model '${deployedModel.displayName}' on ${endpoint}`;
    const [op] = await this.call(`DeployModel of '${deployedModel.displayName}' on ${endpoint}`, () =>
      this.clients.endpoints.deployModel({ endpoint, deployedModel: deployedModel as never, trafficSplit }));
    this.io.info('DM_VERTEX_DEPLOYING', `Deploying '${deployedModel.displayName}' on ${endpoint} (${deployedModel.dedicatedResources.minReplicaCount} x ${deployedModel.dedicatedResources.machineSpec.machineType}); this takes minutes`, { endpoint, operation: op.name });
    const result = await this.wait(what, op.name!, (n) => this.clients.endpoints.checkDeployModelProgress(n));
    return (result as { deployedModel?: { id?: string | null } | null } | null)?.deployedModel?.id ?? '';
  }

  async undeployModel(endpoint: string, deployedModelId: string, trafficSplit: Record<string, number>): Promise<void> {
    const [op] = await this.call(`UndeployModel of ${deployedModelId} from ${endpoint}`, () =>
      this.clients.endpoints.undeployModel({ endpoint, deployedModelId, trafficSplit }));
    await this.wait(`undeploying ${deployedModelId} from ${endpoint}`, op.name!, (n) => this.clients.endpoints.checkUndeployModelProgress(n));
  }

  /** Replaces the endpoint's labels (UpdateEndpoint with the `labels` mask). */
  async setLabels(endpoint: string, labels: Record<string, string>): Promise<void> {
    await this.call(`Labelling endpoint ${endpoint}`, () =>
      this.clients.endpoints.updateEndpoint({ endpoint: { name: endpoint, labels }, updateMask: { paths: ['labels'] } }), true);
  }

  async setTraffic(endpoint: string, trafficSplit: Record<string, number>): Promise<void> {
    // Setting the same split twice leaves the same split.
    await this.call(`Moving traffic on ${endpoint}`, () =>
      this.clients.endpoints.updateEndpoint({ endpoint: { name: endpoint, trafficSplit }, updateMask: { paths: ['traffic_split'] } }), true);
  }
}

/** Tries of one call, the first included. */
const ATTEMPTS = 5;

/** The wait before retry `attempt` (1-based): `base` doubled each time, at most 32 s, with equal jitter. */
function backoff(base: number, attempt: number): number {
  const delay = Math.min(base * 2 ** (attempt - 1), 32_000);
  return delay / 2 + Math.random() * (delay / 2);
}

type ResourcesMessage = { machineSpec?: { machineType?: string | null; acceleratorType?: string | number | null; acceleratorCount?: number | null } | null; minReplicaCount?: number | null; maxReplicaCount?: number | null };

function resourcesOf(r: ResourcesMessage | null | undefined): VertexDedicatedResources | undefined {
  if (!r?.machineSpec?.machineType) return undefined;
  return {
    machineSpec: { machineType: r.machineSpec.machineType, acceleratorType: String(r.machineSpec.acceleratorType ?? ''), acceleratorCount: Number(r.machineSpec.acceleratorCount ?? 0) },
    minReplicaCount: Number(r.minReplicaCount ?? 1), maxReplicaCount: Number(r.maxReplicaCount ?? r.minReplicaCount ?? 1),
  };
}

function toState(e: {
  name?: string | null; displayName?: string | null; labels?: Record<string, string> | null; trafficSplit?: Record<string, number> | null;
  deployedModels?: Array<{ id?: string | null; displayName?: string | null; model?: string | null; dedicatedResources?: ResourcesMessage | null }> | null;
}): VertexEndpointState {
  return {
    name: e.name ?? '',
    displayName: e.displayName ?? '',
    deployed: (e.deployedModels ?? []).map((d) => {
      const resources = resourcesOf(d.dedicatedResources);
      return { id: d.id ?? '', displayName: d.displayName ?? '', model: d.model ?? '', ...(resources ? { dedicatedResources: resources } : {}) };
    }),
    trafficSplit: { ...(e.trafficSplit ?? {}) },
    labels: { ...(e.labels ?? {}) },
  };
}
