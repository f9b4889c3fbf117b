/** The gcp-vertex driver: the rollout hooks on Vertex AI endpoints, and status, connect and destroy. */
import { DeployModelError } from '../../errors.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import { repositorySources } from '../../kits/triton/repository-sources.js';
import { parseModelUrl } from '../../model/remote/model-url.js';
import type { BuildResult, Candidate, RestoreResult, TargetDriver } from '../driver.js';
import { createVertexClients, vertexAuthClient, type VertexClients, type VertexConnectionOptions } from './_clients.js';
import { rawPredictClient } from './_raw-predict-client.js';
import { bestEffort, clearSmokeEndpoint, recordPrevious, retire, stageOnSmokeEndpoint } from './_rollout-steps.js';
import { deleteStaging, uploadRepository, type GcsModelSource } from './_upload.js';
import { VertexApi } from './_vertex-api.js';
import { buildVertexArtifacts, repositoryOf, type VertexContext } from './build.js';
import { diffVertex } from './diff.js';
import {
  planDeployedModel, planVertexRollout, previousFromLabels, shiftedSplit, vertexNames, vertexVersion, versionOf, withPreviousLabels,
  type GcpVertexPlan, type LiveDeployedModel, type VertexDeployedModelSpec, type VertexNames,
} from './plan.js';
import type { GcpVertexTargetConfig } from './schema.js';
import { synthVertex } from './synth.js';

/** What promote and rollback need of a staged version; the clients stay open from stage to either. */
type VertexCandidateState = { clients: VertexClients; api: VertexApi; model: string } & (
  /** Deployed on the live endpoint with all the traffic: it already serves. */
  | { kind: 'first'; endpoint: string; deployedModelId: string }
  /**
   * Deployed alone on the smoke endpoint; the live endpoint is untouched until promote, or until
   * a traffic step deploys it there too (`liveDeployedModelId`) with a share of the traffic.
   */
  | {
    kind: 'replace'; live: string; smokeEndpoint: string; smokeDeployedModelId: string; deployedModel: VertexDeployedModelSpec; keepSplit: Record<string, number>; previous: LiveDeployedModel[];
    /** The live endpoint's traffic split and labels when the version was staged. */
    before: Record<string, number>; labels: Record<string, string>;
    /** The model serving the most traffic before: its Model is kept for `deploy-model rollback`. */
    serving?: LiveDeployedModel;
    /** The new model's id on the live endpoint, once a traffic step deployed it there. @default - not on the live endpoint */
    liveDeployedModelId?: string;
    /** The share the last traffic step gave it. @default - none */
    shiftedPercent?: number;
  }
);

/** Where the target lives. From the plan; `status`, `connect` and `destroy` also run on a config that no longer plans, and then get the base plan only. */
interface VertexLocation { names: VertexNames; project: string; region: string; operationTimeoutMs: number }

function locate(ctx: VertexContext): VertexLocation {
  const plan = ctx.plan as Partial<GcpVertexPlan>;
  if (plan.names) return { names: plan.names, project: plan.project!, region: plan.region!, operationTimeoutMs: plan.operationTimeoutMs! };
  const { target } = ctx;
  return {
    names: vertexNames({ name: ctx.config.name, stage: ctx.plan.stage, targetName: ctx.targetName, target }),
    project: target.project, region: target.region, operationTimeoutMs: target.operationTimeoutMinutes * 60_000,
  };
}

export function vertexApi(ctx: VertexContext, clients: VertexClients, at: VertexLocation = locate(ctx)): VertexApi {
  return new VertexApi(clients, ctx.io, at.project, at.operationTimeoutMs);
}

/** model.path when it is a gs:// object: the repository's model files are copied from it inside Cloud Storage. */
function gcsModelSource(ctx: VertexContext, repo: BuiltRepository): GcsModelSource | undefined {
  const url = ctx.loaded.modelUrl ? parseModelUrl(ctx.loaded.modelUrl) : undefined;
  if (url?.kind !== 'gs') return undefined;
  return { url: url.url, bucket: url.bucket, files: repositorySources(repo, ctx.plan.tritonConfig.name, url.key, ctx.signature.externalData) };
}

function notDeployed(ctx: VertexContext, at: VertexLocation): DeployModelError {
  return new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no model serving on Vertex AI (endpoint '${at.names.base}' in ${at.project}/${at.region}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
    { details: { target: ctx.targetName } });
}

