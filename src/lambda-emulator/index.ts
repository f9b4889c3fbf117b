export { startLocalFunction } from './local-function.js';
export { layoutFunction, type FunctionLayout, type LayoutFunctionOptions } from './layout-function.js';
export { startRuntimeApi, MAX_SYNC_PAYLOAD_BYTES, type RuntimeApi, type RuntimeApiHooks, type RuntimeInvocation, type RuntimeOutcome } from './runtime-api.js';
export { startFunctionUrlServer, parseFunctionName, type FunctionUrlServer, type FunctionUrlTarget } from './function-url-server.js';
export { toFunctionUrlEvent, toFunctionUrlResponse, isTextContentType, type FunctionUrlEvent, type HttpRequestLike, type HttpResponseLike } from './function-url-event.js';
export {
  startDetached, findDeployment, listDeployments, stopDeployment, renameDeployment,
  type DeploymentRecord, type DeploymentStatus, type DetachedSpec,
} from './deployments.js';
export type { InvokeOptions, InvokeResult, LocalFunction, LocalFunctionSpec, LocalFunctionStats } from './types.js';
