import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Toolkit } from '../../src/toolkit/toolkit.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';

const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'];

describe('status reports every target, like deploy', () => {
  let dir: string;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-status-'));
    for (const v of AWS_VARS) { saved[v] = process.env[v]; delete process.env[v]; }
    // No credentials anywhere: the AWS SDK's file and metadata sources point at nothing.
    process.env.AWS_CONFIG_FILE = path.join(dir, 'none');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'none');
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
      name: 'cls', model: { path: ${JSON.stringify(REAL_MODELS.cls)} },
      targets: { local: { type: 'local' }, lambda: { type: 'aws-lambda', region: 'eu-west-1' } },
    };\n`);
  });
  afterAll(async () => {
    for (const v of AWS_VARS) { if (saved[v] === undefined) delete process.env[v]; else process.env[v] = saved[v]; }
    await rm(dir, { recursive: true, force: true });
  });

  it('a target whose status cannot be read (no AWS credentials) is unknown with its error; the local target is still reported', async () => {
    const toolkit = new Toolkit();
    const rows = await toolkit.status(await toolkit.load({ cwd: dir }));
    expect(rows).toEqual([
      { name: 'local', type: 'local', state: 'not-deployed' },
      { name: 'lambda', type: 'aws-lambda', state: 'unknown', error: { code: expect.stringMatching(/^AWS_/), message: expect.stringMatching(/credentials/i) } },
    ]);
  }, 60_000);
});
