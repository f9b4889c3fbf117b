import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkTritonOptions, DEFAULT_TRITON_VERSION, tritonOptionsSchema, tritonOptionsShape,
} from '../../../src/kits/triton/index.js';

describe('tritonOptionsSchema', () => {
  it('fills every default', () => {
    expect(tritonOptionsSchema.parse({})).toEqual({
      engine: 'tensorrt', precision: 'fp16', workspaceMb: 4096, instancesPerGpu: 1, tritonVersion: DEFAULT_TRITON_VERSION, warmup: true,
    });
  });

  it('refuses int8 without a calibration table, naming the field and the fix', () => {
    const result = tritonOptionsSchema.safeParse({ precision: 'int8' });
    expect(result.success).toBe(false);
    expect(result.error!.issues).toEqual([expect.objectContaining({
      path: ['int8Calibration'],
      message: expect.stringMatching(/int8Calibration: \{ table: .* or use precision 'fp16'/),
    })]);
  });

  it('accepts int8 with a table, and defaults the table format', () => {
    expect(tritonOptionsSchema.parse({ precision: 'int8', int8Calibration: { table: 'calib.flatbuffers' } }).int8Calibration)
      .toEqual({ table: 'calib.flatbuffers', format: 'onnxruntime' });
  });

  it("refuses int8 with engine 'onnxruntime'", () => {
    const result = tritonOptionsSchema.safeParse({ engine: 'onnxruntime', precision: 'int8', int8Calibration: { table: 't' } });
    expect(result.error!.issues.map((i) => i.path)).toEqual([['precision']]);
  });

  it('refuses unknown keys, relative cache paths and malformed versions', () => {
    expect(tritonOptionsSchema.safeParse({ engin: 'tensorrt' }).success).toBe(false);
    expect(tritonOptionsSchema.safeParse({ engineCachePath: 'cache' }).error!.issues[0].message).toMatch(/absolute path/);
    expect(tritonOptionsSchema.safeParse({ tritonVersion: '24.8' }).success).toBe(false);
    expect(tritonOptionsSchema.safeParse({ instancesPerGpu: 0 }).success).toBe(false);
  });

  it('embeds in a GPU target schema inside the discriminated union of targets', () => {
    // GIVEN a target schema that spreads the shape, as aws-sagemaker and the others do
    const gpuTarget = z.object({ type: z.literal('aws-sagemaker'), instanceType: z.string(), ...tritonOptionsShape })
      .strict().superRefine(checkTritonOptions);
    const targets = z.discriminatedUnion('type', [gpuTarget, z.object({ type: z.literal('local') }).strict()]);

    // THEN defaults, the refinement and strictness all hold through the union
    expect(targets.parse({ type: 'aws-sagemaker', instanceType: 'ml.g5.xlarge' })).toMatchObject({ engine: 'tensorrt', precision: 'fp16' });
    expect(targets.safeParse({ type: 'aws-sagemaker', instanceType: 'ml.g5.xlarge', precision: 'int8' }).error!.issues[0].path).toEqual(['int8Calibration']);
  });

  it('documents every optional field with a default, in the doc comment and in describe()', async () => {
    const source = await readFile(fileURLToPath(new URL('../../../src/kits/triton/schema.ts', import.meta.url)), 'utf8');
    const json = z.toJSONSchema(tritonOptionsSchema, { io: 'input' }) as { properties: Record<string, { description?: string }> };
    for (const [key, prop] of Object.entries(json.properties)) {
      expect(prop.description, key).toMatch(/Default: /);
      // The doc comment right before the field carries @default.
      const field = source.indexOf(`  ${key}: z`);
      const comment = source.slice(source.lastIndexOf('/**', field), field);
      expect(comment, key).toMatch(/@default /);
    }
  });
});