/**
 * The `gcp-vertex` driver. `options` choose the credentials and API endpoints (see
 * VertexConnectionOptions); the registered driver uses the defaults and environment variables.
 *
 * No untested model ever gets traffic: Vertex AI's v1 API routes Predict and RawPredict by the
 * traffic split only, so a first deploy is tested on the live endpoint (where nothing served),
 * and a replacement alone on a second, smoke endpoint before it joins the live one.
 */
export function createGcpVertexDriver(options: VertexConnectionOptions = {}): TargetDriver<GcpVertexTargetConfig, GcpVertexPlan> {
  async function withClients<T>(ctx: VertexContext, fn: (clients: VertexClients, at: VertexLocation) => Promise<T>): Promise<T> {
    const at = locate(ctx);
    const clients = await createVertexClients(at.region, options);
    try {
      return await fn(clients, at);
    } finally {
      await clients.close();
    }
  }

  return {
    build: buildVertexArtifacts,

    /** Writes the requests a deploy would send (`vertex-resources.json`), without calling Google Cloud. */
    synth: synthVertex,

    diff: (ctx: VertexContext, build: BuildResult) => withClients(ctx, (clients) => diffVertex(ctx, vertexApi(ctx, clients), repositoryOf(build))),

    /** What the endpoint's containers printed, from Cloud Logging. */
    async *logs(ctx: VertexContext, logsOptions) {
      const found = await withClients(ctx, (clients, at) => vertexApi(ctx, clients, at).findEndpoint(at.names.parent, at.names.base));
      const at = locate(ctx);
      if (!found) throw notDeployed(ctx, at);
      const authClient = await vertexAuthClient(options);
      const loggingEndpoint = options.loggingEndpoint ?? process.env.DEPLOY_MODEL_LOGGING_ENDPOINT;
      yield* (await import('./logs.js')).vertexLogs(ctx, { project: at.project, endpointName: found.name, authClient, ...(loggingEndpoint ? { loggingEndpoint } : {}) }, logsOptions);
    },

    rollout: {
      async stage(ctx: VertexContext, build: BuildResult): Promise<Candidate<VertexCandidateState | undefined>> {
        const { plan, io } = ctx;
        const { names } = plan;
        const repo = repositoryOf(build);
        const version = vertexVersion(plan, repo.digest);
        const { specHash, artifactUri } = version;
        if (plan.imageTritonRelease && plan.imageTritonRelease !== plan.tritonVersion) {
          io.warn('DM_VERTEX_IMAGE_RELEASE', `The image ${plan.container.imageUri} is Triton ${plan.imageTritonRelease} but tritonVersion is ${plan.tritonVersion}; the repository is planned for ${plan.tritonVersion}. Use the same release in both.`, { image: plan.container.imageUri, tritonVersion: plan.tritonVersion });
        }
        const clients = await createVertexClients(plan.region, options);
        const api = vertexApi(ctx, clients);
        try {
          const found = await api.findEndpoint(names.parent, names.base);
          const rollout = planVertexRollout({ names, specHash, deployed: found?.deployed ?? [], trafficSplit: found?.trafficSplit ?? {} });

          if (rollout.kind === 'unchanged' && found) {
            io.info('DM_VERTEX_UNCHANGED', `${names.base}: the live model already is version ${specHash}; smoke-testing it`, { endpoint: found.name });
            // The clients stay open for the smoke test; nothing follows to close them, as after `connect`.
            return {
              endpoint: found.name, version: specHash, previous: specHash, unchanged: true, client: rawPredictClient(clients.prediction, found.name), state: undefined,
              details: { endpointName: found.name, artifactUri, specHash, deployedModelId: rollout.live.id },
            };
          }

          await uploadRepository(clients.storage, repo, artifactUri, io, gcsModelSource(ctx, repo));
          io.info('DM_VERTEX_MODEL_UPLOAD', `Uploading model '${version.model.displayName}' to the Vertex AI Model Registry`);
          const model = await api.uploadModel(names.parent, version.model);
          const deployedModel = planDeployedModel({ names, specHash, model, resources: plan.resources });
          let live = found;
          if (!live) {
            io.info('DM_VERTEX_ENDPOINT_CREATE', `Creating endpoint '${names.base}'`);
            live = await api.createEndpoint(names.parent, plan.endpoints.live);
          }
          const details = { endpointName: live.name, artifactUri, specHash, model };

          if (rollout.kind === 'first') {
            // Models without traffic go first, so that a failed smoke test can undeploy the new one, the last on the endpoint.
            await retire(api, live.name, rollout.stale, {}, io);
            const id = await api.deployModel(live.name, deployedModel, { '0': 100 }).catch(async (e) => {
              await bestEffort(io, () => api.deleteModel(model));
              throw e;
            });
            return {
              endpoint: live.name, version: specHash, client: rawPredictClient(clients.prediction, live.name),
              state: { kind: 'first', clients, api, model, endpoint: live.name, deployedModelId: id }, details: { ...details, deployedModelId: id },
            };
          }

          const previous = rollout.kind === 'replace' ? rollout.previous : [];
          const serving = previous.filter((d) => (live.trafficSplit[d.id] ?? 0) > 0).sort((a, b) => live.trafficSplit[b.id]! - live.trafficSplit[a.id]!);
          const liveName = live.name;
          const smoke = await stageOnSmokeEndpoint(ctx, api, deployedModel).catch(async (e) => {
            await bestEffort(io, () => api.deleteModel(model));
            throw e;
          });
          return {
            endpoint: liveName, version: specHash, client: rawPredictClient(clients.prediction, smoke.endpoint),
            // The endpoint users reach: during a traffic step, its split shares the requests between the versions.
            liveClient: rawPredictClient(clients.prediction, liveName),
            ...(serving[0] ? { previous: versionOf(serving[0].displayName) } : {}),
            state: {
              kind: 'replace', clients, api, model, live: liveName, smokeEndpoint: smoke.endpoint, smokeDeployedModelId: smoke.deployedModelId, deployedModel,
              keepSplit: rollout.kind === 'replace' ? rollout.keepSplit : {}, previous, before: { ...live.trafficSplit }, labels: { ...live.labels },
              ...(serving[0] ? { serving: serving[0] } : {}),
            },
            details: { ...details, smokeEndpoint: smoke.endpoint, replaces: previous.map((p) => p.id) },
          };
        } catch (e) {
          await clients.close();
          throw e;
        }
      },

      async promote(ctx: VertexContext, candidate: Candidate<VertexCandidateState>) {
        const state = candidate.state;
        const { io } = ctx;
        try {
          if (state.kind === 'first') return;
          let id = state.liveDeployedModelId;
          if (id) {
            // The traffic steps deployed it beside the previous models: it takes the rest, then the smoke endpoint goes.
            io.info('DM_VERTEX_TRAFFIC', `Moving 100% of the traffic of ${state.live} to ${id}`, { endpoint: state.live, deployedModelId: id });
            await state.api.setTraffic(state.live, { [id]: 100 });
            await clearSmokeEndpoint(state.api, state.smokeEndpoint, state.smokeDeployedModelId);
          } else {
            await clearSmokeEndpoint(state.api, state.smokeEndpoint, state.smokeDeployedModelId);
            io.info('DM_VERTEX_DEPLOY_LIVE', `Deploying '${state.deployedModel.displayName}' on the live endpoint at 0% traffic`);
            id = await state.api.deployModel(state.live, state.deployedModel, state.keepSplit).catch(async (e) => {
              await bestEffort(io, () => state.api.deleteModel(state.model));
              throw e;
            });
            io.info('DM_VERTEX_TRAFFIC', `Moving 100% of the traffic of ${state.live} to ${id}`, { endpoint: state.live, deployedModelId: id });
            await state.api.setTraffic(state.live, { [id]: 100 });
          }
          const kept = await recordPrevious(state.api, state.live, state.labels, state.serving, ctx.plan.names.parent, io);
          await retire(state.api, state.live, state.previous, { [id]: 100 }, io, kept);
        } finally {
          await state.clients.close();
        }
      },

      /**
       * A traffic step: the first deploys the new model on the live endpoint beside the serving
       * ones with `percent` of the traffic split, the next ones update the split. The model stays
       * on the smoke endpoint too, where each step's smoke test reaches it alone.
       */
      async shift(ctx: VertexContext, candidate: Candidate<VertexCandidateState>, percent: number) {
        const state = candidate.state;
        const { io } = ctx;
        if (state.kind !== 'replace') throw new Error(`A traffic step needs a previous version; ${state.kind} deploys have none.`);
        try {
          if (!state.liveDeployedModelId) {
            const split = shiftedSplit(state.before, '0', percent);
            io.info('DM_VERTEX_SHIFT', `Deploying '${state.deployedModel.displayName}' on ${state.live} beside version ${candidate.previous} with ${percent}% of the traffic split`, { endpoint: state.live, percent, trafficSplit: split });
            state.liveDeployedModelId = await state.api.deployModel(state.live, state.deployedModel, split);
          } else {
            const split = shiftedSplit(state.before, state.liveDeployedModelId, percent);
            io.info('DM_VERTEX_SHIFT', `Giving ${state.liveDeployedModelId} ('${state.deployedModel.displayName}') ${percent}% of the traffic split of ${state.live}`, { endpoint: state.live, percent, trafficSplit: split });
            await state.api.setTraffic(state.live, split);
          }
          state.shiftedPercent = percent;
        } catch (e) {
          // The rollout core rolls back failed steps, not failed calls: take the candidate back here.
          await bestEffort(io, () => takeBack(ctx, candidate));
          await state.clients.close();
          throw e;
        }
      },

      async rollback(ctx: VertexContext, candidate: Candidate<VertexCandidateState>) {
        const state = candidate.state;
        const { io } = ctx;
        try {
          if (state.kind === 'replace' && state.liveDeployedModelId) {
            await takeBack(ctx, candidate);
            return 'removed';
          }
          if (state.kind === 'first') {
            io.warn('DM_VERTEX_ROLLBACK', `Version ${candidate.version} did not pass its smoke test: undeploying it from ${state.endpoint}`);
            await state.api.undeployModel(state.endpoint, state.deployedModelId, {});
          } else {
            await clearSmokeEndpoint(state.api, state.smokeEndpoint, state.smokeDeployedModelId);
            io.warn('DM_VERTEX_ROLLBACK', `Version ${candidate.version} did not pass its smoke test on '${ctx.plan.names.smokeEndpoint}': the live endpoint keeps its models and traffic`);
          }
          await state.api.deleteModel(state.model);
          return 'removed';
        } finally {
          await state.clients.close();
        }
      },
    },

    /**
     * `deploy-model rollback`: deploys the Model a promote kept (recorded in the live endpoint's
     * labels) again with its own resources, gives it all the traffic, clears the record, then
     * undeploys what served and deletes its Models.
     */
    async restorePrevious(ctx: VertexContext): Promise<RestoreResult> {
      return withClients(ctx, async (clients, at) => {
        const { names } = at;
        const { io } = ctx;
        const api = vertexApi(ctx, clients, at);
        const live = await api.findEndpoint(names.parent, names.base);
        const serving = live?.deployed.filter((d) => (live.trafficSplit[d.id] ?? 0) > 0).sort((a, b) => live.trafficSplit[b.id]! - live.trafficSplit[a.id]!) ?? [];
        if (!live || !serving[0]) throw notDeployed(ctx, at);
        const current = versionOf(serving[0].displayName);
        const previous = previousFromLabels(live.labels);
        const model = previous ? await api.findModel(`${names.parent}/models/${previous.modelId}`) : undefined;
        if (!previous || !model) {
          throw new DeployModelError('ROLLBACK_NO_PREVIOUS', `Target '${ctx.targetName}' has no earlier version to roll back to: endpoint ${live.name} serves version ${current} and ${previous ? `the Model ${previous.modelId} its labels record is no longer in the Model Registry` : 'its labels record no previous Model (a first deploy, or a rollback already made)'}. Deploy the earlier model or config to serve it again.`,
            { details: { target: ctx.targetName, endpoint: live.name, version: current } });
        }
        io.info('DM_VERTEX_RESTORE', `Deploying the kept Model ${model.name} (version ${previous.version}) on ${live.name} again and moving all its traffic there from version ${current}`, { endpoint: live.name, from: current, to: previous.version, model: model.name });
        const spec = planDeployedModel({ names, specHash: previous.version, model: model.name, resources: previous.resources });
        const id = await api.deployModel(live.name, spec, { ...live.trafficSplit, '0': 0 });
        io.info('DM_VERTEX_TRAFFIC', `Moving 100% of the traffic of ${live.name} to ${id}`, { endpoint: live.name, deployedModelId: id });
        await api.setTraffic(live.name, { [id]: 100 });
        // Recorded no more: a second rollback does not go forward again.
        await api.setLabels(live.name, withPreviousLabels(live.labels, undefined));
        await retire(api, live.name, live.deployed, { [id]: 100 }, io);
        return { from: current, to: previous.version, endpoint: live.name, details: { deployedModelId: id, model: model.name } };
      });
    },

    async connect(ctx: VertexContext) {
      const at = locate(ctx);
      const clients = await createVertexClients(at.region, options);
      const endpoint = await vertexApi(ctx, clients, at).findEndpoint(at.names.parent, at.names.base).catch(async (e) => { await clients.close(); throw e; });
      const serving = endpoint?.deployed.find((d) => (endpoint.trafficSplit[d.id] ?? 0) > 0);
      if (!endpoint || !serving) {
        await clients.close();
        throw notDeployed(ctx, at);
      }
      // The client keeps its gRPC channel for the caller's requests; it is released with the process.
      return { endpoint: endpoint.name, version: versionOf(serving.displayName), client: rawPredictClient(clients.prediction, endpoint.name), details: { deployedModelId: serving.id } };
    },

    async status(ctx: VertexContext) {
      return withClients(ctx, async (clients, at) => {
        const endpoint = await vertexApi(ctx, clients, at).findEndpoint(at.names.parent, at.names.base);
        if (!endpoint) return { state: 'not-deployed' as const };
        const serving = endpoint.deployed.find((d) => (endpoint.trafficSplit[d.id] ?? 0) > 0);
        if (!serving) return { state: 'stopped' as const, endpoint: endpoint.name, details: { deployedModels: endpoint.deployed.length } };
        return { state: 'running' as const, endpoint: endpoint.name, version: versionOf(serving.displayName), details: { deployedModelId: serving.id, trafficSplit: endpoint.trafficSplit } };
      });
    },

    /** Undeploys everything, deletes both endpoints, the Models and the staged repositories. */
    async destroy(ctx: VertexContext) {
      return withClients(ctx, async (clients, at) => {
        const { names } = at;
        const api = vertexApi(ctx, clients, at);
        let removed = false;
        for (const displayName of [names.base, names.smokeEndpoint]) {
          const endpoint = await api.findEndpoint(names.parent, displayName);
          if (!endpoint) continue;
          for (const d of endpoint.deployed) {
            ctx.io.info('DM_VERTEX_UNDEPLOY', `Undeploying ${d.id} ('${d.displayName}') from ${endpoint.name}`);
            await api.undeployModel(endpoint.name, d.id, {});
          }
          ctx.io.info('DM_VERTEX_ENDPOINT_DELETE', `Deleting endpoint ${endpoint.name}`);
          await api.deleteEndpoint(endpoint.name);
          removed = true;
        }
        for (const model of await api.listModels(names.parent, names.labels)) {
          ctx.io.info('DM_VERTEX_MODEL_DELETE', `Deleting model ${model.name} ('${model.displayName}')`);
          await api.deleteModel(model.name);
          removed = true;
        }
        const objects = await deleteStaging(clients.storage, names.stagingRoot);
        if (objects > 0) ctx.io.info('DM_VERTEX_STAGING_DELETED', `Deleted ${objects} staged file(s) under ${names.stagingRoot}`);
        return { removed: removed || objects > 0 };
      });
    },
  };
}

