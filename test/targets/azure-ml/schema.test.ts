import { describe, expect, it } from 'vitest';
import { targetSchema } from '../../../src/config/schema.js';
import { AZURE_GPU_EXAMPLES, isAzureGpuInstanceType } from '../../../src/targets/azure-ml/instance-types.js';
import { azureMlTargetSchema } from '../../../src/targets/azure-ml/schema.js';
import { formatIssues, problemLine } from '../../../src/config/format-issues.js';

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
      engine: 'tensorrt', precision: 'fp16', workspaceMb: 4096, instancesPerGpu: 1, warmup: true,
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

  it('refuses tritonVersion, which Azure ML does not let a no-code deployment choose, saying to remove it', () => {
    expect(issues({ tritonVersion: '25.06' })).toEqual([{ path: 'tritonVersion', message: expect.stringMatching(/^azure-ml does not use tritonVersion: Azure ML chooses the Triton image.*remove tritonVersion from this target$/) }]);
    const input = { targets: { azure: { ...BASE, tritonVersion: '25.06' } } };
    const result = targetSchema.safeParse(input.targets.azure);
    const [problem] = formatIssues(result.error!.issues.map((i) => ({ ...i, path: ['targets', 'azure', ...i.path] })), input);
    expect(problemLine(problem)).toMatch(/^targets\.azure\.tritonVersion: got "25\.06"; azure-ml does not use tritonVersion: .*; remove tritonVersion from this target\. Fix: /);
  });

  it('takes probe and request-setting overrides within Azure\'s limits, and refuses the rest', () => {
    expect(issues({ livenessProbe: { initialDelaySeconds: 2400, failureThreshold: 3 }, readinessProbe: { periodSeconds: 5, successThreshold: 2 }, requestSettings: { requestTimeoutMs: 180_000, maxConcurrentRequestsPerInstance: 8, maxQueueWaitMs: 0 } })).toEqual([]);
    expect(issues({
      livenessProbe: { initialDelaySeconds: 0, successThreshold: 2 },
      readinessProbe: { timeoutSeconds: 0.5, failureThreshold: 0 },
      requestSettings: { requestTimeoutMs: 180_001, maxConcurrentRequestsPerInstance: 0 },
    }).map((i) => i.path).sort()).toEqual([
      'livenessProbe.initialDelaySeconds', 'livenessProbe.successThreshold', 'readinessProbe.failureThreshold', 'readinessProbe.timeoutSeconds',
      'requestSettings.maxConcurrentRequestsPerInstance', 'requestSettings.requestTimeoutMs',
    ]);
    expect(issues({ livenessProbe: { initialDelay: 10 } })[0]).toMatchObject({ path: 'livenessProbe' });
  });
});
