import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import { ENUMS, MESSAGES, type FieldSpec } from '../../../src/kits/triton/model-config-schema.js';
import { decodeAsTriton, modelConfigRoot, readAsTriton } from './model-config-message.js';
import { protocDecode, protocEncode, protocMissing } from './protoc.js';
import { generatedConfigs, type GeneratedConfig } from './_generated-configs.js';

/**
 * Every generated config.pbtxt through Google's own text-format parser (protoc) against our
 * transcription of Triton's model_config.proto (common r25.09), and deploy-model's field table
 * against the same transcription.
 */
const missing = protocMissing();
const GROUPS = ['cls', 'det', 'rec', 'silero', 'hello-deepa', 'tiny'] as const;
const group = (g: GeneratedConfig) => (GROUPS.find((k) => g.label.startsWith(`${k} `)) ?? 'tiny');

describe.skipIf(missing !== undefined)(`config.pbtxt read by protoc${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let configs: GeneratedConfig[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deploy-model-triton-proto-'));
    configs = await generatedConfigs(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(GROUPS)('%s: every variant encodes without a warning and decodes back to the same config', (key) => {
    const mine = configs.filter((g) => group(g) === key);
    expect(mine.length).toBeGreaterThan(0);
    for (const g of mine) {
      // WHEN protoc parses the rendered text as an inference.ModelConfig
      const encoded = protocEncode(g.text);

      // THEN it takes it silently
      expect({ label: g.label, status: encoded.status, stderr: encoded.stderr }).toEqual({ label: g.label, status: 0, stderr: '' });

      // AND its bytes, read back by protoc and then by parsePbtxt, or by protobufjs, are the plan
      const decoded = protocDecode(encoded.stdout);
      expect({ label: g.label, status: decoded.status, stderr: decoded.stderr }).toEqual({ label: g.label, status: 0, stderr: '' });
      const plan = readAsTriton(g.config);
      expect(readAsTriton(parsePbtxt(decoded.stdout, { source: g.label })), g.label).toEqual(plan);
      expect(readAsTriton(parsePbtxt(g.text, { source: g.label })), g.label).toEqual(plan);
      expect(decodeAsTriton(encoded.stdout), g.label).toEqual(plan);
    }
  });

  it('covers scalars, batch-only tensors and int64, bool, fp16 and string tensors', () => {
    const inputs = configs.flatMap((g) => g.config.input.map((io) => ({ io, batches: g.config.max_batch_size > 0 })));
    expect(inputs.some(({ io, batches }) => !batches && io.dims.length === 1 && io.dims[0] === 1 && !io.reshape)).toBe(true);
    expect(inputs.some(({ io, batches }) => batches && io.reshape?.shape.length === 0)).toBe(true);
    for (const type of ['TYPE_INT64', 'TYPE_BOOL', 'TYPE_FP16', 'TYPE_STRING']) expect(inputs.some(({ io }) => io.data_type === type), type).toBe(true);
  });

  it('is a real check: protoc refuses an unknown field, an unknown enum value and a list for a single field', () => {
    expect(protocEncode('name: "m"\nmax_batch: 8\n').stderr).toMatch(/no field named "max_batch"/);
    expect(protocEncode('input [ { name: "x" data_type: TYPE_FLOAT32 } ]\n').stderr).toMatch(/TYPE_FLOAT32/);
    expect(protocEncode('name: [ "a", "b" ]\n').status).not.toBe(0);
  });
});

describe("model-config-schema.ts agrees with the transcription of Triton's model_config.proto", () => {
  const root = modelConfigRoot();

  it.each(Object.keys(MESSAGES))('%s: same field names, numbers, types, lists and oneofs', (name) => {
    const type = root.lookupType(`inference.${name}`);
    for (const spec of MESSAGES[name as keyof typeof MESSAGES] as readonly FieldSpec[]) {
      const field = type.fields[spec.name];
      expect(field, `${name}.${spec.name}`).toBeDefined();
      expect({ field: spec.name, number: field.id, repeated: field.repeated, oneof: field.partOf?.name })
        .toEqual({ field: spec.name, number: spec.number, repeated: spec.repeated ?? false, oneof: spec.oneof });
      expect(protoType(field), `${name}.${spec.name}`).toEqual(spec.type);
    }
  });

  it.each(Object.keys(ENUMS))('enum %s: the same values in the same order', (name) => {
    const values = root.lookupEnum(`inference.${name}`).values;
    const byNumber = Object.entries(values).sort(([, a], [, b]) => a - b).map(([k]) => k);
    expect(ENUMS[name as keyof typeof ENUMS]).toEqual(byNumber);
  });
});

/** A field's type as the transcription declares it, in the vocabulary of model-config-schema.ts. */
function protoType(field: protobuf.Field): unknown {
  const named = (t: protobuf.ReflectionObject | null) => t?.fullName.replace(/^\.inference\./, '');
  if (field instanceof protobuf.MapField) {
    const value = field.resolvedType ? { kind: 'message', message: named(field.resolvedType) } : { kind: 'scalar', type: field.type };
    return { kind: 'map', key: field.keyType, value };
  }
  if (field.resolvedType instanceof protobuf.Enum) return { kind: 'enum', enum: named(field.resolvedType) };
  if (field.resolvedType) return { kind: 'message', message: named(field.resolvedType) };
  return { kind: 'scalar', type: field.type };
}
