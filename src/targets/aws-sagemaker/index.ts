export { awsSageMakerDriver, createAwsSageMakerDriver } from './driver.js';
export type { SageMakerConnectionOptions } from './_clients.js';
export { buildSageMakerArtifacts, type BuildSageMakerArtifactsOptions, type SageMakerArtifacts } from './build-sagemaker-artifacts.js';
export { deploySageMaker } from './deploy-sagemaker.js';
export {
  SAGEMAKER_GPU_EXAMPLES, SAGEMAKER_GPU_FAMILIES, sageMakerGpuFamily, sageMakerInstanceTypeProblem, sageMakerVolumeSizeProblem,
  type SageMakerGpuFamily,
} from '../../kits/sagemaker/instance-types.js';
export { endpointLogGroup, sageMakerEndpointName, sageMakerNames, type SageMakerNames } from '../../kits/sagemaker/names.js';
export { invocationsUrl, sageMakerInferenceClient } from './runtime-client.js';
export {
  awsSageMakerTargetSchema, DEFAULT_BAKE_SECONDS, DEFAULT_INFERENCE_AMI_VERSION, DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS,
  DEFAULT_STARTUP_TIMEOUT_SECONDS, DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE, SAGEMAKER_INFERENCE_AMI_VERSIONS, startupTimeoutSeconds,
  type AwsSageMakerTargetConfig, type AwsSageMakerTargetInput,
} from './schema.js';
export { buildSageMakerStack, SageMakerTargetStack, type BuildSageMakerStackOptions, type SageMakerStackArtifacts } from './stack.js';
export { synthSageMakerTarget, type SynthSageMakerTargetOptions, type SynthSageMakerTargetResult } from './synth.js';
export {
  DEFAULT_SAGEMAKER_TRITON_VERSION, SAGEMAKER_TRITON_IMAGES, sageMakerTritonImage, sageMakerTritonImageProblem,
} from '../../kits/sagemaker/triton-images.js';