/**
 * Takes back a candidate a traffic step put on the live endpoint: the models that served get their
 * split back at once, then the new model is undeployed from both endpoints and its Model deleted.
 */
async function takeBack(ctx: VertexContext, candidate: Candidate<VertexCandidateState>): Promise<void> {
  const state = candidate.state;
  if (state.kind !== 'replace') return;
  const { io } = ctx;
  if (state.liveDeployedModelId) {
    const split = Object.fromEntries(Object.entries(state.before).filter(([id]) => id !== state.liveDeployedModelId));
    io.warn('DM_VERTEX_SHIFT_BACK', `Version ${candidate.version} failed at ${state.shiftedPercent ?? 0}% of the traffic: the traffic split of ${state.live} goes back to version ${candidate.previous} alone, and ${state.liveDeployedModelId} is undeployed`, { endpoint: state.live, percent: state.shiftedPercent ?? 0, trafficSplit: split });
    await state.api.setTraffic(state.live, split);
    await state.api.undeployModel(state.live, state.liveDeployedModelId, split);
    state.liveDeployedModelId = undefined;
    state.shiftedPercent = undefined;
  }
  await clearSmokeEndpoint(state.api, state.smokeEndpoint, state.smokeDeployedModelId);
  await state.api.deleteModel(state.model);
}

export const gcpVertexDriver = createGcpVertexDriver();
