import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/config/schema.js';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import {
  planTritonConfig, renderPbtxt, tritonOptionsSchema, type TritonHost, type TritonOptionsInput,
} from '../../../src/kits/triton/index.js';
import { SILERO_INPUTS, signatureOf, type ModelKey } from './_models.js';

/**
 * config.pbtxt for the real models, compared byte for byte with files checked by hand against
 * Triton's model configuration docs. After an intended change: UPDATE_GOLDEN=1 npx vitest run
 * test/targets/triton, then review the diff of test/_fixtures/triton/.
 */
const FIXTURES = fileURLToPath(new URL('../../_fixtures/triton/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface GoldenCase {
  file: string;
  model: ModelKey;
  host?: TritonHost;
  options?: TritonOptionsInput;
  batching?: ModelConfig['batching'];
  inputShapes?: ModelConfig['inputs'];
}

const BATCHING = { maxBatchSize: 16, maxQueueDelayMs: 2.5, preferredBatchSizes: [4, 16] };

const CASES: GoldenCase[] = [
  // fp16 defaults, one per real model
  { file: 'cls.fp16.pbtxt', model: 'cls' },
  { file: 'det.fp16.pbtxt', model: 'det' },
  { file: 'rec.fp16.pbtxt', model: 'rec' },
  { file: 'silero.fp16.pbtxt', model: 'silero', inputShapes: SILERO_INPUTS },
  { file: 'hello_deepa.fp16.pbtxt', model: 'hello_deepa' },
  // model.batching on the models that can batch (silero and hello_deepa cannot: see the plan tests)
  { file: 'cls.batching.pbtxt', model: 'cls', batching: BATCHING },
  { file: 'det.batching.pbtxt', model: 'det', batching: { maxBatchSize: 4, maxQueueDelayMs: 10 }, inputShapes: { x: { shape: [2, 3, 640, 640] } } },
  { file: 'rec.batching.pbtxt', model: 'rec', batching: BATCHING, inputShapes: { x: { shape: [1, 3, 48, 320] } } },
  // precisions, engines and hosts on one model
  { file: 'cls.fp32.pbtxt', model: 'cls', options: { precision: 'fp32', workspaceMb: 1024, instancesPerGpu: 2 } },
  { file: 'cls.int8.pbtxt', model: 'cls', options: { precision: 'int8', int8Calibration: { table: './calibration/cls.flatbuffers' } } },
  { file: 'cls.int8-tensorrt-table.pbtxt', model: 'cls', host: 'container', options: { precision: 'int8', int8Calibration: { table: 'cls.cache', format: 'tensorrt' } } },
  { file: 'cls.onnxruntime.pbtxt', model: 'cls', options: { engine: 'onnxruntime', warmup: false } },
  { file: 'cls.vertex.pbtxt', model: 'cls', host: 'gcp-vertex' },
];

describe('config.pbtxt goldens on real models', () => {
  it.each(CASES)('$file', async (c) => {
    // GIVEN a real model's signature and the config's options
    const signature = await signatureOf(c.model);
    const options = tritonOptionsSchema.parse(c.options ?? {});

    // WHEN the Triton config is planned and rendered
    const config = planTritonConfig({
      signature, modelName: c.model.replace('_', '-'), host: c.host ?? 'aws-sagemaker',
      batching: c.batching, inputShapes: c.inputShapes, options,
    });
    const text = renderPbtxt(config);

    // THEN it equals the reviewed golden file, and parses back to the same plan
    const path = `${FIXTURES}${c.file}`;
    if (UPDATE || !existsSync(path)) {
      if (!UPDATE) throw new Error(`missing golden ${path}: run with UPDATE_GOLDEN=1 and review it`);
      await writeFile(path, text);
    }
    expect(text).toBe(await readFile(path, 'utf8'));
    expect(parsePbtxt(text, { source: c.file })).toEqual(config);
  });

  it('renders the same bytes every time', async () => {
    const signature = await signatureOf('silero');
    const plan = () => renderPbtxt(planTritonConfig({
      signature, modelName: 'silero', host: 'aws-sagemaker', inputShapes: SILERO_INPUTS, options: tritonOptionsSchema.parse({}),
    }));
    expect(plan()).toBe(plan());
  });
});
