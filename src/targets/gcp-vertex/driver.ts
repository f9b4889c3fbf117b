import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { ConfigProblem } from '../../config/format-issues.js';
import type { TargetContext, LegacyTargetDriver } from '../driver.js';
import { planTritonConfig } from '../../kits/triton/index.js';
import { createVertexClients, type VertexClients, type VertexConnectionOptions } from './_clients.js';
import { rawPredictClient } from './_raw-predict-client.js';
import { buildGpuRepository } from '../../kits/triton/build-gpu-repository.js';
import { deleteStaging } from './_upload.js';
import { deployVertex, namesOf, vertexApi } from './deploy-vertex.js';
import {
  planDeployedModel, planVertexEndpoint, planVertexModel, vertexArtifactUri, vertexContainerSpec, vertexResources, vertexSpecHash, versionOf,
} from './plan.js';
import type { GcpVertexTargetConfig } from './schema.js';

type Ctx = TargetContext<GcpVertexTargetConfig>;

async function withClients<T>(ctx: Ctx, options: VertexConnectionOptions, fn: (clients: VertexClients) => Promise<T>): Promise<T> {
  const clients = await createVertexClients(ctx.target.region, options);
  try {
    return await fn(clients);
  } finally {
    await clients.close();
  }
}

function notDeployed(ctx: Ctx): DeployModelError {
  return new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no model serving on Vertex AI (endpoint '${namesOf(ctx).base}' in ${ctx.target.project}/${ctx.target.region}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
    { details: { target: ctx.targetName } });
}

/**
 * The `gcp-vertex` driver. `options` choose the credentials and API endpoints (see
 * VertexConnectionOptions); the registered driver uses the defaults and environment variables.
 */
export function createGcpVertexDriver(options: VertexConnectionOptions = {}): LegacyTargetDriver<GcpVertexTargetConfig> {
  return {
    type: 'gcp-vertex',

    async validate(ctx: Ctx): Promise<ConfigProblem[]> {
      try {
        planTritonConfig({ signature: ctx.signature, modelName: namesOf(ctx).tritonModel, host: 'gcp-vertex', batching: ctx.config.model.batching, inputShapes: ctx.config.model.inputs, options: ctx.target });
        return [];
      } catch (e) {
        if (!(e instanceof DeployModelError)) throw e;
        return [{ path: `targets.${ctx.targetName}`, value: ctx.target.engine, rule: e.message, fix: 'change the model options or the Triton options as the message says' }];
      }
    },

    async build(ctx: Ctx) {
      const repo = await buildGpuRepository(ctx, 'gcp-vertex', namesOf(ctx).tritonModel);
      return { artifacts: repo.files.map((f) => ({ kind: 'triton-repository', file: path.join(repo.root, ...f.path.split('/')), bytes: f.bytes, sha256: f.sha256 })) };
    },

    /** Writes the requests a deploy would send (`vertex-resources.json`), without calling Google Cloud. */
    async synth(ctx: Ctx) {
      const repo = await buildGpuRepository(ctx, 'gcp-vertex', namesOf(ctx).tritonModel);
      const names = namesOf(ctx);
      const container = vertexContainerSpec(ctx.target.image, names.tritonModel);
      const resources = vertexResources(ctx.target);
      const specHash = vertexSpecHash({ repositoryDigest: repo.digest, container, resources });
      const artifactUri = vertexArtifactUri(names, repo.digest);
      const spec = {
        parent: names.parent,
        artifactUri,
        model: planVertexModel({ names, specHash, artifactUri, container }),
        endpoint: planVertexEndpoint(names, 'live'),
        smokeEndpoint: planVertexEndpoint(names, 'smoke'),
        deployedModel: planDeployedModel({ names, specHash, model: '(uploaded model)', resources }),
      };
      const file = path.join(ctx.workDir, 'vertex-resources.json');
      await mkdir(ctx.workDir, { recursive: true });
      const text = `${JSON.stringify(spec, null, 2)}\n`;
      await writeFile(file, text);
      return { artifacts: [{ kind: 'vertex-resources', file, bytes: Buffer.byteLength(text) }] };
    },

    async deploy(ctx: Ctx, smoke) {
      const repo = await buildGpuRepository(ctx, 'gcp-vertex', namesOf(ctx).tritonModel);
      return withClients(ctx, options, (clients) => deployVertex(ctx, clients, repo, smoke));
    },

    async connect(ctx: Ctx) {
      const clients = await createVertexClients(ctx.target.region, options);
      const endpoint = await vertexApi(ctx, clients).findEndpoint(namesOf(ctx).parent, namesOf(ctx).base).catch(async (e) => { await clients.close(); throw e; });
      const serving = endpoint?.deployed.find((d) => (endpoint.trafficSplit[d.id] ?? 0) > 0);
      if (!endpoint || !serving) {
        await clients.close();
        throw notDeployed(ctx);
      }
      // The client keeps its gRPC channel for the caller's requests; it is released with the process.
      return { endpoint: endpoint.name, version: versionOf(serving.displayName), client: rawPredictClient(clients.prediction, endpoint.name), details: { deployedModelId: serving.id } };
    },

    async status(ctx: Ctx) {
      return withClients(ctx, options, async (clients) => {
        const endpoint = await vertexApi(ctx, clients).findEndpoint(namesOf(ctx).parent, namesOf(ctx).base);
        if (!endpoint) return { state: 'not-deployed' as const };
        const serving = endpoint.deployed.find((d) => (endpoint.trafficSplit[d.id] ?? 0) > 0);
        if (!serving) return { state: 'stopped' as const, endpoint: endpoint.name, details: { deployedModels: endpoint.deployed.length } };
        return { state: 'running' as const, endpoint: endpoint.name, version: versionOf(serving.displayName), details: { deployedModelId: serving.id, trafficSplit: endpoint.trafficSplit } };
      });
    },

    /** Undeploys everything, deletes both endpoints, the Models and the staged repositories. */
    async destroy(ctx: Ctx) {
      return withClients(ctx, options, async (clients) => {
        const names = namesOf(ctx);
        const api = vertexApi(ctx, clients);
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

export const gcpVertexDriver = createGcpVertexDriver();
