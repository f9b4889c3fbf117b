// The Lambda emulator's API: run a built function on this machine as Lambda would.
export { startLocalFunction } from './local-function.js';
export { startImageRuntime, type ImageRuntime, type ImageRuntimeOptions } from './image-runtime.js';
export { layoutFunction, type FunctionLayout, type LayoutFunctionOptions } from './layout-function.js';
export { ensureLambdaNode, findLambdaNode, defaultCacheDir, nodePackageName, LAMBDA_NODE_MAJOR, type FindLambdaNodeOptions } from './lambda-node.js';
export { startRuntimeApi, MAX_SYNC_PAYLOAD_BYTES, MAX_RESPONSE_PAYLOAD_BYTES, type RuntimeApi, type RuntimeApiHooks, type RuntimeInvocation, type RuntimeOutcome } from './runtime-api.js';
export { startFunctionUrlServer, parseFunctionName, type FunctionUrlServer, type FunctionUrlServerOptions, type FunctionUrlTarget } from './function-url-server.js';
export { toFunctionUrlEvent, toFunctionUrlResponse, isTextContentType, iamCaller, type FunctionUrlEvent, type IamCaller, type HttpRequestLike, type HttpResponseLike } from './function-url-event.js';
export type { InvokeOptions, InvokeResult, LocalFunction, LocalFunctionSpec, LocalFunctionStats, LocalFunctionWarning, MemoryEnforcement, RuntimeNode } from './types.js';
