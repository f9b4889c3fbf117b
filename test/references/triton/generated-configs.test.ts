import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import { checkTritonLoad, TRITON_LOAD_RULES } from './check-triton-load.js';
import { ortModelIo, type OrtModelIo } from './ort-model-io.js';
import { generatedConfigs, type GeneratedConfig } from './_generated-configs.js';

/**
 * Every config.pbtxt deploy-model generates, for the real models in every variant and for the
 * tiny edge-case models, passes every load-time rule of Triton core and of its onnxruntime
 * backend (r25.09), checked against the model's inputs and outputs as ONNX Runtime reports them.
 */
const GROUPS = ['cls', 'det', 'rec', 'silero', 'hello-deepa', 'tiny'] as const;
const group = (g: GeneratedConfig) => (GROUPS.find((k) => g.label.startsWith(`${k} `)) ?? 'tiny');

describe('generated configs pass Triton r25.09 load rules', () => {
  let dir: string;
  let configs: GeneratedConfig[];
  const io = new Map<string, OrtModelIo>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deploy-model-triton-rules-'));
    configs = await generatedConfigs(dir);
    for (const g of configs) if (!io.has(g.modelPath)) io.set(g.modelPath, await ortModelIo(g.modelPath));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each(GROUPS)('%s: every variant loads', (key) => {
    const mine = configs.filter((g) => group(g) === key);
    expect(mine.length).toBeGreaterThan(0);
    for (const g of mine) {
      // The rendered text, read back, is what Triton would load.
      const refusals = checkTritonLoad({ config: parsePbtxt(g.text, { source: g.label }), model: io.get(g.modelPath)!, directoryName: g.directoryName });
      expect({ config: g.label, refusals }).toEqual({ config: g.label, refusals: [] });
    }
  });

  it('covers every variant of the real models: precisions, engines, warmup, batching and hosts', () => {
    const labels = configs.map((g) => g.label);
    for (const part of ['fp16', 'fp32', 'int8', 'onnxruntime', 'no-warmup', 'batching', 'aws-sagemaker', 'gcp-vertex', 'azure-ml', 'container']) {
      expect(labels.some((l) => l.startsWith('cls ') && l.split(' ').includes(part)), part).toBe(true);
    }
    expect(TRITON_LOAD_RULES.length).toBeGreaterThanOrEqual(12);
  });
});
