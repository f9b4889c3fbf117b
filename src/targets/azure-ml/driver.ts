/** The azure-ml driver: blue/green rollout hooks on a managed online endpoint, and status, connect and destroy. */
import { DeployModelError } from '../../errors.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import { repositorySources } from '../../kits/triton/repository-sources.js';
import { parseModelUrl } from '../../model/remote/model-url.js';
import type { IoHelper } from '../../io/io-host.js';
import type { InferenceClient } from '../../smoke/run-smoke.js';
import type { BuildResult, Candidate, RestoreResult, TargetDriver } from '../driver.js';
import { AzureApi, type EndpointState } from './_azure-api.js';
import { createAzureClients, type AzureClients, type AzureConnectionOptions } from './_clients.js';
import type { AzureErrorContext } from './_operations.js';
import { scoringClient } from './_scoring-client.js';
import { defaultDatastore, deleteUploads, uploadRepository, type BlobModelSource } from './_upload.js';
import { buildAzureArtifacts, repositoryOf, type AzureContext } from './build.js';
import { diffAzure } from './diff.js';
import {
  azureInferUrl, azureModelUri, azureModelVersionId, azureNames, azureVersion, DEPLOYMENT_NAMES, endpointBody, nextModelVersion, planAzureRollout, planDeployment, planModelVersion,
  previousFromTags, shiftedTraffic, type AzureMlPlan, type AzureNames,
} from './plan.js';
import type { AzureMlTargetConfig } from './schema.js';
import { synthAzure } from './synth.js';

/** What promote and rollback need of a staged deployment. */
interface AzureCandidateState {
  api: AzureApi;
  /** The new deployment, created without traffic. */
  next: string;
  /** The deployment that had the traffic, when one had. */
  live?: string;
  /** Deployments that had traffic: deleted once the new one has it. */
  previous: string[];
  /** Where the endpoint is, and its identity type, which a PUT of the endpoint keeps. */
  location: string;
  identityType?: string;
  /** The endpoint's traffic and tags when the version was staged. */
  before: Record<string, number>;
  tags: Record<string, string>;
  /** The share the last traffic step gave the new deployment. @default - none */
  shiftedPercent?: number;
}

/** Where the target lives. From the plan; `status`, `connect` and `destroy` also run on a config that no longer plans, and then get the base plan only. */
interface AzureLocation { names: AzureNames; errors: AzureErrorContext; operationTimeoutMs: number }

function locate(ctx: AzureContext): AzureLocation {
  const plan = ctx.plan as Partial<AzureMlPlan>;
  if (plan.names) {
    return {
      names: plan.names, operationTimeoutMs: plan.operationTimeoutMs!,
      errors: { subscriptionId: plan.subscriptionId!, resourceGroup: plan.resourceGroup!, workspace: plan.workspace!, instanceType: plan.instanceType! },
    };
  }
  const { target } = ctx;
  return {
    names: azureNames({ name: ctx.config.name, stage: ctx.plan.stage, targetName: ctx.targetName, target }),
    operationTimeoutMs: target.operationTimeoutMinutes * 60_000,
    errors: { subscriptionId: target.subscriptionId, resourceGroup: target.resourceGroup, workspace: target.workspace, instanceType: target.instanceType },
  };
}

/**
 * model.path when it is an Azure Blob URL: the repository's model files are copied from it inside
 * Blob Storage. Its container is reached as the download reached it (DEPLOY_MODEL_AZURE_BLOB_ENDPOINT
 * in place of https://<account>.blob.<suffix>).
 */
function blobModelSource(ctx: AzureContext, repo: BuiltRepository): BlobModelSource | undefined {
  const url = ctx.loaded.modelUrl ? parseModelUrl(ctx.loaded.modelUrl) : undefined;
  if (url?.kind !== 'azure-blob') return undefined;
  const service = (process.env.DEPLOY_MODEL_AZURE_BLOB_ENDPOINT ?? `https://${url.host}`).replace(/\/+$/, '');
  return { url: url.url, containerUrl: `${service}/${url.container}`, files: repositorySources(repo, ctx.plan.tritonConfig.name, url.key, ctx.signature.externalData) };
}

function azureApi(io: IoHelper, clients: AzureClients, at: AzureLocation): AzureApi {
  return new AzureApi(clients, io, at.errors, at.operationTimeoutMs);
}

