/** The defaults of a SageMaker Triton endpoint, shared by the target's schema and the CDK construct. */

/**
 * Startup health check defaults, in seconds. With `engine: 'tensorrt'` the warmup builds the
 * TensorRT engines before Triton answers /ping, which takes from tens of seconds (small CNNs) to
 * many minutes (large models, INT8); SageMaker fails the endpoint when the check runs out.
 */
export const DEFAULT_STARTUP_TIMEOUT_SECONDS = { tensorrt: 1200, onnxruntime: 600 } as const;

/** Long enough for a multi-GB model.tar.gz on the smallest GPU instance. */
export const DEFAULT_MODEL_DOWNLOAD_TIMEOUT_SECONDS = 900;

/** The AMI (NVIDIA driver) of the instances; see the target's `inferenceAmiVersion`. */
export const SAGEMAKER_INFERENCE_AMI_VERSIONS = [
  'al2-ami-sagemaker-inference-gpu-3-1',
  'al2-ami-sagemaker-inference-gpu-2-1',
  'al2-ami-sagemaker-inference-gpu-2',
] as const;
export const DEFAULT_INFERENCE_AMI_VERSION = SAGEMAKER_INFERENCE_AMI_VERSIONS[0];

/** How long SageMaker keeps the previous instances after an update moved traffic, watching the rollback alarms. */
export const DEFAULT_BAKE_SECONDS = 300;

/** A starting point only: measure one instance's sustainable rate (invocations per minute) and take about half. */
export const DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE = 1000;
