import type { SmokeResult, InferenceClient } from '../../smoke/run-smoke.js';
import type { DeployResult, TargetContext } from '../driver.js';
import type { VertexClients } from './_clients.js';
import { rawPredictClient } from './_raw-predict-client.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import { uploadRepository } from './_upload.js';
import { VertexApi, type VertexEndpointState } from './_vertex-api.js';
import {
  imageTritonRelease, planDeployedModel, planVertexEndpoint, planVertexModel, planVertexRollout, vertexArtifactUri, vertexContainerSpec,
  vertexNames, vertexResources, vertexSpecHash, type LiveDeployedModel,
} from './plan.js';
import type { GcpVertexTargetConfig } from './schema.js';

type Ctx = TargetContext<GcpVertexTargetConfig>;

export function namesOf(ctx: Ctx) {
  return vertexNames({ name: ctx.config.name, stage: ctx.loaded.stage, targetName: ctx.targetName, target: ctx.target });
}

export function vertexApi(ctx: Ctx, clients: VertexClients): VertexApi {
  return new VertexApi(clients, ctx.io, ctx.target.project, ctx.target.operationTimeoutMinutes * 60_000);
}

/**
 * Deploys a version on Vertex AI without ever sending traffic to an untested model:
 *
 * 1. upload the repository to Cloud Storage and the Model (container spec, artifact URI);
 * 2. first deploy: deploy on the (new) endpoint, smoke-test through RawPredict, undeploy on failure;
 * 3. replacement: Vertex AI routes requests by traffic split only, so the new model is first
 *    deployed alone on a smoke endpoint and tested there; on success it is deployed on the live
 *    endpoint at 0%, traffic moves to it in one update, and the previous models are undeployed.
 *    On failure the live endpoint is never touched.
 */
export async function deployVertex(ctx: Ctx, clients: VertexClients, repo: BuiltRepository, smoke: (client: InferenceClient) => Promise<SmokeResult>): Promise<DeployResult> {
  const { target, io } = ctx;
  const names = namesOf(ctx);
  const api = vertexApi(ctx, clients);
  const container = vertexContainerSpec(target.image, names.tritonModel);
  const resources = vertexResources(target);
  const specHash = vertexSpecHash({ repositoryDigest: repo.digest, container, resources });
  const artifactUri = vertexArtifactUri(names, repo.digest);
  const release = imageTritonRelease(target.image);
  if (release && release !== target.tritonVersion) {
    io.warn('DM_VERTEX_IMAGE_RELEASE', `The image ${target.image} is Triton ${release} but tritonVersion is ${target.tritonVersion}; the repository is planned for ${target.tritonVersion}. Use the same release in both.`, { image: target.image, tritonVersion: target.tritonVersion });
  }

  let endpoint = await api.findEndpoint(names.parent, names.base);
  const rollout = planVertexRollout({ names, specHash, deployed: endpoint?.deployed ?? [], trafficSplit: endpoint?.trafficSplit ?? {} });
  const details = (extra: Record<string, unknown>) => ({ endpointName: endpoint?.name, artifactUri, specHash, ...extra });

  if (rollout.kind === 'unchanged' && endpoint) {
    io.info('DM_VERTEX_UNCHANGED', `${names.base}: the live model already is version ${specHash}; smoke-testing it`, { endpoint: endpoint.name });
    const result = await smoke(rawPredictClient(clients.prediction, endpoint.name));
    return { endpoint: endpoint.name, version: specHash, smoke: result, promoted: true, details: details({ unchanged: true, deployedModelId: rollout.live.id }) };
  }

  await uploadRepository(clients.storage, repo, artifactUri, io);
  const modelSpec = planVertexModel({ names, specHash, artifactUri, container });
  io.info('DM_VERTEX_MODEL_UPLOAD', `Uploading model '${modelSpec.displayName}' to the Vertex AI Model Registry`);
  const model = await api.uploadModel(names.parent, modelSpec);
  const deployedSpec = planDeployedModel({ names, specHash, model, resources });

  if (!endpoint) {
    io.info('DM_VERTEX_ENDPOINT_CREATE', `Creating endpoint '${names.base}'`);
    endpoint = await api.createEndpoint(names.parent, planVertexEndpoint(names, 'live'));
  }
  const live = endpoint;

  if (rollout.kind === 'first') {
    // Models without traffic go first, so that a failed smoke test can undeploy the new one, the last on the endpoint.
    await retire(api, live.name, rollout.stale, {}, io);
    const id = await api.deployModel(live.name, deployedSpec, { '0': 100 }).catch(async (e) => {
      await bestEffort(io, () => api.deleteModel(model));
      throw e;
    });
    const result = await smoke(rawPredictClient(clients.prediction, live.name));
    if (result.status !== 'passed') {
      io.warn('DM_VERTEX_ROLLBACK', `The smoke test failed: undeploying '${deployedSpec.displayName}' from ${live.name}`);
      await api.undeployModel(live.name, id, {});
      await api.deleteModel(model);
      return { endpoint: live.name, version: specHash, smoke: result, promoted: false, details: details({ deployedModelId: id }) };
    }
    return { endpoint: live.name, version: specHash, smoke: result, promoted: true, details: details({ deployedModelId: id, model }) };
  }

  // Replacement: smoke-test on the smoke endpoint first; the live endpoint is only touched on success.
  const previous = rollout.kind === 'replace' ? rollout.previous : [];
  const keepSplit = rollout.kind === 'replace' ? rollout.keepSplit : {};
  const result = await smokeOnSmokeEndpoint(ctx, api, clients, deployedSpec, smoke).catch(async (e) => {
    await bestEffort(io, () => api.deleteModel(model));
    throw e;
  });
  if (result.status !== 'passed') {
    await api.deleteModel(model);
    return { endpoint: live.name, version: specHash, smoke: result, promoted: false, details: details({ liveUnchanged: true }) };
  }
  io.info('DM_VERTEX_DEPLOY_LIVE', `Deploying '${deployedSpec.displayName}' on the live endpoint at 0% traffic`);
  const id = await api.deployModel(live.name, deployedSpec, keepSplit).catch(async (e) => {
    await bestEffort(io, () => api.deleteModel(model));
    throw e;
  });
  io.info('DM_VERTEX_TRAFFIC', `Moving 100% of the traffic of ${live.name} to ${id}`, { endpoint: live.name, deployedModelId: id });
  await api.setTraffic(live.name, { [id]: 100 });
  await retire(api, live.name, previous, { [id]: 100 }, io);
  return { endpoint: live.name, version: specHash, smoke: result, promoted: true, details: details({ deployedModelId: id, model, replaced: previous.map((p) => p.id) }) };
}

