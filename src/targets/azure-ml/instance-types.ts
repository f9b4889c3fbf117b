/**
 * Which Azure ML managed online endpoint SKUs carry an NVIDIA GPU, in one place: the schema
 * validates against it and the docs quote it.
 *
 * Triton's model configuration asks for GPU instances (KIND_GPU) and the TensorRT engine needs an
 * NVIDIA GPU, so the instance type must be one. GPU VM families are NC (compute), ND (deep
 * learning) and NV (visualisation); the NVv4 series (`Standard_NV*as_v4`) carries AMD GPUs and is
 * excluded.
 */
export const AZURE_GPU_FAMILIES: readonly { prefix: string; gpus: string }[] = [
  { prefix: 'Standard_NC', gpus: 'NVIDIA T4 (NCasT4_v3), V100 (NCv3), A100 (NC A100 v4), H100 (NCads H100 v5)' },
  { prefix: 'Standard_ND', gpus: 'NVIDIA V100 (NDv2), A100 (ND A100 v4), H100 (ND H100 v5)' },
  { prefix: 'Standard_NV', gpus: 'NVIDIA M60 (NVv3), A10 (NVadsA10 v5); not NVv4 (AMD)' },
];

/** SKUs of the GPU families whose GPU is not NVIDIA. */
const NON_NVIDIA = /^Standard_NV\d+as_v4$/;

/** A few common SKUs, for messages. */
export const AZURE_GPU_EXAMPLES = ['Standard_NC4as_T4_v3', 'Standard_NC6s_v3', 'Standard_NC24ads_A100_v4', 'Standard_NV36ads_A10_v5'] as const;

/** Whether the SKU carries an NVIDIA GPU. */
export function isAzureGpuInstanceType(instanceType: string): boolean {
  return AZURE_GPU_FAMILIES.some((f) => instanceType.startsWith(f.prefix)) && !NON_NVIDIA.test(instanceType);
}

/** The problem with a SKU for Triton, or undefined when it is an NVIDIA GPU SKU. */
export function azureInstanceTypeProblem(instanceType: string, engine: string): string | undefined {
  if (isAzureGpuInstanceType(instanceType)) return undefined;
  const why = engine === 'tensorrt'
    ? "engine 'tensorrt' builds TensorRT engines, which need an NVIDIA GPU"
    : "the Triton model configuration runs on GPU instances (KIND_GPU) and ONNX Runtime's CUDA provider needs an NVIDIA GPU";
  return `'${instanceType}' has no NVIDIA GPU: ${why}. Use an NC, ND or NV (not NVv4) SKU, e.g. ${AZURE_GPU_EXAMPLES.join(', ')}, or the local, aws-lambda or container target for CPU serving`;
}
