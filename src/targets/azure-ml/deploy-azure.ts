import { DeployModelError } from '../../errors.js';
import type { InferenceClient, SmokeResult } from '../../smoke/run-smoke.js';
import type { DeployResult, TargetContext } from '../driver.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import { AzureApi, type EndpointState } from './_azure-api.js';
import type { AzureClients } from './_clients.js';
import type { AzureErrorContext } from './_operations.js';
import { scoringClient } from './_scoring-client.js';
import { defaultDatastore, uploadRepository } from './_upload.js';
import {
  armAuthMode, azureBlobPrefix, azureInferUrl, azureModelUri, azureNames, azureSpecHash, nextModelVersion, planAzureRollout,
  planDeployment, planEndpoint, planModelVersion,
} from './plan.js';
import { planRuntimeSettings } from './runtime-settings.js';
import type { AzureMlTargetConfig } from './schema.js';

type Ctx = TargetContext<AzureMlTargetConfig>;

export function namesOf(ctx: Ctx) {
  return azureNames({ name: ctx.config.name, stage: ctx.loaded.stage, targetName: ctx.targetName, target: ctx.target });
}

/** The deployment's probes and request settings, from the target and the model's batching. */
export function runtimeOf(ctx: Ctx) {
  return planRuntimeSettings(ctx.target, ctx.config.model.batching?.maxBatchSize);
}

export function errorContext(ctx: Ctx): AzureErrorContext {
  const { subscriptionId, resourceGroup, workspace, instanceType } = ctx.target;
  return { subscriptionId, resourceGroup, workspace, instanceType };
}

export function azureApi(ctx: Ctx, clients: AzureClients): AzureApi {
  return new AzureApi(clients, ctx.io, errorContext(ctx), ctx.target.operationTimeoutMinutes * 60_000);
}

/** A client for an endpoint; the credential (key or token) is fetched once, on the first request, and kept in the closure only. */
export function endpointClient(ctx: Ctx, api: AzureApi, clients: AzureClients, endpoint: EndpointState, deployment?: string): InferenceClient {
  let credential: Promise<string> | undefined;
  return scoringClient({
    url: azureInferUrl(endpoint.scoringUri, namesOf(ctx).tritonModel),
    credential: () => (credential ??= api.scoringCredential(endpoint.name, endpoint.authMode)),
    ...(deployment ? { deployment } : {}),
    ...(clients.ca ? { ca: clients.ca } : {}),
  });
}

/**
 * Deploys a version on Azure ML, blue/green:
 *
 * 1. upload the repository to the workspace's default datastore, register a `triton_model` version;
 * 2. create the endpoint if needed, and the new deployment beside the live one, without traffic;
 * 3. smoke-test the new deployment through the scoring URI with `azureml-model-deployment: <new>`
 *    (which routes to it whatever the traffic split);
 * 4. on success give it 100% of the traffic and delete the previous deployment; on failure delete
 *    the new deployment, so traffic never moved.
 */
