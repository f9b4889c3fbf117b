import { describe, expect, it } from 'vitest';
import { targetSchema } from '../../../src/config/schema.js';
import { checkVertexMachine, resolveVertexAccelerator, VERTEX_MACHINE_FAMILIES } from '../../../src/targets/gcp-vertex/machine-types.js';
import { gcpVertexTargetSchema } from '../../../src/targets/gcp-vertex/schema.js';
import { DEFAULT_TRITON_VERSION } from '../../../src/kits/triton/index.js';

const BASE = {
  type: 'gcp-vertex' as const, project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://my-bucket',
};

function issues(input: Record<string, unknown>) {
  const result = gcpVertexTargetSchema.safeParse({ ...BASE, ...input });
  return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('gcpVertexTargetSchema', () => {
  it('fills the defaults, Triton options included, and is part of the config schema', () => {
    expect(gcpVertexTargetSchema.parse(BASE)).toEqual({
      ...BASE, minReplicas: 1, operationTimeoutMinutes: 60,
      engine: 'tensorrt', precision: 'fp16', workspaceMb: 4096, instancesPerGpu: 1, tritonVersion: DEFAULT_TRITON_VERSION, warmup: true,
    });
    expect(targetSchema.safeParse(BASE).success).toBe(true);
  });

  it('documents every optional field with its default', () => {
    const shape = gcpVertexTargetSchema.shape;
    for (const [key, field] of Object.entries(shape)) {
      if (!field.safeParse(undefined).success) continue;
      expect(field.description, key).toMatch(/Default: /);
    }
  });

  it('refuses an image outside Artifact Registry, saying where to copy NVIDIA\'s image', () => {
    expect(issues({ image: 'nvcr.io/nvidia/tritonserver:25.06-py3' })).toEqual([
      { path: 'image', message: expect.stringMatching(/Artifact Registry.*copy nvcr\.io\/nvidia\/tritonserver there first/) },
    ]);
    expect(issues({ image: 'us-docker.pkg.dev/my-project/triton/tritonserver' })[0].path).toBe('image');
    expect(issues({ image: 'europe-west4-docker.pkg.dev/p1/repo/tritonserver@sha256:' + 'a'.repeat(64) })).toEqual([]);
    expect(issues({ image: 'gcr.io/my-project/tritonserver:25.06-py3' })).toEqual([]);
  });

  it('refuses malformed project, region and bucket', () => {
    expect(issues({ project: 'My_Project', region: 'us central', stagingBucket: 's3://b' }).map((i) => i.path).sort()).toEqual(['project', 'region', 'stagingBucket']);
  });

  it('checks the accelerator against the machine type, with the fix', () => {
    expect(issues({ machineType: 'g2-standard-4', accelerator: { type: 'NVIDIA_TESLA_T4', count: 1 } })).toEqual([
      { path: 'accelerator.type', message: "g2-standard-4 comes with NVIDIA_L4, not NVIDIA_TESLA_T4; set accelerator.type to 'NVIDIA_L4' or leave accelerator out" },
    ]);
    expect(issues({ machineType: 'g2-standard-24', accelerator: { type: 'NVIDIA_L4', count: 1 } })[0]).toMatchObject({ path: 'accelerator.count', message: expect.stringContaining('comes with 2 GPUs') });
    expect(issues({ machineType: 'n1-standard-8' })[0]).toMatchObject({ path: 'accelerator', message: expect.stringContaining("set accelerator, e.g. { type: 'NVIDIA_TESLA_T4', count: 1 }") });
    expect(issues({ machineType: 'n1-standard-8', accelerator: { type: 'NVIDIA_L4' } })[0]).toMatchObject({ path: 'accelerator.type', message: expect.stringContaining('g2-standard-4 for NVIDIA_L4') });
    expect(issues({ machineType: 'n1-standard-8', accelerator: { type: 'NVIDIA_TESLA_T4', count: 3 } })[0]).toMatchObject({ path: 'accelerator.count', message: expect.stringContaining('counts of 1, 2, 4') });
    expect(issues({ machineType: 'n1-standard-8', accelerator: { type: 'NVIDIA_TESLA_V100', count: 8 } })).toEqual([]);
    expect(issues({ machineType: 'e2-standard-4' })[0]).toMatchObject({ path: 'machineType', message: expect.stringContaining('has no NVIDIA GPU') });
    expect(issues({ machineType: 'a2-highgpu-3g' })[0]).toMatchObject({ path: 'machineType', message: expect.stringContaining('a2-highgpu-1g') });
  });

  it('refuses maxReplicas below minReplicas and int8 without a table', () => {
    expect(issues({ minReplicas: 3, maxReplicas: 2 })).toEqual([{ path: 'maxReplicas', message: 'maxReplicas (2) must be at least minReplicas (3)' }]);
    expect(issues({ precision: 'int8' })[0].path).toBe('int8Calibration');
  });
});

describe('the machine type table', () => {
  it('derives the fixed GPU of accelerator-optimised machine types', () => {
    expect(resolveVertexAccelerator('a3-highgpu-8g')).toEqual({ type: 'NVIDIA_H100_80GB', count: 8 });
    expect(resolveVertexAccelerator('a2-ultragpu-1g')).toEqual({ type: 'NVIDIA_A100_80GB', count: 1 });
    expect(resolveVertexAccelerator('n1-standard-4')).toBeUndefined();
    expect(resolveVertexAccelerator('n1-standard-4', { type: 'NVIDIA_TESLA_T4', count: 1 })).toEqual({ type: 'NVIDIA_TESLA_T4', count: 1 });
  });

  it('accepts every machine type it lists, with its own GPU', () => {
    for (const family of VERTEX_MACHINE_FAMILIES) {
      for (const [machine, gpu] of Object.entries(family.fixed ?? {})) {
        expect(checkVertexMachine(machine, gpu), machine).toEqual([]);
        expect(checkVertexMachine(machine), machine).toEqual([]);
      }
    }
  });
});
