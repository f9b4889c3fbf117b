/**
 * Which SageMaker real-time inference instance families carry an NVIDIA GPU, in one place: the
 * schema validates against it, the construct reads the storage rule from it and the docs quote it.
 *
 * Triton's model configuration asks for GPU instances (KIND_GPU) and TensorRT needs an NVIDIA GPU,
 * so every engine needs one of these. Families with local NVMe storage serve the model from it
 * and SageMaker refuses `VolumeSizeInGB` there; only EBS-backed families take a volume size.
 */
export interface SageMakerGpuFamily {
  /** The family in `ml.<family>.<size>`. */
  readonly family: string;
  readonly gpu: string;
  /** CUDA compute capability of the GPU; newer Triton releases drop older GPUs. */
  readonly computeCapability: number;
  /** Local NVMe instance storage (no EBS volume size can be set). */
  readonly instanceStorage: boolean;
}

export const SAGEMAKER_GPU_FAMILIES: readonly SageMakerGpuFamily[] = [
  { family: 'g4dn', gpu: 'NVIDIA T4', computeCapability: 7.5, instanceStorage: true },
  { family: 'g5', gpu: 'NVIDIA A10G', computeCapability: 8.6, instanceStorage: true },
  { family: 'g6', gpu: 'NVIDIA L4', computeCapability: 8.9, instanceStorage: true },
  { family: 'g6e', gpu: 'NVIDIA L40S', computeCapability: 8.9, instanceStorage: true },
  { family: 'p3', gpu: 'NVIDIA V100', computeCapability: 7.0, instanceStorage: false },
  { family: 'p4d', gpu: 'NVIDIA A100 40 GB', computeCapability: 8.0, instanceStorage: true },
  { family: 'p4de', gpu: 'NVIDIA A100 80 GB', computeCapability: 8.0, instanceStorage: true },
  { family: 'p5', gpu: 'NVIDIA H100', computeCapability: 9.0, instanceStorage: true },
  { family: 'p5e', gpu: 'NVIDIA H200', computeCapability: 9.0, instanceStorage: true },
  { family: 'p5en', gpu: 'NVIDIA H200', computeCapability: 9.0, instanceStorage: true },
];

/** A few common types, for messages. */
export const SAGEMAKER_GPU_EXAMPLES = ['ml.g4dn.xlarge', 'ml.g5.xlarge', 'ml.g6.xlarge', 'ml.g6e.xlarge'] as const;

/**
 * Triton releases from 25.03 on support compute capability 7.5 and later only (NVIDIA's release
 * notes), which leaves out the V100 (7.0).
 */
const MIN_COMPUTE_CAPABILITY = { fromTritonVersion: '25.03', computeCapability: 7.5 } as const;

export const SAGEMAKER_INSTANCE_TYPE = /^ml\.[a-z0-9-]+\.[a-z0-9-]+$/;

/** The GPU family of `ml.<family>.<size>`, or undefined when it has no NVIDIA GPU. */
export function sageMakerGpuFamily(instanceType: string): SageMakerGpuFamily | undefined {
  const family = instanceType.split('.')[1];
  return SAGEMAKER_GPU_FAMILIES.find((f) => f.family === family);
}

/** The problem with an instance type for Triton, or undefined when it is an NVIDIA GPU type. */
export function sageMakerInstanceTypeProblem(instanceType: string, engine: string, tritonVersion?: string): string | undefined {
  const family = sageMakerGpuFamily(instanceType);
  if (!family) {
    const why = engine === 'tensorrt'
      ? "engine 'tensorrt' builds TensorRT engines, which need an NVIDIA GPU"
      : "the Triton model configuration runs on GPU instances (KIND_GPU) and ONNX Runtime's CUDA provider needs an NVIDIA GPU";
    return `'${instanceType}' has no NVIDIA GPU: ${why}. Use one of the families ${SAGEMAKER_GPU_FAMILIES.map((f) => `ml.${f.family}.*`).join(', ')}, e.g. ${SAGEMAKER_GPU_EXAMPLES.join(', ')}; or the aws-lambda or container target for CPU serving`;
  }
  if (tritonVersion !== undefined && tritonVersion >= MIN_COMPUTE_CAPABILITY.fromTritonVersion && family.computeCapability < MIN_COMPUTE_CAPABILITY.computeCapability) {
    return `'${instanceType}' has an ${family.gpu} (compute capability ${family.computeCapability}), which Triton ${tritonVersion} no longer supports (${MIN_COMPUTE_CAPABILITY.fromTritonVersion} and later need ${MIN_COMPUTE_CAPABILITY.computeCapability}); use a newer GPU such as ${SAGEMAKER_GPU_EXAMPLES[1]}, or an older tritonVersion`;
  }
  return undefined;
}

/** The problem with an EBS volume size on this instance type, or undefined. */
export function sageMakerVolumeSizeProblem(instanceType: string): string | undefined {
  const family = sageMakerGpuFamily(instanceType);
  if (!family?.instanceStorage) return undefined;
  const ebs = SAGEMAKER_GPU_FAMILIES.filter((f) => !f.instanceStorage).map((f) => `ml.${f.family}.*`);
  return `${instanceType} serves from its own NVMe instance storage and SageMaker refuses a volume size there; leave volumeSizeGb out (it applies to EBS-backed families only: ${ebs.join(', ')})`;
}