export async function deployAzure(ctx: Ctx, clients: AzureClients, repo: BuiltRepository, smoke: (client: InferenceClient) => Promise<SmokeResult>): Promise<DeployResult> {
  const { target, io } = ctx;
  const names = namesOf(ctx);
  const api = azureApi(ctx, clients);
  const runtime = runtimeOf(ctx);
  const specHash = azureSpecHash({ repositoryDigest: repo.digest, instanceType: target.instanceType, instanceCount: target.instanceCount, runtime });

  const location = await api.workspaceLocation();
  let endpoint = await api.findEndpoint(names.endpoint);
  if (endpoint && endpoint.authMode !== armAuthMode(target.authMode)) {
    throw new DeployModelError('AZURE_AUTH_MODE_CHANGED',
      `Online endpoint ${names.endpoint} uses auth mode ${endpoint.authMode}, but the config asks for '${target.authMode}'; Azure fixes the auth mode when the endpoint is created. Set authMode back, or run \`deploy-model destroy --target ${ctx.targetName}\` and deploy again.`,
      { details: { endpoint: names.endpoint, current: endpoint.authMode, wanted: target.authMode } });
  }
  const deployments = endpoint ? await api.listDeployments(names.endpoint) : [];
  const rollout = planAzureRollout({ deployments, traffic: endpoint?.traffic ?? {}, specHash });

  if (rollout.kind === 'unchanged' && endpoint) {
    io.info('DM_AZURE_UNCHANGED', `${names.endpoint}: deployment ${rollout.live} already is version ${specHash}; smoke-testing it`);
    const result = await smoke(endpointClient(ctx, api, clients, endpoint, rollout.live));
    return { endpoint: endpoint.scoringUri, version: specHash, smoke: result, promoted: true, details: { endpointName: names.endpoint, deployment: rollout.live, unchanged: true } };
  }
  if (rollout.kind !== 'deploy') throw new Error('unreachable');

  const datastore = await defaultDatastore(clients, errorContext(ctx));
  const prefix = azureBlobPrefix(names, repo.digest);
  await uploadRepository(clients, datastore, repo, prefix, io, errorContext(ctx));
  const modelUri = azureModelUri({ subscriptionId: target.subscriptionId, resourceGroup: target.resourceGroup, workspace: target.workspace, datastore: datastore.name, path: prefix });
  const model = await api.ensureModelVersion(names.model, repo.digest.slice(0, 12), () => planModelVersion(names, modelUri, repo.digest), nextModelVersion);
  io.info('DM_AZURE_MODEL', model.created ? `Registered model ${names.model} version ${model.version} (triton_model)` : `Model ${names.model} version ${model.version} already holds this repository`, { model: names.model, version: model.version });

  if (!endpoint) {
    io.info('DM_AZURE_ENDPOINT_CREATE', `Creating online endpoint ${names.endpoint} in ${location}`);
    endpoint = await api.putEndpoint(names.endpoint, planEndpoint({ names, location, authMode: target.authMode, traffic: {} }), `creating online endpoint ${names.endpoint}`);
  }
  const live = endpoint;
  for (const stale of rollout.remove) {
    io.info('DM_AZURE_DEPLOYMENT_DELETE', `Deleting deployment ${stale} (no traffic, left by an earlier deploy)`);
    await api.deleteDeployment(names.endpoint, stale);
  }

  io.info('DM_AZURE_DEPLOYING', `Creating deployment ${rollout.next} on ${names.endpoint} (${target.instanceCount} x ${target.instanceType}) without traffic; this takes minutes`, { deployment: rollout.next });
  try {
    await api.putDeployment(names.endpoint, rollout.next, planDeployment({ names, location, modelId: model.id, target, runtime, specHash }));
  } catch (e) {
    await bestEffort(io, () => api.deleteDeployment(names.endpoint, rollout.next));
    throw e;
  }

  const result = await smoke(endpointClient(ctx, api, clients, live, rollout.next));
  const details = { endpointName: names.endpoint, deployment: rollout.next, model: `${names.model}:${model.version}` };
  if (result.status !== 'passed') {
    io.warn('DM_AZURE_ROLLBACK', `The smoke test failed: deleting deployment ${rollout.next}; ${rollout.live ? `${rollout.live} keeps the traffic` : 'the endpoint has no traffic'}`);
    await api.deleteDeployment(names.endpoint, rollout.next);
    return { endpoint: live.scoringUri, version: specHash, smoke: result, promoted: false, details: { ...details, live: rollout.live } };
  }

  io.info('DM_AZURE_TRAFFIC', `Moving 100% of the traffic of ${names.endpoint} to ${rollout.next}`, { deployment: rollout.next });
  await api.putEndpoint(names.endpoint, planEndpoint({ names, location: live.location || location, authMode: target.authMode, traffic: { [rollout.next]: 100 }, identityType: live.identityType }), `moving traffic of ${names.endpoint} to ${rollout.next}`);
  for (const old of rollout.previous) {
    io.info('DM_AZURE_DEPLOYMENT_DELETE', `Deleting the previous deployment ${old}`);
    await api.deleteDeployment(names.endpoint, old);
  }
  return { endpoint: live.scoringUri, version: specHash, smoke: result, promoted: true, details: { ...details, replaced: rollout.previous } };
}

/** Runs a clean-up step after a failure; its own failure is reported, never thrown over the first. */
async function bestEffort(io: Ctx['io'], fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    io.warn('DM_AZURE_CLEANUP_FAILED', `Clean-up after the failure did not complete: ${(e as Error).message}`);
  }
}
