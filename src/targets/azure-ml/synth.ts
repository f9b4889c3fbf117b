/** azure-ml synth: the resource bodies a deploy would send, written to `azure-resources.json` without calling Azure. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildResult } from '../driver.js';
import { repositoryOf, type AzureContext } from './build.js';
import { azureModelUri, azureVersion, endpointBody, planDeployment, planModelVersion } from './plan.js';

/** Values only Azure knows until the deploy reads them (the workspace's region and datastore, the model version's id). */
const WORKSPACE_LOCATION = '(workspace location)';

export async function synthAzure(ctx: AzureContext, build: BuildResult): Promise<BuildResult> {
  const { plan } = ctx;
  const { names } = plan;
  const repo = repositoryOf(build);
  const { specHash, blobPath } = azureVersion(plan, repo.digest);
  const modelUri = azureModelUri({ subscriptionId: plan.subscriptionId, resourceGroup: plan.resourceGroup, workspace: plan.workspace, datastore: '(default datastore)', path: blobPath });
  const spec = {
    endpointName: names.endpoint,
    blobPath,
    model: { name: names.model, version: planModelVersion(names, modelUri, repo.digest) },
    endpoint: endpointBody(plan.endpoint, { location: WORKSPACE_LOCATION, traffic: {} }),
    deployment: planDeployment({
      names, location: WORKSPACE_LOCATION, modelId: `(${names.model} version id)`, target: { instanceType: plan.instanceType, instanceCount: plan.instanceCount }, runtime: plan.runtime, specHash,
    }),
  };
  const file = path.join(ctx.workDir, 'azure-resources.json');
  await mkdir(ctx.workDir, { recursive: true });
  const text = `${JSON.stringify(spec, null, 2)}\n`;
  await writeFile(file, text);
  return { artifacts: [{ kind: 'azure-resources', file, bytes: Buffer.byteLength(text) }], ...(build.outputs === undefined ? {} : { outputs: build.outputs }) };
}
