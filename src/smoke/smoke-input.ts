// Smoke requests, from the config's input or generated from the signature.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../errors.js';
import { v2Datatype } from '../model/dtypes.js';
import { resolveInputShapes } from '../model/resolve-shape.js';
import type { ModelSignature, TensorSpec } from '../model/types.js';
import type { Config } from '../config/schema.js';

export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface V2Request {
  inputs: V2Tensor[];
}

/** Deterministic pseudo-random numbers so smoke inputs are the same on every run (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleValues(spec: TensorSpec, count: number, next: () => number): unknown[] {
  const out: unknown[] = new Array(count);
  for (let i = 0; i < count; i++) {
    switch (spec.dtype) {
      case 'float32': case 'float16': case 'bfloat16': case 'float64':
        out[i] = Math.round(next() * 1e4) / 1e4; // [0, 1): the range image and audio models expect
        break;
      case 'bool':
        out[i] = next() < 0.5;
        break;
      case 'string':
        out[i] = 'smoke';
        break;
      default:
        out[i] = Math.floor(next() * 10); // small non-negative ints: valid for every int type
    }
  }
  return out;
}

/** Inputs generated from the signature: dynamic dims from `model.inputs` or small defaults. */
export function generateSmokeRequest(signature: ModelSignature, overrides: Config['model']['inputs'] = {}, only?: (name: string) => boolean): V2Request {
  const next = rng(0x5eed);
  const shapes = resolveInputShapes(signature.inputs.filter((spec) => spec.dtype !== 'unsupported' && (!only || only(spec.name))), overrides);
  return {
    inputs: signature.inputs.filter((spec) => !only || only(spec.name)).map((spec) => {
      if (spec.dtype === 'unsupported') {
        throw new DeployModelError('SMOKE_UNSUPPORTED_INPUT', `Input '${spec.name}' has element type ${spec.onnxTypeName}, which cannot be generated or served. Change the model's input type.`, { details: { input: spec.name } });
      }
      const shape = shapes[spec.name];
      const count = shape.reduce((a, b) => a * b, 1);
      return { name: spec.name, shape, datatype: v2Datatype(spec.dtype), data: sampleValues(spec, count, next) };
    }),
  };
}

/** Shape of a nested array, checking it is rectangular. */
export function inferShape(value: unknown, where: string): { shape: number[]; data: unknown[] } {
  const shape: number[] = [];
  let cur: unknown = value;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const data: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw new DeployModelError('SMOKE_INPUT_RAGGED', `${where} is a ragged array (deeper than its first element at depth ${depth}). Give a rectangular nested array.`);
      data.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new DeployModelError('SMOKE_INPUT_RAGGED', `${where} is a ragged array: at depth ${depth} expected ${shape[depth]} elements. Give a rectangular nested array.`);
    }
    for (const item of v) walk(item, depth + 1);
  };
  walk(value, 0);
  return { shape, data };
}

function tensorFrom(name: string, value: unknown, signature: ModelSignature, where: string): V2Tensor {
  const spec = signature.inputs.find((s) => s.name === name);
  if (!spec) {
    throw new DeployModelError('SMOKE_INPUT_UNKNOWN', `${where} names input '${name}', which the model does not have. Its inputs are: ${signature.inputs.map((s) => s.name).join(', ')}.`);
  }
  const datatype = spec.dtype === 'unsupported' ? 'BYTES' : v2Datatype(spec.dtype);
  if (value && typeof value === 'object' && !Array.isArray(value) && 'data' in value && 'shape' in value) {
    const t = value as { shape: number[]; data: unknown[]; datatype?: string };
    return { name, shape: t.shape, datatype: t.datatype ?? datatype, data: t.data };
  }
  const { shape, data } = inferShape(value, `${where}.${name}`);
  return { name, shape, datatype, data };
}

/** The request the smoke test sends: generated, read from a JSON file, or given inline. */
export async function smokeRequest(signature: ModelSignature, config: Pick<Config, 'smoke' | 'model'>, rootDir: string): Promise<V2Request> {
  const input = config.smoke.input;
  if (input === 'auto') return generateSmokeRequest(signature, config.model.inputs);
  let raw: unknown = input;
  let where = 'smoke.input';
  if (typeof input === 'string') {
    const file = path.resolve(rootDir, input);
    where = file;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new DeployModelError('SMOKE_INPUT_NOT_FOUND', `smoke.input file ${file} cannot be read (${(e as NodeJS.ErrnoException).code}). Fix the path (relative to the config file) or use 'auto'.`, { cause: e });
    }
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new DeployModelError('SMOKE_INPUT_BAD_JSON', `smoke.input file ${file} is not valid JSON: ${(e as Error).message}.`, { cause: e });
    }
  }
  if (raw && typeof raw === 'object' && Array.isArray((raw as { inputs?: unknown }).inputs)) {
    return raw as V2Request; // already a v2 request
  }
  const record = (raw && typeof raw === 'object' && 'inputs' in raw ? (raw as { inputs: unknown }).inputs : raw) as Record<string, unknown>;
  const given = Object.entries(record ?? {}).map(([name, value]) => tensorFrom(name, value, signature, where));
  // Inputs not given are generated, so a file only needs the ones that matter (silero's `sr`).
  const generated = generateSmokeRequest(signature, config.model.inputs, (name) => !given.some((t) => t.name === name)).inputs;
  return { inputs: [...given, ...generated] };
}
