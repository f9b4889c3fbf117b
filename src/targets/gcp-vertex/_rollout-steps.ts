/** The steps the gcp-vertex rollout hooks share: the smoke endpoint, retiring models, clean-up after a failure. */
import type { IoHelper } from '../../io/io-host.js';
import type { VertexApi, VertexEndpointState } from './_vertex-api.js';
import type { VertexContext } from './build.js';
import { previousFromLabels, versionOf, withPreviousLabels, type LiveDeployedModel, type VertexDeployedModelSpec } from './plan.js';

/**
 * Deploys the model alone on the smoke endpoint (created when missing, cleared of what an
 * interrupted deploy left); on failure the smoke endpoint is removed again.
 */
export async function stageOnSmokeEndpoint(ctx: VertexContext, api: VertexApi, deployedModel: VertexDeployedModelSpec): Promise<{ endpoint: string; deployedModelId: string }> {
  const { plan, io } = ctx;
  const { names } = plan;
  let smoke: VertexEndpointState | undefined = await api.findEndpoint(names.parent, names.smokeEndpoint);
  if (!smoke) {
    io.info('DM_VERTEX_ENDPOINT_CREATE', `Creating the smoke-test endpoint '${names.smokeEndpoint}'`);
    smoke = await api.createEndpoint(names.parent, plan.endpoints.smoke);
  }
  // Left over by an interrupted deploy: clear it so that it tests this model only.
  for (const stale of smoke.deployed) await api.undeployModel(smoke.name, stale.id, {});
  io.info('DM_VERTEX_SMOKE_DEPLOY', `Deploying '${deployedModel.displayName}' alone on '${names.smokeEndpoint}' to smoke-test it before it joins the live endpoint`);
  try {
    return { endpoint: smoke.name, deployedModelId: await api.deployModel(smoke.name, deployedModel, { '0': 100 }) };
  } catch (e) {
    await bestEffort(io, () => clearSmokeEndpoint(api, smoke.name, undefined));
    throw e;
  }
}

/** Undeploys the model from the smoke endpoint and deletes the endpoint: it exists only during a replacement. */
export async function clearSmokeEndpoint(api: VertexApi, endpoint: string, deployedModelId: string | undefined): Promise<void> {
  if (deployedModelId) await api.undeployModel(endpoint, deployedModelId, {});
  await api.deleteEndpoint(endpoint);
}

/** Runs a clean-up step after a failure; its own failure is reported, never thrown over the first. */
export async function bestEffort(io: IoHelper, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    io.warn('DM_VERTEX_CLEANUP_FAILED', `Clean-up after the failure did not complete: ${(e as Error).message}`);
  }
}

/**
 * Undeploys models that no longer take traffic and deletes their Models when deploy-model made
 * them, but `keep`, the Model recorded for `deploy-model rollback`.
 */
export async function retire(api: VertexApi, endpoint: string, models: LiveDeployedModel[], split: Record<string, number>, io: IoHelper, keep?: string): Promise<void> {
  for (const old of models) {
    io.info('DM_VERTEX_UNDEPLOY', `Undeploying the previous model ${old.id} ('${old.displayName}')`, { endpoint, deployedModelId: old.id });
    await api.undeployModel(endpoint, old.id, split);
    if (old.model && old.model !== keep) {
      // A Model still deployed elsewhere refuses deletion; that is not this deploy's failure.
      await api.deleteModel(old.model).catch((e: Error) => io.warn('DM_VERTEX_MODEL_KEPT', `Kept model ${old.model}: ${e.message}`));
    }
  }
}

/** The id of a Model, the last part of its resource name. */
const modelId = (name: string): string => name.split('/').pop() ?? name;

/**
 * On promote: records the model that served (`serving`) in the live endpoint's labels, so that
 * `deploy-model rollback` can deploy its Model again, and deletes the Model recorded by the
 * promote before, which nothing rolls back to any more. Returns the Model kept, for `retire`.
 */
export async function recordPrevious(api: VertexApi, endpoint: string, labels: Record<string, string>, serving: LiveDeployedModel | undefined, parent: string, io: IoHelper): Promise<string | undefined> {
  const recorded = previousFromLabels(labels);
  const keep = serving?.model && serving.dedicatedResources
    ? { modelId: modelId(serving.model), version: versionOf(serving.displayName), resources: serving.dedicatedResources }
    : undefined;
  await api.setLabels(endpoint, withPreviousLabels(labels, keep));
  if (recorded && recorded.modelId !== keep?.modelId) {
    const name = `${parent}/models/${recorded.modelId}`;
    await api.deleteModel(name).catch((e: Error) => io.warn('DM_VERTEX_MODEL_KEPT', `Kept model ${name}: ${e.message}`));
  }
  return keep ? serving!.model : undefined;
}
