// azure-ml with model.path an Azure Blob URL: the model is copied inside Blob Storage, never uploaded from here.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RecordingIoHost } from '../../../src/io/io-host.js';
import { Toolkit } from '../../../src/toolkit/toolkit.js';
import { floatBytes, writeTinyModel } from '../../_helpers/onnx-models.js';
import { startAzureFake, type AzureFake } from '../../emulators/azure/index.js';

// GIVEN the tiny `external-data` model (y = x + bias, bias = [1,2,3,4] in external-data.bin) as
// blobs adder/v1/{model.onnx,external-data.bin} of container `models` in the Azure fake's storage
// account, and an azure-ml target whose model.path names the blob.

const MODEL_URL = 'https://dmstore.blob.core.windows.net/models/adder/v1/model.onnx';
const TARGET = {
  type: 'azure-ml', subscriptionId: '00000000-0000-0000-0000-000000000000', resourceGroup: 'rg', workspace: 'mlws', instanceType: 'Standard_NC4as_T4_v3',
};

let fake: AzureFake;
let dir: string;
let restoreEnv: () => void;
let host: RecordingIoHost;
let toolkit: Toolkit;
let modelBytes: Buffer;

function putBlob(name: string, data: Buffer, metadata?: Record<string, string>): void {
  const etag = `"0x${createHash('md5').update(data).update(String(Math.random())).digest('hex').slice(0, 15).toUpperCase()}"`;
  fake.state.blobs.get('dmstore/models')!.set(name, { data, contentType: 'application/octet-stream', etag, lastModified: new Date(), ...(metadata ? { metadata } : {}) });
}

async function writeConfig(target: Record<string, unknown> = {}): Promise<void> {
  await writeFile(path.join(dir, 'deploy-model.config.mjs'), `export default {
    name: 'adder',
    model: { path: '${MODEL_URL}' },
    targets: { azure: ${JSON.stringify({ ...TARGET, ...target })} },
    smoke: { requests: 2, expectShapes: { y: [1, 4] } },
  };\n`);
}

async function deploy(stage = 'dev') {
  const project = await toolkit.load({ cwd: dir, stage });
  return (await toolkit.deploy(project)).targets[0];
}

/** The datastore's blobs of one stage. */
const staged = (stage: string) => [...fake.state.blobs.entries()].filter(([k]) => k !== 'dmstore/models').flatMap(([, m]) => [...m.keys()]).filter((k) => k.startsWith(`deploy-model/adder/${stage}/`));

beforeAll(async () => {
  fake = await startAzureFake();
  restoreEnv = fake.applyEnv();
  dir = await mkdtemp(path.join(os.tmpdir(), 'dm-azure-blob-'));
  const file = await writeTinyModel(dir, 'external-data');
  modelBytes = await readFile(file);
  fake.state.blobs.set('dmstore/models', new Map());
  putBlob('adder/v1/model.onnx', modelBytes);
  putBlob('adder/v1/external-data.bin', await readFile(path.join(dir, 'external-data.bin')));
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

describe('azure-ml deploy of a model in Blob Storage', () => {
  it('copies the model and its external data inside Blob Storage with the bearer token, uploads only config.pbtxt, and the deployment passes its smoke test', async () => {
    // WHEN
    const report = await deploy();
    // THEN
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed', promoted: true });
    const source = `${fake.blobEndpoint}/models/adder/v1`;
    expect(fake.state.blobCopies).toEqual([
      { from: `${source}/external-data.bin`, container: expect.stringMatching(/^dmstore\/azureml-blobstore-/), name: expect.stringMatching(/^deploy-model\/adder\/dev\/azure\/[0-9a-f]{12}\/adder\/1\/external-data\.bin$/), bytes: 16, sync: true },
      { from: `${source}/model.onnx`, container: expect.stringMatching(/^dmstore\/azureml-blobstore-/), name: expect.stringMatching(/^deploy-model\/adder\/dev\/azure\/[0-9a-f]{12}\/adder\/1\/model\.onnx$/), bytes: modelBytes.length, sync: true },
    ]);
    // No model byte went over the wire from here: the only upload is the Triton config.
    expect(fake.state.blobUploads.map((u) => u.name)).toEqual([expect.stringMatching(/\/adder\/config\.pbtxt$/)]);
    expect(staged('dev').sort()).toEqual([
      expect.stringMatching(/\/adder\/1\/external-data\.bin$/), expect.stringMatching(/\/adder\/1\/model\.onnx$/), expect.stringMatching(/\/adder\/config\.pbtxt$/),
    ]);
    expect(host.messages.find((m) => m.code === 'DM_AZURE_UPLOADED')?.data).toMatchObject({ files: 3, sent: 3, uploaded: 1, copied: 2 });
  });

  it('a second deploy with nothing changed copies and uploads nothing', async () => {
    const [copies, uploads] = [fake.state.blobCopies.length, fake.state.blobUploads.length];
    const report = await deploy();
    expect(report, JSON.stringify(report.error)).toMatchObject({ status: 'passed' });
    expect(host.codes()).toContain('DM_AZURE_UNCHANGED');
    expect(fake.state.blobCopies).toHaveLength(copies);
    expect(fake.state.blobUploads).toHaveLength(uploads);
  });

  it('an external data blob replaced after its sha256 was recorded is refused before anything is deployed', async () => {
    // GIVEN the bias blob replaced by other bytes of the same size; the cache still holds the recorded copy
    putBlob('adder/v1/external-data.bin', Buffer.from(floatBytes([5, 6, 7, 8])));
    const [copies, uploads, requests] = [fake.state.blobCopies.length, fake.state.blobUploads.length, fake.requests.length];
    // WHEN a stage with nothing in place yet deploys
    const report = await deploy('prod');
    // THEN
    expect(report.status).toBe('failed');
    expect(report.error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', message: expect.stringMatching(/models\/adder\/v1\/external-data\.bin is not the one .*\(its Content-MD5 is .*nothing was deployed/) });
    expect(fake.state.blobCopies).toHaveLength(copies);
    expect(fake.state.blobUploads).toHaveLength(uploads);
    expect(staged('prod')).toEqual([]);
    expect(fake.requests.slice(requests).filter((r) => r.method === 'PUT').map((r) => r.path)).toEqual([]);
    expect(fake.state.endpoints.has('adder-prod-azure')).toBe(false);
  });

  it('a model blob whose metadata carries another sha256 is refused by that sha256', async () => {
    putBlob('adder/v1/external-data.bin', Buffer.from(floatBytes([1, 2, 3, 4])));
    putBlob('adder/v1/model.onnx', modelBytes, { sha256: 'b'.repeat(64) });
    const report = await deploy('prod');
    expect(report.error).toMatchObject({ code: 'MODEL_SHA256_MISMATCH', message: expect.stringContaining(`its sha256 is ${'b'.repeat(64)}`) });
    expect(staged('prod')).toEqual([]);
  });
});
