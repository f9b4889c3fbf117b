/** `deploy-model/runtime`: the serving runtime, for custom hosts and for tests. */
export { createInferenceCore } from './core/create-inference-core.js';
export { InferenceError, isInferenceError, toInferenceError } from './core/inference-error.js';
export type { InferenceErrorBody, InferenceErrorStatus } from './core/inference-error.js';
export { decodeInferenceRequest, encodeOutputTensor } from './core/codec.js';
export { decodeBase64Tensor, encodeBase64Tensor } from './core/base64.js';
export { fromFloat16Bits, toFloat16Bits } from './core/float16.js';
export { elementCount, flattenNested, inferShape, unflatten } from './core/nested.js';
export { instancesToRequest, isInstancesRequest, toPredictions } from './core/instances.js';
export type { InstancesPlan } from './core/instances.js';
export { modelMetadata } from './core/metadata.js';
export { predict } from './core/predict.js';
export type {
  DecodedRequest, DecodedTensor, InferenceCore, InferenceCoreOptions, OutputEncoding, TensorData,
  V2InferenceRequest, V2InferenceResponse, V2ModelMetadata, V2RequestOutput, V2RequestTensor, V2ResponseTensor,
  V2TensorData, V2TensorMetadata,
} from './core/types.js';
export { createLambdaHandler, LAMBDA_PAYLOAD_LIMIT } from './lambda/create-lambda-handler.js';
export type { LambdaHandler, LambdaHandlerOptions, LambdaHttpResult } from './lambda/create-lambda-handler.js';
export { createServer, DEFAULT_MAX_BODY_BYTES, startServer } from './server/create-server.js';
export type { RuntimeServer, ServerOptions, StartedServer, StartServerOptions } from './server/create-server.js';
export { createCoreFromEnv, loadSignature, readRuntimeConfig } from './runtime-config.js';
export type { RuntimeConfig } from './runtime-config.js';
export { createWorkerPool, DEFAULT_MAX_QUEUE } from './pool/create-worker-pool.js';
export { cpuBudget, poolSize } from './pool/pool-size.js';
export type { PoolSize } from './pool/pool-size.js';
export { batchingProblem } from './pool/batching.js';
export type { BatchingOptions } from './pool/batching.js';
export { OverloadedError, isOverloadedError } from './pool/overloaded-error.js';
export type { PoolStats, RawInferenceResult, RawOutput, TimedCount, WorkerPool, WorkerPoolOptions } from './pool/types.js';
export { binaryOutputs, INFERENCE_HEADER_CONTENT_LENGTH, parseBinaryRequest } from './server/binary.js';
export { createServingCoreFromEnv } from './create-serving-core-from-env.js';
export { servingEnv } from './serving-env.js';
export type { ServingEnvInput } from './serving-env.js';
