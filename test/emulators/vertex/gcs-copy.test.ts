// The Cloud Storage fake's server-side copy (objects.rewrite / objects.copy), driven by @google-cloud/storage.
import { Storage } from '@google-cloud/storage';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGcsFake, type GcsFake } from './_gcs.js';

let gcs: GcsFake;
let storage: Storage;

beforeAll(async () => {
  gcs = await startGcsFake();
  gcs.createBucket('dst');
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test-token' });
  // No retries: a refusal must surface as it is.
  storage = new Storage({ apiEndpoint: gcs.endpoint, authClient, useAuthWithCustomEndpoint: true, retryOptions: { autoRetry: false } });
});

afterAll(async () => {
  await gcs?.stop();
});

describe('the GCS fake copies objects server-side as Cloud Storage does', () => {
  it('File.copy goes through rewriteTo: the destination gets the bytes, checksums and metadata, a new generation, and nothing counts as uploaded', async () => {
    const source = gcs.putObject('gs://src/models/a.onnx', Buffer.from('weights'), { sha256: 'abc' });
    await storage.bucket('src').file('models/a.onnx').copy(storage.bucket('dst').file('repo/a/1/model.onnx'));
    const [meta] = await storage.bucket('dst').file('repo/a/1/model.onnx').getMetadata();
    expect(meta).toMatchObject({ size: '7', md5Hash: source.md5Hash, crc32c: source.crc32c, metadata: { sha256: 'abc' } });
    expect(meta.generation).not.toBe(String(source.generation));
    expect(gcs.copies).toEqual([{ from: 'gs://src/models/a.onnx', to: 'gs://dst/repo/a/1/model.onnx', bytes: 7, via: 'rewriteTo' }]);
    expect(gcs.uploads).toEqual([]);
    expect(gcs.requests.at(-2)).toMatchObject({ method: 'POST', path: '/storage/v1/b/src/o/models%2Fa.onnx/rewriteTo/b/dst/o/repo%2Fa%2F1%2Fmodel.onnx', status: 200 });
  });

  it('a source pinned to a generation that was replaced is 404, and nothing is written', async () => {
    const old = gcs.putObject('gs://src/models/b.onnx', Buffer.from('v1'));
    gcs.putObject('gs://src/models/b.onnx', Buffer.from('v2'));
    const copies = gcs.copies.length;
    await expect(storage.bucket('src').file('models/b.onnx', { generation: old.generation }).copy(storage.bucket('dst').file('b.onnx'))).rejects.toMatchObject({ code: 404 });
    expect(gcs.copies).toHaveLength(copies);
    expect(gcs.buckets.get('dst')!.has('b.onnx')).toBe(false);
  });

  it('a missing source object or bucket is 404; a failed ifSourceGenerationMatch is 412', async () => {
    await expect(storage.bucket('src').file('models/none.onnx').copy(storage.bucket('dst').file('x'))).rejects.toMatchObject({ code: 404 });
    await expect(storage.bucket('nobucket').file('a').copy(storage.bucket('dst').file('x'))).rejects.toMatchObject({ code: 404 });
    const res = await fetch(`${gcs.endpoint}/storage/v1/b/src/o/models%2Fa.onnx/copyTo/b/dst/o/y?ifSourceGenerationMatch=1`, { method: 'POST' });
    expect(res.status).toBe(412);
    expect(((await res.json()) as any).error.errors[0].reason).toBe('conditionNotMet');
  });
});
