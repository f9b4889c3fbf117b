/** Reads model blobs from Azure Blob Storage with DefaultAzureCredential (DEPLOY_MODEL_AZURE_BLOB_ENDPOINT honoured). */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/identity';
import { storeError, type ObjectInfo, type ObjectStore } from './_object-store.js';

const CREDENTIALS_FIX = 'Run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal, or DEPLOY_MODEL_AZURE_ACCESS_TOKEN to a storage access token.';
const STORAGE_SCOPE = 'https://storage.azure.com/.default';

function blobFailure(e: unknown, url: string): Error {
  const err = e as { statusCode?: number; code?: string; message?: string };
  const reason = `${err.code ?? 'Error'}: ${String(err.message ?? e).split('\n')[0]}`.slice(0, 300);
  if (err.statusCode === 404) return storeError('not-found', url, reason, 'Upload the model there (az storage blob upload --auth-mode login), or fix model.path.', e);
  if (err.statusCode === 401 || err.statusCode === 403) return storeError('denied', url, reason, 'Give the deploying identity the Storage Blob Data Reader role on the container.', e);
  return e instanceof Error ? e : new Error(String(e));
}

async function credential(url: string): Promise<TokenCredential> {
  const token = process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN;
  if (token) return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const { DefaultAzureCredential } = await import('@azure/identity');
  const chain = new DefaultAzureCredential();
  try {
    await chain.getToken(STORAGE_SCOPE);
  } catch (e) {
    throw storeError('credentials', url, String((e as Error).message).split('\n')[0]!, CREDENTIALS_FIX, e);
  }
  return chain;
}

/**
 * One container. The blob service is `https://<host>`, or DEPLOY_MODEL_AZURE_BLOB_ENDPOINT (a proxy,
 * an emulator), with DEPLOY_MODEL_AZURE_CA_FILE as an extra trusted CA.
 */
export async function blobStore(host: string, container: string): Promise<ObjectStore> {
  const service = (process.env.DEPLOY_MODEL_AZURE_BLOB_ENDPOINT ?? `https://${host}`).replace(/\/+$/, '');
  const urlOf = (key: string) => `https://${host}/${container}/${key}`;
  const cred = await credential(urlOf(''));
  const { ContainerClient } = await import('@azure/storage-blob');
  const caFile = process.env.DEPLOY_MODEL_AZURE_CA_FILE;
  // StoragePipelineOptions does not declare tlsOptions, but hands it to core-rest-pipeline, which honours it.
  const options = caFile ? { tlsOptions: { ca: readFileSync(caFile, 'utf8') } } : {};
  const client = new ContainerClient(`${service}/${container}`, cred, options as object);
  return {
    urlOf,
    async head(key): Promise<ObjectInfo> {
      try {
        const props = await client.getBlobClient(key).getProperties();
        return { bytes: props.contentLength ?? 0, ...(props.etag ? { etag: props.etag } : {}) };
      } catch (e) {
        throw blobFailure(e, urlOf(key));
      }
    },
    async read(key) {
      try {
        const out = await client.getBlobClient(key).download();
        return out.readableStreamBody as Readable;
      } catch (e) {
        throw blobFailure(e, urlOf(key));
      }
    },
  };
}
