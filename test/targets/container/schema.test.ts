import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../../src/config/schema.js';
import { containerTargetSchema } from '../../../src/targets/container/schema.js';

describe('container target schema', () => {
  it('fills every default', () => {
    expect(containerTargetSchema.parse({ type: 'container' })).toEqual({
      type: 'container',
      engine: 'onnxruntime',
      baseImage: 'docker.io/library/node:22-bookworm-slim',
      architecture: 'x86_64',
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

  it("refuses engine 'triton' with a message naming the supported engine and the alternative", () => {
    const r = containerTargetSchema.safeParse({ type: 'container', engine: 'triton' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['engine']);
    expect(r.error?.issues[0]?.message).toMatch(/must be 'onnxruntime'.*not supported yet/);
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
