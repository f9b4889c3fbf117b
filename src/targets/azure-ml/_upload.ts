/** The Triton repository in the workspace's default datastore: content-addressed upload, and deletion on destroy. */
import path from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import type { IoHelper } from '../../io/io-host.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import type { AzureClients } from './_clients.js';
import { azureError, type AzureErrorContext } from './_operations.js';

export interface DefaultDatastore {
  name: string;
  /** The blob container URL the datastore points at. */
  containerUrl: string;
}

/** The workspace's default datastore (normally `workspaceblobstore`) and its container URL. */
export async function defaultDatastore(clients: AzureClients, ctx: AzureErrorContext): Promise<DefaultDatastore> {
  const found: Array<{ name?: string; properties: Record<string, any> }> = [];
  try {
    for await (const d of clients.ml.datastores.list(ctx.resourceGroup, ctx.workspace, { isDefault: true })) found.push(d as never);
  } catch (e) {
    throw azureError(e, `Reading the default datastore of workspace ${ctx.workspace}`, ctx);
  }
  const store = found.find((d) => d.properties.datastoreType === 'AzureBlob' && d.properties.isDefault !== false);
  if (!store) {
    throw azureError({ message: `workspace ${ctx.workspace} has no default Azure Blob datastore; set one with \`az ml datastore update\` or recreate workspaceblobstore` }, 'Finding the default datastore', ctx);
  }
  const p = store.properties;
  const service = clients.blobEndpoint?.replace(/\/+$/, '') ?? `${p.protocol ?? 'https'}://${p.accountName}.blob.${p.endpoint ?? 'core.windows.net'}`;
  return { name: store.name ?? 'workspaceblobstore', containerUrl: `${service}/${p.containerName}` };
}

async function existingBlobs(container: ContainerClient, prefix: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const blob of container.listBlobsFlat({ prefix: `${prefix}/` })) out.set(blob.name, blob.properties.contentLength ?? -1);
  return out;
}

/** Uploads the repository under `prefix` (content-addressed: files already there with the same size are skipped); returns how many were sent. */
export async function uploadRepository(clients: AzureClients, datastore: DefaultDatastore, repo: BuiltRepository, prefix: string, io: IoHelper, ctx: AzureErrorContext): Promise<number> {
  const container = clients.containerClient(datastore.containerUrl);
  let sent = 0;
  try {
    const existing = await existingBlobs(container, prefix);
    for (const file of repo.files) {
      const name = `${prefix}/${file.path}`;
      if (existing.get(name) === file.bytes) continue;
      await container.getBlockBlobClient(name).uploadFile(path.join(repo.root, ...file.path.split('/')));
      sent++;
    }
  } catch (e) {
    throw azureError(e, `Uploading the model repository to datastore ${datastore.name} (${prefix})`, ctx);
  }
  io.info('DM_AZURE_UPLOADED', sent === 0
    ? `The model repository is already in datastore ${datastore.name} at ${prefix}`
    : `Uploaded ${sent} file(s) of the model repository to datastore ${datastore.name} at ${prefix}`, { datastore: datastore.name, prefix, files: repo.files.length, sent });
  return sent;
}

/** Deletes every blob under the target's folder; returns how many. */
export async function deleteUploads(clients: AzureClients, datastore: DefaultDatastore, root: string, ctx: AzureErrorContext): Promise<number> {
  const container = clients.containerClient(datastore.containerUrl);
  try {
    const blobs = await existingBlobs(container, root);
    for (const name of blobs.keys()) await container.deleteBlob(name, { deleteSnapshots: 'include' });
    return blobs.size;
  } catch (e) {
    throw azureError(e, `Deleting ${root} from datastore ${datastore.name}`, ctx);
  }
}
