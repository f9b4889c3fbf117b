export { startAzureFake, type AzureFake, type AzureFakeOptions } from './start-azure-fake.js';
export { AzureFaults, type HttpFault, type OperationKind } from './faults.js';
export { API_VERSION } from './_arm.js';
export type { AzureState, BlobCopy, BlobObject, BlobUpload, Deployment, Endpoint, ModelVersion, RecordedRequest, Workspace } from './_state.js';
