import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBase64Tensor } from '../../handlers/core/base64.js';
import { createWorkerPool } from '../../handlers/pool/create-worker-pool.js';
import { cpuBudget, poolSize } from '../../handlers/pool/pool-size.js';
import type { WorkerPool } from '../../handlers/pool/types.js';
import { startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { binaryRequest } from './_binary.js';
import { floats, MODELS, runDirect, signatureOf, validInput } from './_models.js';

/** A cls input of width `w` as a base64 v2 tensor, and the same data for the direct run. */
function clsInput(seed: number, w = 192) {
  const data = floats(3 * 48 * w, seed);
  return {
    tensor: { name: 'x', shape: [1, 3, 48, w], datatype: 'FP32', data: encodeBase64Tensor(data)!, parameters: { content_encoding: 'base64' } },
    feeds: { x: new ort.Tensor('float32', data, [1, 3, 48, w]) },
  };
}

describe('poolSize', () => {
  it('fills the CPUs once: one single-threaded worker per CPU by default', () => {
    expect(poolSize({ cpus: 8 })).toEqual({ workers: 8, intraOpThreads: 1, cpus: 8 });
    expect(poolSize({ cpus: 8, workers: 2 })).toEqual({ workers: 2, intraOpThreads: 4, cpus: 8 });
    expect(poolSize({ cpus: 8, intraOpThreads: 4 })).toEqual({ workers: 2, intraOpThreads: 4, cpus: 8 });
    expect(poolSize({ cpus: 2, workers: 4 })).toEqual({ workers: 4, intraOpThreads: 1, cpus: 2 });
    expect(() => poolSize({ cpus: 2, workers: 0 })).toThrow(/workers is 0/);
  });

  it('a cgroup CPU quota lowers the budget', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deploy-model-cgroup-'));
    try {
      await writeFile(join(dir, 'cpu.max'), '100000 100000\n');
      expect(cpuBudget(join(dir, 'cpu.max'))).toBe(1);
      await writeFile(join(dir, 'cpu.max'), 'max 100000\n');
      expect(cpuBudget(join(dir, 'cpu.max'))).toBeGreaterThanOrEqual(1);
      expect(cpuBudget(join(dir, 'missing'))).toBeGreaterThanOrEqual(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('createWorkerPool', () => {
  let pool: WorkerPool;
  beforeAll(async () => {
    pool = await createWorkerPool({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'cls', workers: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('answers concurrent requests each with its own outputs, equal to direct onnxruntime', async () => {
    // GIVEN 24 different inputs, sent at once
    const inputs = Array.from({ length: 24 }, (_, i) => clsInput(i + 1));
    // WHEN the pool answers them concurrently
    const responses = await Promise.all(inputs.map((inp, i) => pool.infer({ id: `r${i}`, inputs: [inp.tensor] })));
    // THEN each answer is the direct run of its own input
    for (const [i, inp] of inputs.entries()) {
      expect(responses[i].id).toBe(`r${i}`);
      expect(responses[i].outputs[0].data).toEqual((await runDirect('cls', inp.feeds))['softmax_0.tmp_0'].data);
    }
    expect(pool.workers).toBe(2);
    expect(pool.stats()).toMatchObject({ workers: 2, intraOpThreads: 1, batching: null, queued: 0, running: 0 });
    expect(pool.stats().inferenceCount).toBeGreaterThanOrEqual(24);
  });

  it('serves a multi-input, multi-output model (int64 scalar included) and validates like the core', async () => {
    const vad = await createWorkerPool({ modelPath: MODELS.vad.path, signature: await signatureOf('vad'), modelName: 'vad', workers: 1 });
    try {
      const { tensors, feeds } = await validInput('vad');
      const res = await vad.infer({ inputs: tensors });
      const direct = await runDirect('vad', feeds);
      expect(res.outputs.map((o) => o.name)).toEqual(['output', 'stateN']);
      expect(res.outputs[0].data).toEqual(direct.output.data);
      expect(res.outputs[1].data).toEqual(direct.stateN.data);
      await expect(vad.infer({ inputs: [{ name: 'input', shape: [1, 512], datatype: 'FP32', data: [1] }] })).rejects.toMatchObject({ status: 400, code: 'MISSING_INPUT' });
      // Too few samples for silero's STFT window: onnxruntime's Pad kernel refuses the values, a 400 with its message
      const short = tensors.map((t) => (t.name === 'input' ? { name: 'input', shape: [1, 10], datatype: 'FP32', data: Array(10).fill(0.1) } : t));
      await expect(vad.infer({ inputs: short })).rejects.toMatchObject({
        status: 400, code: 'INPUT_VALUES_REJECTED', message: expect.stringMatching(/^the model refused the input values: its Pad node '[^']+' says: Pad reflect: post-pad \(64\) exceeds maximum allowed \(9\)/),
      });
    } finally {
      await vad.close();
    }
  });

  it('fails to start with MODEL_LOAD_FAILED naming the model, and SIGNATURE_MISMATCH for another model', async () => {
    await expect(createWorkerPool({ modelPath: 'missing.onnx', signature: await signatureOf('cls'), modelName: 'x', workers: 1 }))
      .rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringContaining('missing.onnx') });
    await expect(createWorkerPool({ modelPath: MODELS.wakeword.path, signature: await signatureOf('cls'), modelName: 'x', workers: 1 }))
      .rejects.toMatchObject({ code: 'SIGNATURE_MISMATCH' });
  });

  it('falls back to CPU when a listed execution provider cannot load, and says so once', async () => {
    const logged: string[] = [];
    const p = await createWorkerPool({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'cls', workers: 2, executionProviders: ['cuda', 'cpu'], log: (l) => logged.push(l) });
    try {
      expect(p.executionProviders).toEqual(['cpu']);
      expect(logged.filter((l) => l.includes('"cuda"'))).toHaveLength(1);
      expect((await p.infer({ inputs: [clsInput(2).tensor] })).outputs[0].data).toEqual((await runDirect('cls', clsInput(2).feeds))['softmax_0.tmp_0'].data);
    } finally {
      await p.close();
    }
  });

  it('close lets requests in flight finish, then refuses new ones with 503', async () => {
    const p = await createWorkerPool({ modelPath: MODELS.cls.path, signature: await signatureOf('cls'), modelName: 'cls', workers: 1 });
    const pending = Promise.all([1, 2, 3].map((s) => p.infer({ inputs: [clsInput(s).tensor] })));
    await p.close();
    expect((await pending).length).toBe(3);
    await expect(p.infer({ inputs: [clsInput(1).tensor] })).rejects.toMatchObject({ status: 503, code: 'NOT_READY' });
  });
});

describe('the event loop while the model runs', () => {
  let srv: StartedServer;
  const hw = 384;
  beforeAll(async () => {
    srv = await startServer({ modelPath: MODELS.det.path, signature: await signatureOf('det'), modelName: 'det', port: 0, host: '127.0.0.1', workers: 2 });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('stays responsive during a burst: timer lag far below the time the runs would block it', async () => {
    // GIVEN 8 det requests of 3×384×384 in the binary tensor format, so the server's own work is a copy
    const { body, headers } = binaryRequest({ inputs: [{ name: 'x', shape: [1, 3, hw, hw], datatype: 'FP32' }], parameters: { binary_data_output: true } }, [floats(3 * hw * hw, 5)]);
    const send = async () => {
      const res = await fetch(`${srv.url}/v2/models/det/infer`, { method: 'POST', body, headers });
      await res.arrayBuffer();
      return res.status;
    };
    await send(); // warm up both paths
    const before = (srv.core as WorkerPool).stats().computeInfer.ns;

    // WHEN they are sent at once while a 5 ms timer measures how late it fires
    let lag = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lag = Math.max(lag, now - last - 5);
      last = now;
    }, 5);
    const statuses = await Promise.all(Array.from({ length: 8 }, send));
    clearInterval(timer);

    // THEN all succeed, and the worst lag is far below the run time a single thread would have blocked for
    expect(statuses).toEqual(Array(8).fill(200));
    const blockingMs = ((srv.core as WorkerPool).stats().computeInfer.ns - before) / 1e6;
    expect(blockingMs).toBeGreaterThan(150);
    expect(lag).toBeLessThan(blockingMs / 3);
  });
});
