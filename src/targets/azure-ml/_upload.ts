/** The Triton repository in the workspace's default datastore: content-addressed upload (model files copied server-side from an Azure Blob model.path), and deletion on destroy. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import type { RepositorySource } from '../../kits/triton/repository-sources.js';
import type { AzureClients } from './_clients.js';
import { azureError, type AzureErrorContext } from './_operations.js';

/** The coded error for a source object of model.path that cannot be read for the copy. */
function sourceUnreadable(failure: 'not-found' | 'denied', url: string, reason: string, fix: string, cause: unknown): DeployModelError {
  return failure === 'not-found'
    ? new DeployModelError('MODEL_URL_NOT_FOUND', `model.path's object ${url} does not exist (${reason}). ${fix}`, { cause, details: { url, reason } })
    : new DeployModelError('MODEL_URL_ACCESS_DENIED', `Reading model.path's object ${url} for the copy was refused (${reason}). ${fix}`, { cause, details: { url, reason } });
}

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

/** model.path when it is an Azure Blob URL: the repository's model files are copied from it inside Blob Storage. */
export interface BlobModelSource {
  /** model.path, for messages. */
  url: string;
  /** The container's URL as this machine reaches it (DEPLOY_MODEL_AZURE_BLOB_ENDPOINT honoured). */
  containerUrl: string;
  /** The repository files that are copies of blobs in that container (`repositorySources`). */
  files: RepositorySource[];
}

/** Copy Blob From URL takes sources up to 256 MiB (https://learn.microsoft.com/rest/api/storageservices/copy-blob-from-url); larger files are uploaded. */
const SYNC_COPY_LIMIT = 256 * 1024 * 1024;
const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/** A source blob checked to hold the cached copy's bytes: its URL, ETag and the MD5 the copy must arrive with. */
interface VerifiedSource extends RepositorySource { sourceUrl: string; etag?: string; md5: Buffer }

async function md5Of(file: string): Promise<Buffer> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest();
}

function mismatch(source: BlobModelSource, blobUrl: string, f: RepositorySource, kind: string, theirs: string, ours: string): DeployModelError {
  return new DeployModelError('MODEL_SHA256_MISMATCH',
    `model.path ${source.url}: the blob ${blobUrl} is not the one the model's signature was read from (its ${kind} is ${theirs}; the cached copy, sha256 ${f.sha256}, has ${ours}). It was replaced after its sha256 was recorded; nothing was deployed. If the new blob is intended, set model.sha256 to its sha256 (or delete deploy-model's cache record of it, remote-models/urls) and deploy again; else restore the blob.`,
    { details: { url: blobUrl, expected: f.sha256, checksum: kind, object: theirs, cached: ours } });
}

/**
 * Checks each source blob against the repository's file: a sha256 in its metadata (`sha256`),
 * else its Content-MD5, else its size (a blob written in blocks has no Content-MD5; the copy then
 * still carries the cached copy's MD5 as x-ms-source-content-md5, which the service checks).
 */
async function verifySources(clients: AzureClients, repo: BuiltRepository, source: BlobModelSource, files: RepositorySource[]): Promise<VerifiedSource[]> {
  const container = clients.containerClient(source.containerUrl);
  const verified: VerifiedSource[] = [];
  for (const f of files) {
    const blob = container.getBlobClient(f.key);
    let props;
    try {
      props = await blob.getProperties();
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      const reason = String((e as Error).message).split('\n')[0]!.slice(0, 300);
      if (status === 404) throw sourceUnreadable('not-found', blob.url, reason, 'Upload the model there again (az storage blob upload --auth-mode login), or fix model.path.', e);
      if (status === 403) throw sourceUnreadable('denied', blob.url, reason, 'Give the deploying identity the Storage Blob Data Reader role on the container: the model is copied from it inside Blob Storage.', e);
      throw e;
    }
    const md5 = await md5Of(path.join(repo.root, ...f.path.split('/')));
    const pinned = props.metadata?.sha256;
    if (pinned && pinned !== f.sha256) throw mismatch(source, blob.url, f, 'sha256', pinned, f.sha256);
    if (!pinned && props.contentMD5 && !Buffer.from(props.contentMD5).equals(md5)) throw mismatch(source, blob.url, f, 'Content-MD5', Buffer.from(props.contentMD5).toString('base64'), md5.toString('base64'));
    if (props.contentLength !== undefined && props.contentLength !== f.bytes) throw mismatch(source, blob.url, f, 'size', `${props.contentLength} bytes`, `${f.bytes} bytes`);
    verified.push({ ...f, sourceUrl: blob.url, md5, ...(props.etag ? { etag: props.etag } : {}) });
  }
  return verified;
}