/** A client for an endpoint; the credential (key or token) is fetched once, on the first request, and kept in the closure only. */
function endpointClient(at: AzureLocation, api: AzureApi, clients: AzureClients, endpoint: EndpointState, deployment?: string): InferenceClient {
  let credential: Promise<string> | undefined;
  return scoringClient({
    url: azureInferUrl(endpoint.scoringUri, at.names.tritonModel),
    credential: () => (credential ??= api.scoringCredential(endpoint.name, endpoint.authMode)),
    ...(deployment ? { deployment } : {}),
    ...(clients.ca ? { ca: clients.ca } : {}),
  });
}

function notDeployed(ctx: AzureContext, at: AzureLocation): DeployModelError {
  return new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no deployment taking traffic on online endpoint ${at.names.endpoint} (workspace ${at.errors.workspace}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
    { details: { target: ctx.targetName } });
}

/** Runs a clean-up step after a failure; its own failure is reported, never thrown over the first. */
async function bestEffort(io: IoHelper, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    io.warn('DM_AZURE_CLEANUP_FAILED', `Clean-up after the failure did not complete: ${(e as Error).message}`);
  }
}

/**
 * The `azure-ml` driver, blue/green: the new deployment is created beside the live one without
 * traffic and smoke-tested through `azureml-model-deployment` (which routes to it whatever the
 * traffic split); only then does the traffic move. `options` choose the credentials and
 * endpoints (see AzureConnectionOptions); the registered driver uses the defaults and
 * environment variables.
 */
