import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64Tensor } from '../../handlers/core/base64.js';
import type { DecodedTensor } from '../../handlers/core/types.js';
import { batchingProblem, batchKey } from '../../handlers/pool/batching.js';
import { createWorkerPool } from '../../handlers/pool/create-worker-pool.js';
import type { WorkerPool } from '../../handlers/pool/types.js';
import { startServer } from '../../handlers/server/create-server.js';
import { inspectModel } from '../../src/model/inspect-model.js';
import type { ModelSignature } from '../../src/model/types.js';
import { makeModelDir, removeModelDir, writeAddModel } from '../_helpers/onnx-models.js';
import { floats, MODELS, runDirect, signatureOf } from './_models.js';

const BIAS = [1, 2, 3, 4];

let dir: string;
let addPath: string;
let addSignature: ModelSignature;

beforeAll(async () => {
  dir = await makeModelDir();
  addPath = await writeAddModel(dir);
  addSignature = await inspectModel(addPath);
});

afterAll(async () => {
  await removeModelDir(dir);
});

/** `rows` rows of the add model's x, all values distinct per `seed`. */
function addInput(seed: number, rows = 1) {
  const x = Array.from({ length: rows * 4 }, (_, i) => seed * 100 + i);
  return { request: { id: `req-${seed}`, inputs: [{ name: 'x', shape: [rows, 4], datatype: 'FP32', data: x }] }, expected: x.map((v, i) => v + BIAS[i % 4]) };
}

function addPool(batching: { maxBatchSize: number; maxQueueDelayMs: number; preferredBatchSizes?: number[] }, batches: { requests: number; rows: number }[]): Promise<WorkerPool> {
  return createWorkerPool({ modelPath: addPath, signature: addSignature, modelName: 'add', workers: 1, batching, onBatch: (b) => batches.push(b) });
}

