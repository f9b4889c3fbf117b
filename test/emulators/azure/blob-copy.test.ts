// The Azure fake's server-side blob copy (Copy Blob From URL, Copy Blob), driven by @azure/storage-blob.
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzureFake, type AzureFake } from './index.js';

const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const bearer = { scheme: 'Bearer', value: 'test-token' };
let fake: AzureFake;
let container: ContainerClient;
let sourceUrl: string;
const data = Buffer.from('model weights');

beforeAll(async () => {
  fake = await startAzureFake();
  const [store] = [...fake.state.blobs.keys()];
  // No retries: a refusal must surface as it is.
  container = new ContainerClient(`${fake.origin}/${store}`, credential, { tlsOptions: { ca: fake.ca }, retryOptions: { maxTries: 1 } } as object);
  await container.getBlockBlobClient('src/model.onnx').uploadData(data, { metadata: { sha256: 'abc' } });
  sourceUrl = container.getBlobClient('src/model.onnx').url;
}, 60_000);

afterAll(async () => {
  await fake?.stop();
});

describe('the Azure fake copies blobs server-side as Blob Storage does', () => {
  it('syncCopyFromURL with a bearer source authorization: 202 success, the bytes and metadata copied, recorded as a copy', async () => {
    const uploads = fake.state.blobUploads.length;
    const out = await container.getBlockBlobClient('dst/model.onnx').syncCopyFromURL(sourceUrl, { sourceAuthorization: bearer, sourceContentMD5: createHash('md5').update(data).digest() });
    expect(out._response.status).toBe(202);
    expect(out.copyStatus).toBe('success');
    const props = await container.getBlobClient('dst/model.onnx').getProperties();
    expect(props).toMatchObject({ contentLength: data.length, metadata: { sha256: 'abc' } });
    expect(fake.state.blobCopies.at(-1)).toMatchObject({ from: sourceUrl, name: 'dst/model.onnx', bytes: data.length, sync: true });
    expect(fake.state.blobUploads).toHaveLength(uploads);
  });

  it('a private source without x-ms-copy-source-authorization is 401 CannotVerifyCopySource', async () => {
    await expect(container.getBlockBlobClient('dst/a').syncCopyFromURL(sourceUrl)).rejects.toMatchObject({ statusCode: 401, code: 'CannotVerifyCopySource' });
  });

  it('a source ETag that no longer matches is 412 SourceConditionNotMet; a wrong source MD5 is 400 Md5Mismatch; a missing source 404', async () => {
    await expect(container.getBlockBlobClient('dst/b').syncCopyFromURL(sourceUrl, { sourceAuthorization: bearer, sourceConditions: { ifMatch: '"0xOLD"' } }))
      .rejects.toMatchObject({ statusCode: 412, code: 'SourceConditionNotMet' });
    await expect(container.getBlockBlobClient('dst/b').syncCopyFromURL(sourceUrl, { sourceAuthorization: bearer, sourceContentMD5: createHash('md5').update('other').digest() }))
      .rejects.toMatchObject({ statusCode: 400, code: 'Md5Mismatch' });
    await expect(container.getBlockBlobClient('dst/b').syncCopyFromURL(`${sourceUrl}.missing`, { sourceAuthorization: bearer }))
      .rejects.toMatchObject({ statusCode: 404, code: 'CannotVerifyCopySource' });
    expect(await container.getBlobClient('dst/b').exists()).toBe(false);
  });

  it('beginCopyFromURL (Copy Blob, which the SDK sends without a source authorization) reads a source with a SAS and finishes at once; without one it is refused', async () => {
    await expect(container.getBlockBlobClient('dst/c').beginCopyFromURL(sourceUrl).then((p) => p.pollUntilDone())).rejects.toMatchObject({ statusCode: 401, code: 'CannotVerifyCopySource' });
    const poller = await container.getBlockBlobClient('dst/c').beginCopyFromURL(`${sourceUrl}?sv=2025-01-05&sr=b&sp=r&sig=test`);
    const out = await poller.pollUntilDone();
    expect(out.copyStatus).toBe('success');
    expect(fake.state.blobCopies.at(-1)).toMatchObject({ name: 'dst/c', sync: false });
  });
});
