import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModel } from '../../src/model/inspect-model.js';
import { generatedInputHint } from '../../src/smoke/generated-input-hint.js';
import { generateSmokeRequest } from '../../src/smoke/smoke-input.js';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';

describe('a generated smoke input the model refuses', () => {
  it('is named as the likely cause, with the config lines that give real shapes and values', async () => {
    const signature = await inspectModel(REAL_MODELS.sileroVad);
    const check = generatedInputHint(signature, generateSmokeRequest(signature));
    expect(check).toMatchObject({ name: 'generated input', passed: false });
    expect(check.message).toContain('may not suit this model');
    expect(check.message).toContain('model: { inputs: { input: { shape: [1, 64] }, state: { shape: [2, 1, 128] } } }');
    expect(check.message).toContain('smoke: { input: { sr: <a real value> } }');
  });

  describe('deployed: silero-vad with the generated input, on the local target', () => {
    let dir: string;
    let toolkit: Toolkit;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'dm-hint-'));
      await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default { name: 'vad', model: { path: ${JSON.stringify(REAL_MODELS.sileroVad)} }, targets: { local: { type: 'local' } }, smoke: { requests: 1 } };\n`);
      toolkit = new Toolkit();
    });
    afterAll(async () => {
      await toolkit.destroy(await toolkit.load({ cwd: dir })).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    });

    it('fails its smoke test with the hint beside the refusal', async () => {
      const report = (await toolkit.deploy(await toolkit.load({ cwd: dir }))).targets[0]!;
      expect(report.status).toBe('failed');
      expect(report.checks.find((c) => c.name === 'status')).toMatchObject({ passed: false, message: expect.stringMatching(/^HTTP [45]\d\d/) });
      expect(report.checks.find((c) => c.name === 'generated input')?.message).toContain('sr: <a real value>');
    }, 240_000);
  });
});
