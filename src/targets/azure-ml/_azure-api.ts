/** The Azure ML calls the driver makes, one SDK call (and its operation) each, errors translated. */
import type { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { AzureClients } from './_clients.js';
import { azureError, runOperation, type AzureErrorContext } from './_operations.js';
import { AZURE_TAG_KEYS, type AzureDeploymentBody, type AzureEndpointBody, type AzureModelVersionBody, type AzurePreviousDeployment, type ExistingDeployment } from './plan.js';
import type { AzureRuntimeSettings } from './runtime-settings.js';

export interface EndpointState {
  name: string;
  location: string;
  authMode: string;
  scoringUri: string;
  traffic: Record<string, number>;
  identityType?: string;
  provisioningState?: string;
  tags: Record<string, string>;
}

/**
 * The Azure ML calls the driver makes, each one SDK call (and its operation) with the error
 * translated; no decisions here.
 */
export class AzureApi {
  constructor(
    private readonly clients: AzureClients,
    private readonly io: IoHelper,
    private readonly ctx: AzureErrorContext,
    private readonly timeoutMs: number,
  ) {}

  private get rg() { return this.ctx.resourceGroup; }
  private get ws() { return this.ctx.workspace; }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw azureError(e, what, this.ctx);
    }
  }

  private operation<T>(what: string, begin: (updateIntervalInMs: number) => Promise<any>): Promise<T> {
    return runOperation<T>({ what, begin, io: this.io, timeoutMs: this.timeoutMs, pollMs: this.clients.pollIntervalMs, errorContext: this.ctx });
  }

  /** The workspace's region, where endpoints and deployments are created. */
  async workspaceLocation(): Promise<string> {
    const ws = await this.call(`Reading workspace ${this.ws} in resource group ${this.rg}`, () => this.clients.ml.workspaces.get(this.rg, this.ws));
    return ws.location ?? '';
  }

  async findEndpoint(name: string): Promise<EndpointState | undefined> {
    try {
      const e = await this.clients.ml.onlineEndpoints.get(this.rg, this.ws, name);
      return {
        name, location: e.location, authMode: e.properties.authMode, scoringUri: e.properties.scoringUri ?? '',
        traffic: { ...(e.properties.traffic ?? {}) }, identityType: e.identity?.type, provisioningState: e.properties.provisioningState, tags: { ...(e.tags ?? {}) },
      };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw azureError(e, `Reading online endpoint ${name}`, this.ctx);
    }
  }

  async putEndpoint(name: string, body: AzureEndpointBody, what: string): Promise<EndpointState> {
    await this.operation(what, (ms) => this.clients.ml.onlineEndpoints.beginCreateOrUpdate(this.rg, this.ws, name, body, { updateIntervalInMs: ms }));
    return (await this.findEndpoint(name))!;
  }

  async deleteEndpoint(name: string): Promise<void> {
    await this.operation(`deleting online endpoint ${name}`, (ms) => this.clients.ml.onlineEndpoints.beginDelete(this.rg, this.ws, name, { updateIntervalInMs: ms }));
  }

  /** The scoring credential: an endpoint key (never printed) or an Azure ML token. */
  async scoringCredential(endpoint: string, authMode: string): Promise<string> {
    if (authMode === 'AMLToken') {
      const token = await this.call(`Getting a scoring token for ${endpoint}`, () => this.clients.ml.onlineEndpoints.getToken(this.rg, this.ws, endpoint));
      return token.accessToken ?? '';
    }
    const keys = await this.call(`Reading the keys of ${endpoint}`, () => this.clients.ml.onlineEndpoints.listKeys(this.rg, this.ws, endpoint));
    return keys.primaryKey ?? '';
  }

  async listDeployments(endpoint: string): Promise<ExistingDeployment[]> {
    return this.call(`Listing the deployments of ${endpoint}`, async () => {
      const out: ExistingDeployment[] = [];
      for await (const d of this.clients.ml.onlineDeployments.list(this.rg, this.ws, endpoint)) {
        out.push({ name: d.name ?? '', spec: d.tags?.[AZURE_TAG_KEYS.spec], provisioningState: d.properties.provisioningState });
      }
      return out;
    });
  }

  /**
   * The last `tail` lines of a deployment's container log (`InferenceServer`: Triton's output;
   * `StorageInitializer`: the model download), as Azure ML keeps them: one text, lines apart.
   */
  async deploymentLogs(endpoint: string, deployment: string, containerType: 'InferenceServer' | 'StorageInitializer', tail: number): Promise<string> {
    const logs = await this.call(`Reading the ${containerType} log of deployment ${deployment} of ${endpoint}`, () =>
      this.clients.ml.onlineDeployments.getLogs(this.rg, this.ws, endpoint, deployment, { containerType, tail }));
    return logs.content ?? '';
  }

  /** What it takes to create a deployment again, as Azure holds it; undefined when it does not exist. */
  async readDeployment(endpoint: string, name: string): Promise<AzurePreviousDeployment | undefined> {
    try {
      const d = await this.clients.ml.onlineDeployments.get(this.rg, this.ws, endpoint, name);
      const p = d.properties as typeof d.properties & Partial<AzureRuntimeSettings> & { instanceType?: string };
      const modelVersion = /\/versions\/([^/]+)$/.exec(p.model ?? '')?.[1];
      if (!modelVersion || !p.instanceType || !p.livenessProbe || !p.readinessProbe || !p.requestSettings) return undefined;
      return {
        name, spec: d.tags?.[AZURE_TAG_KEYS.spec] ?? '', modelVersion, instanceType: p.instanceType, instanceCount: d.sku?.capacity ?? 1,
        runtime: { livenessProbe: p.livenessProbe, readinessProbe: p.readinessProbe, requestSettings: p.requestSettings },
      };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw azureError(e, `Reading deployment ${name} of ${endpoint}`, this.ctx);
    }
  }

  async putDeployment(endpoint: string, name: string, body: AzureDeploymentBody): Promise<void> {
    await this.operation(`creating deployment ${name} on ${endpoint}`, (ms) =>
      this.clients.ml.onlineDeployments.beginCreateOrUpdate(this.rg, this.ws, endpoint, name, body, { updateIntervalInMs: ms }));
  }

  /** Deletes a deployment; one that does not exist (any more) is not an error. */
  async deleteDeployment(endpoint: string, name: string): Promise<void> {
    await this.operation(`deleting deployment ${name} of ${endpoint}`, (ms) =>
      this.clients.ml.onlineDeployments.beginDelete(this.rg, this.ws, endpoint, name, { updateIntervalInMs: ms }))
      .catch((e: DeployModelError) => { if (e.details?.statusCode !== 404) throw e; });
  }

  /** Registers (or finds) the model version of a repository; returns its ARM id. */
  async ensureModelVersion(model: string, repositoryTag: string, body: (version: string) => AzureModelVersionBody, nextVersion: (existing: string[]) => string): Promise<{ id: string; version: string; created: boolean }> {
    const versions = await this.listModelVersions(model);
    const same = versions.find((v) => v.tags[AZURE_TAG_KEYS.repository] === repositoryTag);
    if (same) return { id: same.id, version: same.version, created: false };
    const version = nextVersion(versions.map((v) => v.version));
    await this.call(`Registering model ${model}`, () => this.clients.ml.modelContainers.createOrUpdate(this.rg, this.ws, model, { properties: { description: 'Triton model repositories uploaded by deploy-model.' } }));
    const created = await this.call(`Registering model ${model} version ${version}`, () => this.clients.ml.modelVersions.createOrUpdate(this.rg, this.ws, model, version, body(version)));
    return { id: created.id ?? '', version, created: true };
  }

  async listModelVersions(model: string): Promise<Array<{ id: string; version: string; tags: Record<string, string> }>> {
    try {
      const out = [];
      for await (const v of this.clients.ml.modelVersions.list(this.rg, this.ws, model)) {
        out.push({ id: v.id ?? '', version: v.name ?? '', tags: (v.properties.tags ?? {}) as Record<string, string> });
      }
      return out;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return [];
      throw azureError(e, `Listing the versions of model ${model}`, this.ctx);
    }
  }

  async deleteModel(model: string): Promise<number> {
    const versions = await this.listModelVersions(model);
    for (const v of versions) await this.call(`Deleting model ${model} version ${v.version}`, () => this.clients.ml.modelVersions.delete(this.rg, this.ws, model, v.version));
    if (versions.length > 0) await this.call(`Deleting model ${model}`, () => this.clients.ml.modelContainers.delete(this.rg, this.ws, model));
    return versions.length;
  }
}
