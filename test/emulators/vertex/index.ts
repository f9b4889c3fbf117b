export { startVertexFake, type RecordedRpc, type VertexFake, type VertexFakeOptions } from './start-vertex-fake.js';
export { VertexFaults, type RpcFault } from './faults.js';
export { serveRepository, type ServedRepository, type ServeRepositoryOptions } from './serve-repository.js';
export type { FakeDeployedModel, FakeEndpoint, FakeModel, VertexState } from './_services.js';
export type { GcsCopy, GcsFake, GcsFault, GcsObject, GcsUpload } from './_gcs.js';
export { startTritonStandIn, type TritonListener, type TritonProcess, type TritonStandInOptions } from './triton-stand-in.js';
export type { RunningModel } from './_start-deployed-container.js';
export type { ContainerRun } from './_run-model-container.js';