export function createAzureMlDriver(options: AzureConnectionOptions = {}): TargetDriver<AzureMlTargetConfig, AzureMlPlan> {
  return {
    build: buildAzureArtifacts,

    /** Writes the resource bodies a deploy would send (`azure-resources.json`), without calling Azure. */
    synth: synthAzure,

    /** What the endpoint's deployments' Triton containers printed, through `getLogs`. */
    async *logs(ctx: AzureContext, logsOptions) {
      const at = locate(ctx);
      const clients = await createAzureClients(at.errors.subscriptionId, options);
      yield* (await import('./logs.js')).azureLogs(ctx, { api: azureApi(ctx.io, clients, at), endpoint: at.names.endpoint, notDeployed: () => notDeployed(ctx, at) }, logsOptions);
    },

    async diff(ctx: AzureContext, build: BuildResult) {
      const at = locate(ctx);
      const clients = await createAzureClients(ctx.plan.subscriptionId, options);
      return diffAzure(ctx, azureApi(ctx.io, clients, at), repositoryOf(build));
    },

    rollout: {
      async stage(ctx: AzureContext, build: BuildResult): Promise<Candidate<AzureCandidateState | undefined>> {
        const { plan, io } = ctx;
        const { names } = plan;
        const repo = repositoryOf(build);
        const { specHash, blobPath, repositoryTag } = azureVersion(plan, repo.digest);
        const at = locate(ctx);
        const clients = await createAzureClients(plan.subscriptionId, options);
        const api = azureApi(io, clients, at);

        const location = await api.workspaceLocation();
        let endpoint = await api.findEndpoint(names.endpoint);
        if (endpoint && endpoint.authMode !== plan.endpoint.properties.authMode) {
          throw new DeployModelError('AZURE_AUTH_MODE_CHANGED',
            `Online endpoint ${names.endpoint} uses auth mode ${endpoint.authMode}, but the config asks for '${plan.authMode}'; Azure fixes the auth mode when the endpoint is created. Set authMode back, or run \`deploy-model destroy --target ${ctx.targetName}\` and deploy again.`,
            { details: { endpoint: names.endpoint, current: endpoint.authMode, wanted: plan.authMode } });
        }
        const deployments = endpoint ? await api.listDeployments(names.endpoint) : [];
        const rollout = planAzureRollout({ deployments, traffic: endpoint?.traffic ?? {}, specHash });

        if (rollout.kind === 'unchanged') {
          // A deployment with all the traffic: the endpoint exists.
          io.info('DM_AZURE_UNCHANGED', `${names.endpoint}: deployment ${rollout.live} already is version ${specHash}; smoke-testing it`);
          return {
            endpoint: endpoint!.scoringUri, version: specHash, previous: specHash, unchanged: true, client: endpointClient(at, api, clients, endpoint!, rollout.live), state: undefined,
            details: { endpointName: names.endpoint, deployment: rollout.live },
          };
        }

        const datastore = await defaultDatastore(clients, at.errors);
        await uploadRepository(clients, datastore, repo, blobPath, io, at.errors, blobModelSource(ctx, repo));
        const modelUri = azureModelUri({ subscriptionId: plan.subscriptionId, resourceGroup: plan.resourceGroup, workspace: plan.workspace, datastore: datastore.name, path: blobPath });
        const model = await api.ensureModelVersion(names.model, repositoryTag, () => planModelVersion(names, modelUri, repo.digest), nextModelVersion);
        io.info('DM_AZURE_MODEL', model.created ? `Registered model ${names.model} version ${model.version} (triton_model)` : `Model ${names.model} version ${model.version} already holds this repository`, { model: names.model, version: model.version });

        if (!endpoint) {
          io.info('DM_AZURE_ENDPOINT_CREATE', `Creating online endpoint ${names.endpoint} in ${location}`);
          endpoint = await api.putEndpoint(names.endpoint, endpointBody(plan.endpoint, { location, traffic: {} }), `creating online endpoint ${names.endpoint}`);
        }
        for (const stale of rollout.remove) {
          io.info('DM_AZURE_DEPLOYMENT_DELETE', `Deleting deployment ${stale} (no traffic, left by an earlier deploy)`);
          await api.deleteDeployment(names.endpoint, stale);
        }

        io.info('DM_AZURE_DEPLOYING', `Creating deployment ${rollout.next} on ${names.endpoint} (${plan.instanceCount} x ${plan.instanceType}) without traffic; this takes minutes`, { deployment: rollout.next });
        const body = planDeployment({ names, location, modelId: model.id, target: { instanceType: plan.instanceType, instanceCount: plan.instanceCount }, runtime: plan.runtime, specHash });
        try {
          await api.putDeployment(names.endpoint, rollout.next, body);
        } catch (e) {
          await bestEffort(io, () => api.deleteDeployment(names.endpoint, rollout.next));
          throw e;
        }

        const live = rollout.live;
        const liveSpec = deployments.find((d) => d.name === live)?.spec;
        return {
          endpoint: endpoint.scoringUri, version: specHash, client: endpointClient(at, api, clients, endpoint, rollout.next),
          // The scoring URI without the deployment header: during a traffic step, the endpoint's traffic map shares the requests.
          liveClient: endpointClient(at, api, clients, endpoint),
          ...(live ? { previous: liveSpec ?? live } : {}),
          state: {
            api, next: rollout.next, previous: rollout.previous, location: endpoint.location || location, ...(live ? { live } : {}), ...(endpoint.identityType ? { identityType: endpoint.identityType } : {}),
            before: { ...endpoint.traffic }, tags: { ...endpoint.tags },
          },
          details: { endpointName: names.endpoint, deployment: rollout.next, model: `${names.model}:${model.version}`, ...(live ? { live } : {}), replaces: rollout.previous },
        };
      },

      async promote(ctx: AzureContext, candidate: Candidate<AzureCandidateState>) {
        const { plan, io } = ctx;
        const { api, next, previous, location, identityType, live } = candidate.state;
        const endpoint = plan.names.endpoint;
        // Read before it is deleted: what `deploy-model rollback` creates again.
        const recorded = live ? await api.readDeployment(endpoint, live) : undefined;
        io.info('DM_AZURE_TRAFFIC', `Moving 100% of the traffic of ${endpoint} to ${next}${recorded ? `; recording ${live} (version ${recorded.spec}) in its tags for rollback` : ''}`, { deployment: next });
        await api.putEndpoint(endpoint, endpointBody(plan.endpoint, { location, traffic: { [next]: 100 }, ...(identityType ? { identityType } : {}), ...(recorded ? { previous: recorded } : {}) }), `moving traffic of ${endpoint} to ${next}`);
        for (const old of previous) {
          io.info('DM_AZURE_DEPLOYMENT_DELETE', `Deleting the previous deployment ${old}`);
          await api.deleteDeployment(endpoint, old);
        }
      },

      /** A traffic step: the endpoint's traffic map gives the new deployment `percent`, the serving ones the rest. */
      async shift(ctx: AzureContext, candidate: Candidate<AzureCandidateState>, percent: number) {
        const state = candidate.state;
        const traffic = shiftedTraffic(state.before, state.next, percent);
        ctx.io.info('DM_AZURE_SHIFT', `Giving deployment ${state.next} ${percent}% of the traffic of ${ctx.plan.names.endpoint}, ${state.live ?? 'the previous one'} the rest`, { deployment: state.next, percent, traffic });
        try {
          await putTraffic(ctx, state, traffic);
          state.shiftedPercent = percent;
        } catch (e) {
          // The rollout core rolls back failed steps, not failed calls: take the new deployment back here.
          await bestEffort(ctx.io, () => takeBack(ctx, candidate));
          throw e;
        }
      },

      async rollback(ctx: AzureContext, candidate: Candidate<AzureCandidateState>) {
        if (candidate.state.shiftedPercent !== undefined) {
          await takeBack(ctx, candidate);
          return 'removed';
        }
        const { api, next, live } = candidate.state;
        ctx.io.warn('DM_AZURE_ROLLBACK', `Version ${candidate.version} did not pass its smoke test: deleting deployment ${next}; ${live ? `${live} keeps the traffic` : 'the endpoint has no traffic'}`);
        await api.deleteDeployment(ctx.plan.names.endpoint, next);
        return 'removed';
      },
    },

    /**
     * `deploy-model rollback`: creates the deployment a promote recorded in the endpoint's tags
     * again (its model version, instances, probes and request settings), gives it all the traffic,
     * clears the record, then deletes what served.
     */
    async restorePrevious(ctx: AzureContext): Promise<RestoreResult> {
      const at = locate(ctx);
      const { names, errors } = at;
      const { io } = ctx;
      const api = azureApi(io, await createAzureClients(errors.subscriptionId, options), at);
      const endpoint = await api.findEndpoint(names.endpoint);
      const serving = endpoint ? Object.entries(endpoint.traffic).filter(([, share]) => share > 0).map(([name]) => name) : [];
      if (!endpoint || serving.length === 0) throw notDeployed(ctx, at);
      const deployments = await api.listDeployments(endpoint.name);
      const current = deployments.find((d) => d.name === serving[0])?.spec ?? serving[0]!;
      const previous = previousFromTags(endpoint.tags);
      const versions = previous ? await api.listModelVersions(names.model) : [];
      if (!previous || !versions.some((v) => v.version === previous.modelVersion)) {
        throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier version to roll back to: online endpoint ${names.endpoint} serves version ${current} and ${previous ? `version ${previous.modelVersion} of model ${names.model}, which its tags record, is no longer registered` : 'its tags record no previous deployment (a first deploy, or a rollback already made)'}. Deploy the earlier model or config to serve it again.`,
          { details: { target: ctx.targetName, endpoint: names.endpoint, version: current } });
      }
      const taken = new Set(deployments.map((d) => d.name));
      const name = [previous.name, ...DEPLOYMENT_NAMES, ...DEPLOYMENT_NAMES.map((n) => `${n}-2`)].find((n) => !taken.has(n))!;
      io.info('DM_AZURE_RESTORE', `Creating deployment ${name} of version ${previous.spec} (model ${names.model}:${previous.modelVersion}, ${previous.instanceCount} x ${previous.instanceType}) on ${names.endpoint} again, to take the traffic from version ${current}`, { endpoint: names.endpoint, from: current, to: previous.spec, deployment: name });
      const body = planDeployment({
        names, location: endpoint.location, modelId: azureModelVersionId({ ...errors, names }, previous.modelVersion),
        target: { instanceType: previous.instanceType, instanceCount: previous.instanceCount }, runtime: previous.runtime, specHash: previous.spec,
      });
      try {
        await api.putDeployment(names.endpoint, name, body);
      } catch (e) {
        await bestEffort(io, () => api.deleteDeployment(names.endpoint, name));
        throw e;
      }
      io.info('DM_AZURE_TRAFFIC', `Moving 100% of the traffic of ${names.endpoint} to ${name}`, { deployment: name });
      // The record goes with the same PUT: a second rollback does not go forward again.
      await api.putEndpoint(names.endpoint, endpointBody(ctx.plan.endpoint, { location: endpoint.location, traffic: { [name]: 100 }, ...(endpoint.identityType ? { identityType: endpoint.identityType } : {}) }), `moving traffic of ${names.endpoint} to ${name}`);
      for (const old of deployments.filter((d) => d.name !== name)) {
        io.info('DM_AZURE_DEPLOYMENT_DELETE', `Deleting deployment ${old.name} (version ${old.spec ?? 'unknown'})`);
        await api.deleteDeployment(names.endpoint, old.name);
      }
      return { from: current, to: previous.spec, endpoint: endpoint.scoringUri, details: { deployment: name, model: `${names.model}:${previous.modelVersion}` } };
    },

    async connect(ctx: AzureContext) {
      const at = locate(ctx);
      const clients = await createAzureClients(at.errors.subscriptionId, options);
      const api = azureApi(ctx.io, clients, at);
      const endpoint = await api.findEndpoint(at.names.endpoint);
      const live = endpoint && Object.entries(endpoint.traffic).find(([, share]) => share > 0)?.[0];
      if (!endpoint || !live) throw notDeployed(ctx, at);
      const deployment = (await api.listDeployments(endpoint.name)).find((d) => d.name === live);
      return { endpoint: endpoint.scoringUri, version: deployment?.spec, client: endpointClient(at, api, clients, endpoint), details: { deployment: live } };
    },

    async status(ctx: AzureContext) {
      const at = locate(ctx);
      const api = azureApi(ctx.io, await createAzureClients(at.errors.subscriptionId, options), at);
      const endpoint = await api.findEndpoint(at.names.endpoint);
      if (!endpoint) return { state: 'not-deployed' };
      const deployments = await api.listDeployments(endpoint.name);
      const live = deployments.find((d) => (endpoint.traffic[d.name] ?? 0) > 0);
      const details = { traffic: endpoint.traffic, deployments: deployments.map((d) => ({ name: d.name, state: d.provisioningState })) };
      if (!live) return { state: endpoint.provisioningState === 'Failed' ? 'failed' : 'stopped', endpoint: endpoint.scoringUri, details };
      const state = live.provisioningState === 'Succeeded' ? 'running' : live.provisioningState === 'Failed' ? 'failed' : 'creating';
      return { state, endpoint: endpoint.scoringUri, version: live.spec, details };
    },

    /** Deletes the endpoint (with its deployments), the registered model versions and the uploaded repositories. */
    async destroy(ctx: AzureContext) {
      const at = locate(ctx);
      const { names } = at;
      const clients = await createAzureClients(at.errors.subscriptionId, options);
      const api = azureApi(ctx.io, clients, at);
      let removed = false;
      if (await api.findEndpoint(names.endpoint)) {
        ctx.io.info('DM_AZURE_ENDPOINT_DELETE', `Deleting online endpoint ${names.endpoint} and its deployments`);
        await api.deleteEndpoint(names.endpoint);
        removed = true;
      }
      const versions = await api.deleteModel(names.model);
      if (versions > 0) ctx.io.info('DM_AZURE_MODEL_DELETE', `Deleted ${versions} version(s) of model ${names.model}`);
      const datastore = await defaultDatastore(clients, at.errors);
      const blobs = await deleteUploads(clients, datastore, names.blobRoot, at.errors);
      if (blobs > 0) ctx.io.info('DM_AZURE_UPLOADS_DELETED', `Deleted ${blobs} uploaded file(s) under ${names.blobRoot}`);
      return { removed: removed || versions > 0 || blobs > 0 };
    },
  };
}

/** PUTs the endpoint with `traffic`, keeping the previous deployment its tags record. */
async function putTraffic(ctx: AzureContext, state: AzureCandidateState, traffic: Record<string, number>): Promise<void> {
  const { plan } = ctx;
  const previous = previousFromTags(state.tags);
  await state.api.putEndpoint(plan.names.endpoint, endpointBody(plan.endpoint, { location: state.location, traffic, ...(state.identityType ? { identityType: state.identityType } : {}), ...(previous ? { previous } : {}) }), `moving traffic of ${plan.names.endpoint}`);
}

/** Takes back a deployment a traffic step gave a share: the endpoint's traffic as it was, at once, then the deployment goes. */
async function takeBack(ctx: AzureContext, candidate: Candidate<AzureCandidateState>): Promise<void> {
  const state = candidate.state;
  const traffic = Object.fromEntries(Object.entries(state.before).filter(([name]) => name !== state.next));
  ctx.io.warn('DM_AZURE_SHIFT_BACK', `Version ${candidate.version} failed at ${state.shiftedPercent ?? 0}% of the traffic: ${ctx.plan.names.endpoint} routes every request to ${state.live ?? 'the previous deployment'} again, and deployment ${state.next} is deleted`, { deployment: state.next, percent: state.shiftedPercent ?? 0, traffic });
  await putTraffic(ctx, state, traffic);
  state.shiftedPercent = undefined;
  await state.api.deleteDeployment(ctx.plan.names.endpoint, state.next);
}

export const azureMlDriver = createAzureMlDriver();
