import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerPool } from '../../handlers/pool/types.js';
import { startServer, type StartedServer } from '../../handlers/server/create-server.js';
import { binaryRequest } from './_binary.js';
import { floats, MODELS, signatureOf } from './_models.js';

describe('backpressure', () => {
  let srv: StartedServer;
  beforeAll(async () => {
    // One worker, room for two waiting requests.
    srv = await startServer({ modelPath: MODELS.det.path, signature: await signatureOf('det'), modelName: 'det', port: 0, host: '127.0.0.1', workers: 1, maxQueue: 2 });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('past the queue bound the server answers 503 OVERLOADED with Retry-After, and keeps serving', async () => {
    // GIVEN det requests that each keep the worker busy for tens of milliseconds
    const hw = 512;
    const { body, headers } = binaryRequest({ inputs: [{ name: 'x', shape: [1, 3, hw, hw], datatype: 'FP32' }], parameters: { binary_data_output: true } }, [floats(3 * hw * hw, 3)]);
    const send = async () => {
      const res = await fetch(`${srv.url}/v2/models/det/infer`, { method: 'POST', body, headers });
      const text = Buffer.from(await res.arrayBuffer());
      return { status: res.status, retryAfter: res.headers.get('retry-after'), json: res.status === 200 ? undefined : JSON.parse(text.toString()) };
    };
    // WHEN ten arrive at once
    const results = await Promise.all(Array.from({ length: 10 }, send));
    // THEN the ones beyond the running request and the two queued ones are refused, politely
    const refused = results.filter((r) => r.status === 503);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.json.code).toBe('OVERLOADED');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(results.every((r) => r.status === 200 || r.status === 503)).toBe(true);
    expect((srv.core as WorkerPool).stats().rejected).toBe(refused.length);
    // … and once the queue drains, requests are served again
    expect((await send()).status).toBe(200);
  });
});
