// The `deploy-model` entry point: the config API, the types and the programmatic toolkit.
export { defineConfig } from './config/define-config.js';
export type { ConfigEnv, UserConfig, TargetInput, UserConfigExport, UserConfigFn } from './config/define-config.js';
export type {
  LocalTargetInput, AwsLambdaTargetInput, AwsSageMakerTargetInput, GcpVertexTargetInput, AzureMlTargetInput, ContainerTargetInput,
  WebTargetInput, ReactNativeTargetInput,
} from './config/config-types.js';
export { configSchema, KNOWN_TARGET_TYPES } from './config/schema.js';
export type { Config, TargetConfig, TargetConfigOf, TargetType, SmokeConfig, ModelConfig, RuntimeConfig, ProjectConfig } from './config/schema.js';
export type { LocalTargetConfig } from './targets/local/schema.js';
export type { AwsLambdaTargetConfig } from './targets/aws-lambda/schema.js';
export type { AwsSageMakerTargetConfig } from './targets/aws-sagemaker/schema.js';
export type { GcpVertexTargetConfig } from './targets/gcp-vertex/schema.js';
export type { AzureMlTargetConfig } from './targets/azure-ml/schema.js';
export type { ContainerTargetConfig } from './targets/container/schema.js';
export type { WebTargetConfig } from './targets/web/schema.js';
export type { ReactNativeTargetConfig } from './targets/react-native/schema.js';
export type { TargetDriver, TargetContext, DeployResult, TargetStatus } from './targets/driver.js';
export { loadConfig, findConfigFile, validateConfig, CONFIG_FILE_NAMES } from './config/load-config.js';
export type { LoadConfigOptions, LoadedConfig } from './config/load-config.js';
export { configJsonSchema } from './config/json-schema.js';
export { inspectModel, servabilityProblems } from './model/inspect-model.js';
export type { ModelSignature, TensorSpec, Dtype, Dim } from './model/types.js';
export { resolveShape } from './model/resolve-shape.js';
export { Toolkit } from './toolkit/toolkit.js';
export type { ToolkitOptions, Project, DeployReport, TargetReport } from './toolkit/toolkit.js';
export { DeployModelError, isDeployModelError, EXIT } from './errors.js';
export { IoHelper, RecordingIoHost, silentIoHost } from './io/io-host.js';
export type { IoHost, IoMessage, IoLevel } from './io/io-host.js';
export { runSmoke } from './smoke/run-smoke.js';
export type { SmokeResult, SmokeCheck, SmokeReference, InferenceClient, InferenceCall } from './smoke/run-smoke.js';
export { generateSmokeRequest } from './smoke/smoke-input.js';
export type { V2Request, V2Tensor } from './smoke/smoke-input.js';
