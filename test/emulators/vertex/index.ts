export { startVertexFake, type RecordedRpc, type VertexFake, type VertexFakeOptions } from './start-vertex-fake.js';
export { VertexFaults, type RpcFault } from './faults.js';
export { serveRepository, type ServedRepository, type ServeRepositoryOptions } from './serve-repository.js';
export type { FakeDeployedModel, FakeEndpoint, FakeModel, VertexState } from './_services.js';
export type { GcsFake, GcsObject } from './_gcs.js';
