import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { ConfigProblem } from '../../config/format-issues.js';
import type { TargetContext, LegacyTargetDriver } from '../driver.js';
import { buildGpuRepository } from '../../kits/triton/build-gpu-repository.js';
import { planTritonConfig } from '../../kits/triton/index.js';
import { createAzureClients, type AzureConnectionOptions } from './_clients.js';
import { defaultDatastore, deleteUploads } from './_upload.js';
import { azureApi, deployAzure, endpointClient, errorContext, namesOf, runtimeOf } from './deploy-azure.js';
import { azureBlobPrefix, azureModelUri, azureSpecHash, planDeployment, planEndpoint, planModelVersion } from './plan.js';
import type { AzureMlTargetConfig } from './schema.js';
import { tritonOptionsOf } from './triton-options-of.js';

type Ctx = TargetContext<AzureMlTargetConfig>;

function notDeployed(ctx: Ctx): DeployModelError {
  return new DeployModelError('NOT_DEPLOYED', `Target '${ctx.targetName}' (stage ${ctx.loaded.stage}) has no deployment taking traffic on online endpoint ${namesOf(ctx).endpoint} (workspace ${ctx.target.workspace}). Run \`deploy-model deploy --target ${ctx.targetName}\` first.`,
    { details: { target: ctx.targetName } });
}

/**
 * The `azure-ml` driver. `options` choose the credentials and endpoints (see
 * AzureConnectionOptions); the registered driver uses the defaults and environment variables.
 */
export function createAzureMlDriver(options: AzureConnectionOptions = {}): LegacyTargetDriver<AzureMlTargetConfig> {
  const build = (ctx: Ctx) => buildGpuRepository({ ...ctx, target: tritonOptionsOf(ctx.target) }, 'azure-ml', namesOf(ctx).tritonModel);
  return {
    type: 'azure-ml',

    async validate(ctx: Ctx): Promise<ConfigProblem[]> {
      try {
        planTritonConfig({ signature: ctx.signature, modelName: namesOf(ctx).tritonModel, host: 'azure-ml', batching: ctx.config.model.batching, inputShapes: ctx.config.model.inputs, options: tritonOptionsOf(ctx.target) });
        return [];
      } catch (e) {
        if (!(e instanceof DeployModelError)) throw e;
        return [{ path: `targets.${ctx.targetName}`, value: ctx.target.engine, rule: e.message, fix: 'change the model options or the Triton options as the message says' }];
      }
    },

    async build(ctx: Ctx) {
      const repo = await build(ctx);
      return { artifacts: repo.files.map((f) => ({ kind: 'triton-repository', file: path.join(repo.root, ...f.path.split('/')), bytes: f.bytes, sha256: f.sha256 })) };
    },

    /** Writes the resource bodies a deploy would send (`azure-resources.json`), without calling Azure. */
    async synth(ctx: Ctx) {
      const repo = await build(ctx);
      const names = namesOf(ctx);
      const { target } = ctx;
      const runtime = runtimeOf(ctx);
      const specHash = azureSpecHash({ repositoryDigest: repo.digest, instanceType: target.instanceType, instanceCount: target.instanceCount, runtime });
      const blobPath = azureBlobPrefix(names, repo.digest);
      const modelUri = azureModelUri({ subscriptionId: target.subscriptionId, resourceGroup: target.resourceGroup, workspace: target.workspace, datastore: '(default datastore)', path: blobPath });
      const spec = {
        endpointName: names.endpoint,
        blobPath,
        model: { name: names.model, version: planModelVersion(names, modelUri, repo.digest) },
        endpoint: planEndpoint({ names, location: '(workspace location)', authMode: target.authMode, traffic: {} }),
        deployment: planDeployment({ names, location: '(workspace location)', modelId: `(${names.model} version id)`, target, runtime, specHash }),
      };
      const file = path.join(ctx.workDir, 'azure-resources.json');
      await mkdir(ctx.workDir, { recursive: true });
      const text = `${JSON.stringify(spec, null, 2)}\n`;
      await writeFile(file, text);
      return { artifacts: [{ kind: 'azure-resources', file, bytes: Buffer.byteLength(text) }] };
    },

    async deploy(ctx: Ctx, smoke) {
      const repo = await build(ctx);
      const clients = await createAzureClients(ctx.target.subscriptionId, options);
      return deployAzure(ctx, clients, repo, smoke);
    },

    async connect(ctx: Ctx) {
      const clients = await createAzureClients(ctx.target.subscriptionId, options);
      const api = azureApi(ctx, clients);
      const endpoint = await api.findEndpoint(namesOf(ctx).endpoint);
      const live = endpoint && Object.entries(endpoint.traffic).find(([, share]) => share > 0)?.[0];
      if (!endpoint || !live) throw notDeployed(ctx);
      const deployment = (await api.listDeployments(endpoint.name)).find((d) => d.name === live);
      return { endpoint: endpoint.scoringUri, version: deployment?.spec, client: endpointClient(ctx, api, clients, endpoint), details: { deployment: live } };
    },

    async status(ctx: Ctx) {
      const clients = await createAzureClients(ctx.target.subscriptionId, options);
      const api = azureApi(ctx, clients);
      const endpoint = await api.findEndpoint(namesOf(ctx).endpoint);
      if (!endpoint) return { state: 'not-deployed' };
      const deployments = await api.listDeployments(endpoint.name);
      const live = deployments.find((d) => (endpoint.traffic[d.name] ?? 0) > 0);
      const details = { traffic: endpoint.traffic, deployments: deployments.map((d) => ({ name: d.name, state: d.provisioningState })) };
      if (!live) return { state: endpoint.provisioningState === 'Failed' ? 'failed' : 'stopped', endpoint: endpoint.scoringUri, details };
      const state = live.provisioningState === 'Succeeded' ? 'running' : live.provisioningState === 'Failed' ? 'failed' : 'creating';
      return { state, endpoint: endpoint.scoringUri, version: live.spec, details };
    },

    /** Deletes the endpoint (with its deployments), the registered model versions and the uploaded repositories. */
    async destroy(ctx: Ctx) {
      const clients = await createAzureClients(ctx.target.subscriptionId, options);
      const api = azureApi(ctx, clients);
      const names = namesOf(ctx);
      let removed = false;
      if (await api.findEndpoint(names.endpoint)) {
        ctx.io.info('DM_AZURE_ENDPOINT_DELETE', `Deleting online endpoint ${names.endpoint} and its deployments`);
        await api.deleteEndpoint(names.endpoint);
        removed = true;
      }
      const versions = await api.deleteModel(names.model);
      if (versions > 0) ctx.io.info('DM_AZURE_MODEL_DELETE', `Deleted ${versions} version(s) of model ${names.model}`);
      const datastore = await defaultDatastore(clients, errorContext(ctx));
      const blobs = await deleteUploads(clients, datastore, names.blobRoot, errorContext(ctx));
      if (blobs > 0) ctx.io.info('DM_AZURE_UPLOADS_DELETED', `Deleted ${blobs} uploaded file(s) under ${names.blobRoot}`);
      return { removed: removed || versions > 0 || blobs > 0 };
    },
  };
}

export const azureMlDriver = createAzureMlDriver();