/** Deploys on the smoke endpoint, runs the smoke test, and always clears the smoke endpoint again. */
async function smokeOnSmokeEndpoint(ctx: Ctx, api: VertexApi, clients: VertexClients, deployedSpec: ReturnType<typeof planDeployedModel>, smoke: (client: InferenceClient) => Promise<SmokeResult>): Promise<SmokeResult> {
  const names = namesOf(ctx);
  const io = ctx.io;
  let smokeEndpoint: VertexEndpointState | undefined = await api.findEndpoint(names.parent, names.smokeEndpoint);
  if (!smokeEndpoint) {
    io.info('DM_VERTEX_ENDPOINT_CREATE', `Creating the smoke-test endpoint '${names.smokeEndpoint}'`);
    smokeEndpoint = await api.createEndpoint(names.parent, planVertexEndpoint(names, 'smoke'));
  }
  // Left over by an interrupted deploy: clear it so that it tests this model only.
  for (const stale of smokeEndpoint.deployed) await api.undeployModel(smokeEndpoint.name, stale.id, {});
  io.info('DM_VERTEX_SMOKE_DEPLOY', `Deploying '${deployedSpec.displayName}' alone on '${names.smokeEndpoint}' to smoke-test it before it joins the live endpoint`);
  let id: string | undefined;
  let result: SmokeResult;
  try {
    id = await api.deployModel(smokeEndpoint.name, deployedSpec, { '0': 100 });
    result = await smoke(rawPredictClient(clients.prediction, smokeEndpoint.name));
  } catch (e) {
    await bestEffort(io, () => clearSmokeEndpoint(api, smokeEndpoint!.name, id));
    throw e;
  }
  await clearSmokeEndpoint(api, smokeEndpoint.name, id);
  if (result.status !== 'passed') io.warn('DM_VERTEX_ROLLBACK', `The smoke test failed on '${names.smokeEndpoint}': the live endpoint keeps its models and traffic`);
  return result;
}

async function clearSmokeEndpoint(api: VertexApi, endpoint: string, id: string | undefined): Promise<void> {
  if (id) await api.undeployModel(endpoint, id, {});
  await api.deleteEndpoint(endpoint);
}

/** Runs a clean-up step after a failure; its own failure is reported, never thrown over the first. */
async function bestEffort(io: Ctx['io'], fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    io.warn('DM_VERTEX_CLEANUP_FAILED', `Clean-up after the failure did not complete: ${(e as Error).message}`);
  }
}

/** Undeploys models that no longer take traffic and deletes their Models when deploy-model made them. */
async function retire(api: VertexApi, endpoint: string, models: LiveDeployedModel[], split: Record<string, number>, io: Ctx['io']): Promise<void> {
  for (const old of models) {
    io.info('DM_VERTEX_UNDEPLOY', `Undeploying the previous model ${old.id} ('${old.displayName}')`, { endpoint, deployedModelId: old.id });
    await api.undeployModel(endpoint, old.id, split);
    if (old.model) {
      // A Model still deployed elsewhere refuses deletion; that is not this deploy's failure.
      await api.deleteModel(old.model).catch((e: Error) => io.warn('DM_VERTEX_MODEL_KEPT', `Kept model ${old.model}: ${e.message}`));
    }
  }
}