describe('dynamic batching', () => {
  it('merges concurrent requests into one run, and each caller gets exactly its own rows', async () => {
    // GIVEN a pool that batches up to 8 rows, waiting up to 200 ms for them
    const batches: { requests: number; rows: number }[] = [];
    const pool = await addPool({ maxBatchSize: 8, maxQueueDelayMs: 200 }, batches);
    try {
      // WHEN 8 different requests arrive together
      const cases = Array.from({ length: 8 }, (_, i) => addInput(i + 1));
      const responses = await Promise.all(cases.map((c) => pool.infer(c.request)));
      // THEN one run served all 8, and each response holds its own rows only
      expect(batches).toEqual([{ requests: 8, rows: 8 }]);
      cases.forEach((c, i) => {
        expect(responses[i].id).toBe(`req-${i + 1}`);
        expect(responses[i].outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1, 4], data: c.expected }]);
      });
      expect(pool.stats()).toMatchObject({ inferenceCount: 8, executionCount: 1, batches: [{ batchSize: 8, count: 1, requests: 8 }] });
    } finally {
      await pool.close();
    }
  });

  it('counts rows: requests of several rows merge up to the limit, a larger one runs alone', async () => {
    const batches: { requests: number; rows: number }[] = [];
    const pool = await addPool({ maxBatchSize: 8, maxQueueDelayMs: 200 }, batches);
    try {
      const cases = [addInput(1, 3), addInput(2, 2), addInput(3, 3), addInput(4, 10)];
      const responses = await Promise.all(cases.map((c) => pool.infer(c.request)));
      expect(batches).toEqual([{ requests: 3, rows: 8 }, { requests: 1, rows: 10 }]);
      cases.forEach((c, i) => expect(responses[i].outputs[0]).toMatchObject({ shape: [c.expected.length / 4, 4], data: c.expected }));
    } finally {
      await pool.close();
    }
  });

  it('a lone request waits maxQueueDelayMs for company, then runs; a preferred size runs at once', async () => {
    const batches: { requests: number; rows: number }[] = [];
    const pool = await addPool({ maxBatchSize: 8, maxQueueDelayMs: 60, preferredBatchSizes: [2] }, batches);
    try {
      let t0 = performance.now();
      expect((await pool.infer(addInput(1).request)).outputs[0].data).toEqual(addInput(1).expected);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
      // Two requests make the preferred size: no waiting for more.
      t0 = performance.now();
      await Promise.all([pool.infer(addInput(2).request), pool.infer(addInput(3).request)]);
      expect(batches).toEqual([{ requests: 1, rows: 1 }, { requests: 2, rows: 2 }]);
    } finally {
      await pool.close();
    }
  });

  it('requests that cannot share a run (different non-batch dims) are not merged', async () => {
    // GIVEN the cls model (x [?, 3, ?, ?]) and requests of two widths
    const batches: { requests: number; rows: number }[] = [];
    const pool = await createWorkerPool({
      modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'cls', workers: 1,
      batching: { maxBatchSize: 8, maxQueueDelayMs: 100 }, onBatch: (b) => batches.push(b),
    });
    try {
      const widths = [192, 96, 192, 96, 192, 96];
      const inputs = widths.map((w, i) => ({ w, data: floats(3 * 48 * w, i + 1) }));
      // WHEN they arrive together
      const responses = await Promise.all(inputs.map(({ w, data }) => pool.infer({
        inputs: [{ name: 'x', shape: [1, 3, 48, w], datatype: 'FP32', data: encodeBase64Tensor(data)!, parameters: { content_encoding: 'base64' } }],
      })));
      // THEN each width got its own run, and every answer matches a direct run of its input
      expect(batches).toEqual([{ requests: 3, rows: 3 }, { requests: 3, rows: 3 }]);
      for (const [i, { w, data }] of inputs.entries()) {
        const direct = (await runDirect('cls', { x: new ort.Tensor('float32', data, [1, 3, 48, w]) }))['softmax_0.tmp_0'].data as number[];
        (responses[i].outputs[0].data as number[]).forEach((v, k) => expect(v).toBeCloseTo(direct[k], 5));
      }
    } finally {
      await pool.close();
    }
  });

  it('batch keys separate dtypes, trailing dims and requested outputs; scalars and empty batches never merge', () => {
    const t = (shape: number[], dtype: DecodedTensor['dtype'] = 'float32'): DecodedTensor => ({ name: 'x', dtype, shape, data: new Float32Array(0) });
    expect(batchKey([t([1, 4])], ['y'])).toBe(batchKey([t([5, 4])], ['y']));
    expect(batchKey([t([1, 4])], ['y'])).not.toBe(batchKey([t([1, 5])], ['y']));
    expect(batchKey([t([1, 4])], ['y'])).not.toBe(batchKey([t([1, 4], 'float64')], ['y']));
    expect(batchKey([t([1, 4])], ['y'])).not.toBe(batchKey([t([1, 4])], ['y', 'z']));
    expect(batchKey([t([])], ['y'])).toBeUndefined();
    expect(batchKey([t([0, 4])], ['y'])).toBeUndefined();
  });

  it('a model whose first dim is fixed cannot batch: the pool refuses to start with a clear reason', async () => {
    expect(batchingProblem(await signatureOf('wakeword'))).toContain('first dim is not dynamic');
    await expect(createWorkerPool({
      modelPath: MODELS.wakeword.path, signature: await signatureOf('wakeword'), modelName: 'ww', workers: 1, batching: { maxBatchSize: 4, maxQueueDelayMs: 1 },
    })).rejects.toMatchObject({ code: 'BATCHING_UNSUPPORTED', message: expect.stringContaining('onnx::Flatten_0') });
  });

  it('over HTTP, the statistics route reports the merged batch sizes', async () => {
    // GIVEN the server with batching up to 4
    const srv = await startServer({ modelPath: addPath, signature: addSignature, modelName: 'add', port: 0, host: '127.0.0.1', workers: 1, batching: { maxBatchSize: 4, maxQueueDelayMs: 1000 } });
    try {
      // WHEN 4 clients call at once
      const cases = Array.from({ length: 4 }, (_, i) => addInput(i + 1));
      const answers = await Promise.all(cases.map(async (c) => {
        const res = await fetch(`${srv.url}/v2/models/add/infer`, { method: 'POST', body: JSON.stringify(c.request), headers: { 'content-type': 'application/json' } });
        return (await res.json()) as { outputs: { data: number[] }[] };
      }));
      // THEN each got its rows, from one run of 4
      cases.forEach((c, i) => expect(answers[i].outputs[0].data).toEqual(c.expected));
      const stats = await (await fetch(`${srv.url}/v2/models/add/stats`)).json();
      expect(stats).toMatchObject({
        model_stats: [{ name: 'add', version: '1', inference_count: 4, execution_count: 1, batch_stats: [{ batch_size: 4, compute_infer: { count: 1 } }] }],
        deploy_model: { workers: 1, batching: { maxBatchSize: 4, maxQueueDelayMs: 1000 }, batches: [{ batch_size: 4, runs: 1, requests: 4 }] },
      });
    } finally {
      await srv.close();
    }
  });
});
