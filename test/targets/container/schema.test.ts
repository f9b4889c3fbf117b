import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../../src/config/schema.js';
import { containerTargetSchema } from '../../../src/targets/container/schema.js';

describe('container target schema', () => {
  it('fills every default', () => {
    expect(containerTargetSchema.parse({ type: 'container' })).toEqual({
      type: 'container',
      engine: 'onnxruntime',
      port: 8080,
      contract: 'kserve-v2',
      resources: { cpu: '1', memory: '1Gi' },
      replicas: { min: 1, max: 3 },
      targetCpuUtilization: 70,
      kserve: true,
    });
  });

  it('is one of the config target types', () => {
    const config = configSchema.parse({
      name: 'ocr-det',
      model: { path: 'det.onnx' },
      targets: { image: { type: 'container', push: 'registry.example.com/ocr-det', tag: 'v3' } },
    });
    expect(config.targets.image).toMatchObject({ type: 'container', push: 'registry.example.com/ocr-det', tag: 'v3' });
  });

  it('takes the three engines and refuses another, naming them', () => {
    for (const engine of ['onnxruntime', 'triton', 'openvino']) expect(containerTargetSchema.parse({ type: 'container', engine }).engine).toBe(engine);
    const r = containerTargetSchema.safeParse({ type: 'container', engine: 'tensorrt' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['engine']);
    expect(r.error?.issues[0]?.message).toMatch(/'onnxruntime'.*'triton'.*'openvino'/);
  });

  it("takes Triton's options under triton, with the GPU targets' defaults, and refuses them on another engine", () => {
    const t = containerTargetSchema.parse({ type: 'container', engine: 'triton', triton: { precision: 'fp32' } });
    expect(t.triton).toEqual({ engine: 'tensorrt', precision: 'fp32', workspaceMb: 4096, instancesPerGpu: 1, tritonVersion: '25.06', warmup: true, engineCacheVolume: 'emptyDir' });
    // The GPU targets' cross-field rule: int8 needs a table.
    expect(containerTargetSchema.safeParse({ type: 'container', engine: 'triton', triton: { precision: 'int8' } }).error?.issues[0]?.path).toEqual(['triton', 'int8Calibration']);
    expect(containerTargetSchema.safeParse({ type: 'container', engine: 'triton', triton: { tritonVersion: '25' } }).error?.issues[0]?.path).toEqual(['triton', 'tritonVersion']);
    const wrong = containerTargetSchema.safeParse({ type: 'container', triton: {} });
    expect(wrong.error?.issues).toEqual([expect.objectContaining({ path: ['triton'], message: expect.stringMatching(/engine 'triton' only.*'onnxruntime'/) })]);
    expect(containerTargetSchema.safeParse({ type: 'container', engine: 'triton', openvino: {} }).error?.issues[0]?.path).toEqual(['openvino']);
  });

  it('takes platforms or architecture, not both, and no platform twice', () => {
    expect(containerTargetSchema.parse({ type: 'container', platforms: ['linux/amd64', 'linux/arm64'] }).platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(containerTargetSchema.safeParse({ type: 'container', platforms: ['linux/arm64'], architecture: 'arm64' }).error?.issues[0]?.path).toEqual(['architecture']);
    expect(containerTargetSchema.safeParse({ type: 'container', platforms: ['linux/arm64', 'linux/arm64'] }).error?.issues[0]?.message).toMatch(/twice/);
    expect(containerTargetSchema.safeParse({ type: 'container', platforms: ['linux/riscv64'] }).error?.issues[0]?.path).toEqual(['platforms', 0]);
    expect(containerTargetSchema.safeParse({ type: 'container', platforms: [] }).success).toBe(false);
  });

  it('takes gpu as false or a count, resource, node selector and tolerations with defaults', () => {
    expect(containerTargetSchema.parse({ type: 'container', engine: 'triton', gpu: {} }).gpu).toEqual({
      count: 1, resource: 'nvidia.com/gpu', nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    expect(containerTargetSchema.parse({ type: 'container', engine: 'triton', gpu: false }).gpu).toBe(false);
    expect(containerTargetSchema.safeParse({ type: 'container', gpu: { nodeSelector: { 'bad key!': 'x' } } }).success).toBe(false);
    expect(containerTargetSchema.safeParse({ type: 'container', gpu: { tolerations: [{ key: 'k', effect: 'Sometimes' }] } }).success).toBe(false);
  });

  it.each([
    ['registry.example.com/ocr-det', true],
    ['127.0.0.1:5000/ocr-det', true],
    ['localhost/team/ocr-det', true],
    ['ghcr.io/org/sub/ocr_det', true],
    ['ocr-det', false], // no registry: podman would guess one
    ['team/ocr-det', false],
    ['registry.example.com/ocr-det:v1', false], // the tag goes in `tag`
    ['registry.example.com/OCR', false],
  ])('push %s valid: %s', (push, ok) => {
    expect(containerTargetSchema.safeParse({ type: 'container', push }).success).toBe(ok);
  });

  it('checks quantities, tag and replica bounds', () => {
    const bad = (extra: object) => containerTargetSchema.safeParse({ type: 'container', ...extra }).error?.issues.map((i) => i.path.join('.'));
    expect(bad({ resources: { cpu: 'lots' } })).toEqual(['resources.cpu']);
    expect(bad({ resources: { memory: '2GB' } })).toEqual(['resources.memory']);
    expect(bad({ tag: '-x' })).toEqual(['tag']);
    expect(bad({ replicas: { min: 4, max: 2 } })).toEqual(['replicas']);
    expect(bad({ builder: 'kaniko' })).toEqual(['builder']);
    expect(containerTargetSchema.parse({ type: 'container', resources: { cpu: '500m', memory: '1.5Gi' } }).resources).toEqual({ cpu: '500m', memory: '1.5Gi' });
  });

  it("takes kserve as a boolean or as { mode: 'serverless' | 'raw' }, mode optional", () => {
    const kserve = (value: unknown) => containerTargetSchema.safeParse({ type: 'container', kserve: value });
    expect(kserve(true).data?.kserve).toBe(true);
    expect(kserve(false).data?.kserve).toBe(false);
    expect(kserve({}).data?.kserve).toEqual({});
    expect(kserve({ mode: 'serverless' }).data?.kserve).toEqual({ mode: 'serverless' });
    expect(kserve({ mode: 'raw' }).data?.kserve).toEqual({ mode: 'raw' });
    expect(kserve({ mode: 'raw', namespace: 'ml' }).success).toBe(false);
    const knative = kserve({ mode: 'Knative' });
    expect(knative.success).toBe(false);
    expect(JSON.stringify(knative.error?.issues)).toMatch(/must be 'serverless' \(Knative\) or 'raw'/);
  });

  it('documents the kserve mode and its default', () => {
    const json = z.toJSONSchema(containerTargetSchema, { io: 'input' }) as unknown as { properties: { kserve: { anyOf: { properties?: { mode?: { description?: string; enum?: string[] } } }[] } } };
    const mode = json.properties.kserve.anyOf.find((s) => s.properties)?.properties?.mode;
    expect(mode?.enum).toEqual(['serverless', 'raw']);
    expect(mode?.description).toMatch(/Default: the cluster's defaultDeploymentMode/);
  });

  it('documents every optional field with its default in the JSON Schema', () => {
    const json = z.toJSONSchema(containerTargetSchema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
    for (const [key, prop] of Object.entries(json.properties)) {
      if (key === 'type') continue;
      expect(prop.description, key).toMatch(/Default: /);
    }
  });
});
