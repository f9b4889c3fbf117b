/** The Azure ML and Blob Storage clients, and how they reach Azure (credentials, endpoints, CA, polling). */
import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/identity';
import type { AzureMachineLearningWorkspaces } from '@azure/arm-machinelearning';
import type { ContainerClient } from '@azure/storage-blob';
import { DeployModelError } from '../../errors.js';

/**
 * How the Azure ML driver reaches Azure. Everything is optional: by default Azure Resource Manager
 * and the workspace's storage account are used with DefaultAzureCredential. Each option also has
 * an environment variable, so the CLI can be pointed elsewhere (a proxy, a test fake).
 */
export interface AzureConnectionOptions {
  /**
   * Credentials for Resource Manager and Blob Storage.
   * @default - a fixed token from `DEPLOY_MODEL_AZURE_ACCESS_TOKEN` when set (used for every
   * scope), else DefaultAzureCredential (`az login`, environment, managed identity...)
   */
  credential?: TokenCredential;
  /**
   * Azure Resource Manager base URL.
   * @default - `DEPLOY_MODEL_AZURE_ARM_ENDPOINT`, else https://management.azure.com
   */
  armEndpoint?: string;
  /**
   * Blob service URL of the workspace's default datastore, in place of
   * `https://<account>.blob.<suffix>` (an IP host takes the account as its first path segment).
   * @default - `DEPLOY_MODEL_AZURE_BLOB_ENDPOINT`, else derived from the datastore
   */
  blobEndpoint?: string;
  /**
   * Extra trusted certificate authority (PEM) for every HTTPS call.
   * @default - the file named by `DEPLOY_MODEL_AZURE_CA_FILE`, else the system's
   */
  ca?: string;
  /**
   * How often long-running operations are polled, in milliseconds (Azure's Retry-After wins).
   * @default - `DEPLOY_MODEL_OPERATION_POLL_MS`, else 10000
   */
  pollIntervalMs?: number;
  /**
   * First wait before Blob Storage retries a failed upload (429, 5xx, a dropped connection); it
   * grows exponentially over its 4 tries, to at most 120 s.
   * @default - `DEPLOY_MODEL_RETRY_DELAY_MS`, else 4000 (the storage SDK's own)
   */
  retryDelayMs?: number;
}

export interface AzureClients {
  ml: AzureMachineLearningWorkspaces;
  credential: TokenCredential;
  ca?: string;
  pollIntervalMs: number;
  blobEndpoint?: string;
  containerClient(url: string): ContainerClient;
}

const ARM_SCOPE = 'https://management.azure.com/.default';

function fixedToken(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 }) };
}

/** DefaultAzureCredential, or a fixed token; fails with the fix when no credential gives a token. */
export async function azureCredential(options: AzureConnectionOptions): Promise<TokenCredential> {
  if (options.credential) return options.credential;
  const token = process.env.DEPLOY_MODEL_AZURE_ACCESS_TOKEN;
  if (token) return fixedToken(token);
  const { DefaultAzureCredential } = await import('@azure/identity');
  const credential = new DefaultAzureCredential();
  try {
    // Fails here, before anything is uploaded, when no credential in the chain works.
    await credential.getToken(ARM_SCOPE);
  } catch (e) {
    throw new DeployModelError('AZURE_CREDENTIALS_MISSING',
      `No usable Azure credentials (${(e as Error).message.split('\n')[0]}). Run \`az login\` (and \`az account set --subscription <subscriptionId>\`), or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal.`,
      { cause: e });
  }
  return credential;
}

export async function createAzureClients(subscriptionId: string, options: AzureConnectionOptions = {}): Promise<AzureClients> {
  const armEndpoint = (options.armEndpoint ?? process.env.DEPLOY_MODEL_AZURE_ARM_ENDPOINT ?? 'https://management.azure.com').replace(/\/+$/, '');
  const caFile = process.env.DEPLOY_MODEL_AZURE_CA_FILE;
  const ca = options.ca ?? (caFile ? readFileSync(caFile, 'utf8') : undefined);
  const credential = await azureCredential(options);
  const [{ AzureMachineLearningWorkspaces }, { ContainerClient }] = await Promise.all([import('@azure/arm-machinelearning'), import('@azure/storage-blob')]);
  const tls = ca ? { tlsOptions: { ca } } : {};
  // `endpoint` (not `$host` alone, which still sends to the public host) and the ARM scope.
  const ml = new AzureMachineLearningWorkspaces(credential, subscriptionId, {
    endpoint: armEndpoint, $host: armEndpoint, credentialScopes: [ARM_SCOPE], ...tls,
  });
  const blobEndpoint = options.blobEndpoint ?? process.env.DEPLOY_MODEL_AZURE_BLOB_ENDPOINT;
  const retryDelayInMs = options.retryDelayMs ?? (Number(process.env.DEPLOY_MODEL_RETRY_DELAY_MS) || undefined);
  const blobOptions = { ...tls, ...(retryDelayInMs ? { retryOptions: { retryDelayInMs } } : {}) };
  return {
    ml, credential, ca, blobEndpoint,
    pollIntervalMs: options.pollIntervalMs ?? (Number(process.env.DEPLOY_MODEL_OPERATION_POLL_MS) || 10_000),
    // StoragePipelineOptions does not declare tlsOptions, but hands it to core-rest-pipeline, which honours it.
    containerClient: (url) => new ContainerClient(url, credential, blobOptions as object),
  };
}
