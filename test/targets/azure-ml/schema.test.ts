import { describe, expect, it } from 'vitest';
import { targetSchema } from '../../../src/config/schema.js';
import { AZURE_GPU_EXAMPLES, isAzureGpuInstanceType } from '../../../src/targets/azure-ml/instance-types.js';
import { azureMlTargetSchema } from '../../../src/targets/azure-ml/schema.js';
import { DEFAULT_TRITON_VERSION } from '../../../src/targets/triton/index.js';

const BASE = {
  type: 'azure-ml' as const, subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3',
};

function issues(input: Record<string, unknown>) {
  const result = azureMlTargetSchema.safeParse({ ...BASE, ...input });
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('azureMlTargetSchema', () => {
  it('fills the defaults, Triton options included, and is part of the config schema', () => {
    expect(azureMlTargetSchema.parse(BASE)).toEqual({
      ...BASE, instanceCount: 1, authMode: 'key', operationTimeoutMinutes: 60,
      engine: 'tensorrt', precision: 'fp16', workspaceMb: 4096, instancesPerGpu: 1, tritonVersion: DEFAULT_TRITON_VERSION, warmup: true,
    });
    expect(targetSchema.safeParse(BASE).success).toBe(true);
  });

  it('documents every optional field with its default', () => {
    for (const [key, field] of Object.entries(azureMlTargetSchema.shape)) {
      if (!field.safeParse(undefined).success) continue;
      expect(field.description, key).toMatch(/Default: /);
    }
  });

  it('refuses a SKU without an NVIDIA GPU, saying why and what to use', () => {
    expect(issues({ instanceType: 'Standard_DS3_v2' })).toEqual([{ path: 'instanceType', message: expect.stringMatching(/no NVIDIA GPU: engine 'tensorrt' builds TensorRT engines.*Standard_NC4as_T4_v3/) }]);
    expect(issues({ instanceType: 'Standard_DS3_v2', engine: 'onnxruntime' })[0].message).toMatch(/KIND_GPU/);
    expect(issues({ instanceType: 'Standard_NV32as_v4' })[0].path).toBe('instanceType');
    for (const sku of [...AZURE_GPU_EXAMPLES, 'Standard_ND96asr_v4', 'Standard_NC40ads_H100_v5']) expect(isAzureGpuInstanceType(sku), sku).toBe(true);
  });

  it('refuses malformed ids and names, and unknown auth modes', () => {
    expect(issues({ subscriptionId: 'sub', workspace: 'w', authMode: 'aad_token', endpointName: '1-bad' }).map((i) => i.path).sort())
      .toEqual(['authMode', 'endpointName', 'subscriptionId', 'workspace']);
  });
});