/**
 * Puts the repository under `prefix` in the datastore, content-addressed: files already there with
 * the same size are skipped. When model.path is an Azure Blob URL (`source`), the model and its
 * external data (up to 256 MiB each) are copied from it by Blob Storage (Copy Blob From URL, the
 * source read with the same identity's bearer token, pinned to the ETag checked and to the cached
 * copy's MD5) after checking it still holds the cached copy's bytes; the other files are uploaded.
 * Returns how many files were written (uploaded or copied).
 */
export async function uploadRepository(clients: AzureClients, datastore: DefaultDatastore, repo: BuiltRepository, prefix: string, io: IoHelper, ctx: AzureErrorContext, source?: BlobModelSource): Promise<number> {
  const container = clients.containerClient(datastore.containerUrl);
  let pending: BuiltRepository['files'];
  try {
    const existing = await existingBlobs(container, prefix);
    pending = repo.files.filter((file) => existing.get(`${prefix}/${file.path}`) !== file.bytes);
  } catch (e) {
    throw azureError(e, `Listing the model repository in datastore ${datastore.name} (${prefix})`, ctx);
  }
  // Every source is checked before anything is written.
  const copyable = source?.files.filter((s) => s.bytes <= SYNC_COPY_LIMIT && pending.some((p) => p.path === s.path)) ?? [];
  let copies = new Map<string, VerifiedSource>();
  let token: string | undefined;
  if (source && copyable.length) {
    try {
      copies = new Map((await verifySources(clients, repo, source, copyable)).map((v) => [v.path, v]));
      token = (await clients.credential.getToken(STORAGE_SCOPE))?.token;
    } catch (e) {
      throw azureError(e, `Reading model.path ${source.url} to copy it into datastore ${datastore.name}`, ctx);
    }
  }
  let uploaded = 0;
  for (const file of pending) {
    const name = `${prefix}/${file.path}`;
    const from = copies.get(file.path);
    try {
      if (from) {
        await container.getBlockBlobClient(name).syncCopyFromURL(from.sourceUrl, {
          ...(token ? { sourceAuthorization: { scheme: 'Bearer', value: token } } : {}),
          ...(from.etag ? { sourceConditions: { ifMatch: from.etag } } : {}),
          sourceContentMD5: from.md5,
        });
      } else {
        await container.getBlockBlobClient(name).uploadFile(path.join(repo.root, ...file.path.split('/')));
        uploaded++;
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      // The source changed between the check and the copy (another ETag, other bytes).
      if (from && (code === 'SourceConditionNotMet' || code === 'Md5Mismatch')) {
        throw mismatch(source!, from.sourceUrl, from, code === 'Md5Mismatch' ? 'MD5 as Blob Storage read it' : 'ETag', code === 'Md5Mismatch' ? 'another' : `not ${from.etag}`, from.md5.toString('base64'));
      }
      throw azureError(e, from ? `Copying ${from.sourceUrl} into datastore ${datastore.name} (${name})` : `Uploading the model repository to datastore ${datastore.name} (${prefix})`, ctx);
    }
  }
  const copied = pending.length - uploaded;
  io.info('DM_AZURE_UPLOADED', pending.length === 0
    ? `The model repository is already in datastore ${datastore.name} at ${prefix}`
    : `Uploaded ${uploaded} file(s) of the model repository to datastore ${datastore.name} at ${prefix}${copied ? `, and copied ${copied} from ${source!.url} inside Blob Storage` : ''}`,
  { datastore: datastore.name, prefix, files: repo.files.length, sent: pending.length, uploaded, copied });
  return pending.length;
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
