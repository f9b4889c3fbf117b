// The container target: an OCI image serving the model, its builders, and Kubernetes/KServe manifests.
export { containerTargetSchema, CONTAINER_BUILDERS, CONTAINER_CONTRACTS } from './schema.js';
export type { ContainerTargetConfig, ContainerTargetInput, ContainerContract, ContainerBuilderName } from './schema.js';
export { renderDockerfile, renderHealthcheck, imageEnv, IMAGE_LAYOUT, CONTAINER_UID, CONTRACT_HEALTH_ROUTE } from './dockerfile.js';
export type { DockerfileInput } from './dockerfile.js';
export { planBuildContext, writeBuildContext, PLATFORM } from './build-context.js';
export type { BuildContextInput, BuildContextPlan, ContextFile, WrittenBuildContext } from './build-context.js';
export { createBuildContext, resolveServerEntry } from './create-build-context.js';
export type { CreateBuildContextOptions } from './create-build-context.js';
export {
  detectBuilder, probeBuilder, isLoopbackRegistry, planBuild, planPush, planPull, planLogin, planRemoveImage, planImageSize, parseImageSize,
  planRun, planStop, planRemoveContainer, planContainerState, planLogs,
} from './builders.js';
export type { Builder, BuilderProbe, Platform, DetectBuilderOptions, BuildCommandInput, RunCommandInput } from './builders.js';
export { planImageRefs, buildImage, imageSize, pushImage, pullImage, removeImage, loginRegistry } from './image.js';
export type { ImageRefs, BuildImageOptions, BuiltImage } from './image.js';
export { runContainer, freeLoopbackPort } from './run-container.js';
export type { RunContainerOptions, RunningContainer, StopResult } from './run-container.js';
export { planManifests, validateManifests, writeManifests, READY_PATH, LIVE_PATH } from './manifests.js';
export type { ManifestInput, Manifests, WrittenManifests } from './manifests.js';
export { buildContainerTarget, readImageRecord } from './build-container-target.js';
export type { ContainerBuildOptions, ContainerBuild, ImageRecord } from './build-container-target.js';
export { containerDriver } from './driver.js';
