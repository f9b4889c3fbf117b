import type { ServedRepository } from '../vertex/serve-repository.js';
import type { AzureFaults } from './faults.js';

export interface Workspace {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  location: string;
  /** The default datastore's blob container. */
  container: string;
}

export interface ModelVersion {
  id: string;
  name: string;
  version: string;
  properties: Record<string, any>;
}

export interface Endpoint {
  id: string;
  name: string;
  location: string;
  identity?: { type: string };
  tags: Record<string, string>;
  properties: Record<string, any> & { authMode: string; traffic: Record<string, number>; provisioningState: string; scoringUri: string };
  keys: { primaryKey: string; secondaryKey: string };
}

export interface Deployment {
  id: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  sku?: Record<string, any>;
  properties: Record<string, any> & { provisioningState: string };
  /** The Node runtime standing in for Triton on the deployment's instances. */
  server?: ServedRepository;
  /** What the deployment's containers printed, each line starting with its time (ISO 8601), as `getLogs` answers them. */
  logs: Record<ContainerType, string[]>;
}

/** The containers of an online deployment whose logs `getLogs` reads (KnownContainerType in @azure/arm-machinelearning). */
export type ContainerType = 'StorageInitializer' | 'InferenceServer';

export interface Operation {
  id: string;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  error?: { code: string; message: string };
}

export interface BlobObject {
  data: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  /** User-defined metadata (`x-ms-meta-*`). @default - none */
  metadata?: Record<string, string>;
}

/** A blob written with its bytes sent by the client (Put Blob). */
export interface BlobUpload { container: string; name: string; bytes: number }
/** A blob written by the service from another blob (Copy Blob From URL / Copy Blob): no bytes came from the client. */
export interface BlobCopy { from: string; container: string; name: string; bytes: number; sync: boolean }

/** One request the fake answered. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Whether an Authorization header came with it (its value is never kept). */
  authorized: boolean;
  status?: number;
  /** For scoring requests: the `azureml-model-deployment` header, and the deployment that answered. */
  deploymentHeader?: string;
  servedBy?: string;
  body?: unknown;
}

export interface AzureState {
  readonly workspaces: Workspace[];
  readonly models: Map<string, { versions: Map<string, ModelVersion>; properties: Record<string, any> }>;
  readonly endpoints: Map<string, Endpoint>;
  readonly deployments: Map<string, Map<string, Deployment>>;
  readonly operations: Map<string, Operation>;
  /** Blob storage: `<account>/<container>` → blob name → object. */
  readonly blobs: Map<string, Map<string, BlobObject>>;
  /** Every Put Blob, in order (`<account>/<container>` and the blob's name). */
  readonly blobUploads: BlobUpload[];
  /** Every server-side copy into a blob, in order. */
  readonly blobCopies: BlobCopy[];
  /** Tokens issued by `onlineEndpoints/token` (aml_token endpoints). */
  readonly issuedTokens: Map<string, string>;
}

export interface FakeContext {
  state: AzureState;
  faults: AzureFaults;
  /** `https://127.0.0.1:<port>` */
  origin: () => string;
  account: string;
  scratchDir: string;
  operationDelayMs: number;
  internalErrors: Error[];
}
