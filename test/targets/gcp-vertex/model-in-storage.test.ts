// gcp-vertex with model.path a gs:// object: the model is copied inside Cloud Storage, never uploaded from here.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { floatBytes, writeTinyModel } from '../../_helpers/onnx-models.js';
import { startVertexFake, type VertexFake } from '../../emulators/vertex/index.js';

// GIVEN the tiny `external-data` model (y = x + bias, bias = [1,2,3,4] in external-data.bin) as
// objects gs://dm-models/adder/v1/{model.onnx,external-data.bin} in the Vertex fake's Cloud
// Storage, and a gcp-vertex target whose model.path names the object.

const MODEL_URL = 'gs://dm-models/adder/v1/model.onnx';
const TARGET = {
  type: 'gcp-vertex', project: 'my-project', region: 'us-central1', machineType: 'g2-standard-4',
  image: 'us-docker.pkg.dev/my-project/triton/tritonserver:25.06-py3', stagingBucket: 'gs://dm-staging/models',
};

let fake: VertexFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;
let modelBytes: Buffer;

async function writeConfig(target: Record<string, unknown> = {}): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: '${MODEL_URL}' },
    targets: { vertex: ${JSON.stringify({ ...TARGET, ...target })} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(stage = 'dev') {
  const project = await toolkit.load({ cwd: dir, stage });
  return (await toolkit.deploy(project)).targets[0];
}

const staged = (stage: string) => [...fake.gcs.buckets.get('dm-staging')!.keys()].filter((k) => k.startsWith(`models/deploy-model/adder/${stage}/`));

beforeAll(async () => {
  fake = await startVertexFake();
  fake.gcs.createBucket('dm-staging');
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-vertex-gs-'));
  const file = await writeTinyModel(dir, 'external-data');
  modelBytes = await readFile(file);
  fake.gcs.putObject(MODEL_URL, modelBytes);
  fake.gcs.putObject('gs://dm-models/adder/v1/external-data.bin', await readFile(path.join(dir, 'external-data.bin')));
  await writeConfig();
}, 120_000);

afterAll(async () => {
  restoreEnv?.();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  host = new RecordingIoHost();
  toolkit = new Toolkit({ ioHost: host, cacheDir: path.join(dir, '.cache') });
});

describe('gcp-vertex deploy of a model in Cloud Storage', () => {
  it('copies the model and its external data inside Cloud Storage, uploads only config.pbtxt, and the deployed model passes its smoke test', async () => {
    // WHEN
    const report = await deploy();
    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
    const prefix = /^gs:\/\/dm-staging\/models\/deploy-model\/adder\/dev\/vertex\/[0-9a-f]{12}\/adder\/1\//;
    expect(fake.gcs.copies).toEqual([
      { from: 'gs://dm-models/adder/v1/external-data.bin', to: expect.stringMatching(new RegExp(`${prefix.source}external-data\\.bin$`)), bytes: 16, via: 'rewriteTo' },
      { from: MODEL_URL, to: expect.stringMatching(new RegExp(`${prefix.source}model\\.onnx$`)), bytes: modelBytes.length, via: 'rewriteTo' },
    ]);
    // No model byte went over the wire from here: the only upload is the Triton config.
    expect(fake.gcs.uploads.map((u) => u.name)).toEqual([expect.stringMatching(/\/adder\/config\.pbtxt$/)]);
    expect(fake.gcs.requests.some((r) => r.method === 'POST' && /\/rewriteTo\//.test(r.path) && r.status === 200)).toBe(true);
    // The copies are where the Model's artifactUri says, with the source's bytes.
    expect(staged('dev').sort()).toEqual([
      expect.stringMatching(/\/adder\/1\/external-data\.bin$/), expect.stringMatching(/\/adder\/1\/model\.onnx$/), expect.stringMatching(/\/adder\/config\.pbtxt$/),
    ]);
    const copied = staged('dev').find((k) => k.endsWith('/model.onnx'))!;
    expect(fake.gcs.buckets.get('dm-staging')!.get(copied)!.data.equals(modelBytes)).toBe(true);
    expect(host.messages.find((m) => m.code === 'DM_VERTEX_UPLOADED')?.data).toMatchObject({ files: 3, sent: 3, uploaded: 1, copied: 2 });
  });

  it('a second deploy with nothing changed copies and uploads nothing', async () => {
    const [copies, uploads] = [fake.gcs.copies.length, fake.gcs.uploads.length];
    const report = await deploy();
    expect(report).toMatchObject({ status: 'passed', details: expect.objectContaining({ unchanged: true }) });
    expect(fake.gcs.copies).toHaveLength(copies);
    expect(fake.gcs.uploads).toHaveLength(uploads);
  });

  it('a new version of the same repository (more replicas) finds its files in place: nothing copied or uploaded', async () => {
    await writeConfig({ minReplicas: 2 });
    const [copies, uploads] = [fake.gcs.copies.length, fake.gcs.uploads.length];
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
    expect(fake.gcs.copies).toHaveLength(copies);
    expect(fake.gcs.uploads).toHaveLength(uploads);
    expect(host.messages.find((m) => m.code === 'DM_VERTEX_UPLOADED')?.data).toMatchObject({ sent: 0, copied: 0, uploaded: 0 });
    await writeConfig();
  });

  it('an external data file replaced after its sha256 was recorded is refused before anything is deployed', async () => {
    // GIVEN the bias object replaced by other bytes of the same size; the cache still holds the recorded copy
    fake.gcs.putObject('gs://dm-models/adder/v1/external-data.bin', Buffer.from(floatBytes([5, 6, 7, 8])));
    const [copies, uploads, rpcs] = [fake.gcs.copies.length, fake.gcs.uploads.length, fake.calls.length];
    // WHEN a stage with nothing in place yet deploys
    const report = await deploy('prod');
    // THEN
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', message: expect.stringMatching(/gs:\/\/dm-models\/adder\/v1\/external-data\.bin is not the one .*\(its MD5 is .*nothing was deployed/) });
    expect(fake.gcs.copies).toHaveLength(copies);
    expect(fake.gcs.uploads).toHaveLength(uploads);
    expect(staged('prod')).toEqual([]);
    expect(fake.calls.slice(rpcs).map((c) => c.method)).not.toContain('UploadModel');
    expect([...fake.state.endpoints.values()].some((e) => e.displayName === 'adder-prod-vertex')).toBe(false);
  });

  it('a model object replaced whose metadata carries its sha256 is refused by that sha256', async () => {
    fake.gcs.putObject('gs://dm-models/adder/v1/external-data.bin', Buffer.from(floatBytes([1, 2, 3, 4])));
    fake.gcs.putObject(MODEL_URL, Buffer.concat([modelBytes, Buffer.from([0])]), { sha256: 'a'.repeat(64) });
    const report = await deploy('prod');
    expect(report.error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', message: expect.stringContaining(`its sha256 is ${'a'.repeat(64)}`) });
  });
});
