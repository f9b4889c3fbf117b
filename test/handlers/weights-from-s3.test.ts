// Weights loaded from S3 at init: the SigV4 signature checked against the AWS SDK's own signer, the download against moto's S3.
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchModelObjects, objectUrl, readModelObjects, signS3Get, weightsFromEnv, type ModelObject } from '../../handlers/lambda/weights-from-s3.js';
import { tinyModelBytes } from '../_helpers/onnx-models.js';
import { motoMissing, startMotoServer, type MotoServer } from '../references/aws/start-moto-server.js';

/** The Checksum constructor the signer takes (what @smithy/hash-node gives the SDK): sha256, or HMAC-sha256 with a secret. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', typeof secret === 'string' ? secret : (secret instanceof ArrayBuffer ? Buffer.from(secret) : Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : (data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

describe('signing the GET', () => {
  it.each([
    ['a session token, virtual-hosted style', 'https://cdk-hnb659fds-assets-123456789012-eu-west-1.s3.eu-west-1.amazonaws.com/4f1a.onnx', 'eu-west-1', 'IQoJb3JpZ2luX2VjE...token'],
    ['no token, path style on a custom endpoint with a port', 'http://127.0.0.1:4566/models/dir%20one/model%2Bv2.onnx', 'us-east-1', undefined],
  ])('gives the Authorization header the AWS SDK signer gives (%s)', async (_name, href, region, sessionToken) => {
    // GIVEN a fixed clock and credentials
    const now = new Date('2026-12-07T12:34:56.000Z');
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', ...(sessionToken ? { sessionToken } : {}) };
    const url = new URL(href);
    // WHEN both sign it
    const ours = signS3Get({ url, region, ...credentials, now });
    // The reference: @smithy/signature-v4, as @aws-sdk/client-s3 configures it (no double URI
    // encoding, UNSIGNED-PAYLOAD in x-amz-content-sha256).
    const signer = new SignatureV4({ service: 's3', region, credentials, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
    const request = {
      method: 'GET', protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname, query: {},
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const signed = await signer.sign(request, { signingDate: now });
    // THEN the same signature over the same headers
    expect(ours.authorization).toBe(signed.headers.authorization);
    expect(ours['x-amz-date']).toBe(signed.headers['x-amz-date']);
    if (sessionToken) expect(ours['x-amz-security-token']).toBe(sessionToken);
  });

  it('addresses the object path style on AWS_ENDPOINT_URL_S3, virtual-hosted style on S3', () => {
    expect(objectUrl('s3://b/k/model v2.onnx', { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000/' }).href).toBe('http://127.0.0.1:5000/b/k/model%20v2.onnx');
    expect(objectUrl('s3://b/k.onnx', { AWS_REGION: 'eu-west-1' }).href).toBe('https://b.s3.eu-west-1.amazonaws.com/k.onnx');
  });

  it('refuses a DM_MODEL_OBJECTS that is not the list deploy-model writes', () => {
    expect(readModelObjects({})).toBeUndefined();
    expect(() => readModelObjects({ DM_MODEL_OBJECTS: '{' })).toThrow(/DM_MODEL_OBJECTS is not JSON/);
    expect(() => readModelObjects({ DM_MODEL_OBJECTS: JSON.stringify([{ uri: 'https://x/y', file: 'model.onnx', sha256: 'a'.repeat(64), bytes: 1 }]) })).toThrow(/list of \{ uri: 's3:\/\/bucket\/key'/);
    expect(() => readModelObjects({ DM_MODEL_OBJECTS: JSON.stringify([{ uri: 's3://b/k', file: '../etc/passwd', sha256: 'a'.repeat(64), bytes: 1 }]) })).toThrow(/list of/);
  });
});

const missing = motoMissing();
const MODEL = Buffer.from(tinyModelBytes('add'));
const SHA = createHash('sha256').update(MODEL).digest('hex');

// GIVEN moto_server (an S3 we did not write) holding the tiny `add` model, and the environment
// Lambda gives a function: the role's credentials and the region (and, here, moto's endpoint).
describe.skipIf(missing)(`loading the weights from moto's S3${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let moto: MotoServer;
  let dir: string;
  let env: Record<string, string | undefined>;
  const object = (over: Partial<ModelObject> = {}): ModelObject => ({ uri: 's3://weights/add/4f1a.onnx', file: 'model.onnx', sha256: SHA, bytes: MODEL.length, ...over });

  beforeAll(async () => {
    moto = await startMotoServer();
    env = { ...moto.env, AWS_SESSION_TOKEN: 'session-token', AWS_REGION: 'us-east-1' };
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'weights' }));
    await s3.send(new PutObjectCommand({ Bucket: 'weights', Key: 'add/4f1a.onnx', Body: MODEL }));
    s3.destroy();
    dir = await mkdtemp(path.join(os.tmpdir(), 'dm-weights-'));
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('downloads the model once, checked by sha256, and points DM_MODEL_PATH at it', async () => {
    // WHEN init runs twice in the same environment
    const lines: string[] = [];
    const fnEnv: Record<string, string | undefined> = { ...env, DM_WEIGHTS_DIR: dir, LAMBDA_TASK_ROOT: '/var/task', DM_MODEL_OBJECTS: JSON.stringify([object()]) };
    await weightsFromEnv(fnEnv, (l) => lines.push(l));
    await weightsFromEnv(fnEnv, (l) => lines.push(l));
    // THEN the file is the object, fetched once, and the signature stays in the code
    expect(fnEnv.DM_MODEL_PATH).toBe(path.join(dir, SHA.slice(0, 16), 'model.onnx'));
    expect(await readFile(fnEnv.DM_MODEL_PATH!)).toEqual(MODEL);
    expect(fnEnv.DM_SIGNATURE_PATH).toBe('/var/task/model/signature.json');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^deploy-model: loaded 1 weight object\(s\), 0 MB, from S3 in \d+ ms$/);
  });

  it('refuses an object whose bytes are not what was deployed, leaving no file behind', async () => {
    const other = path.join(dir, 'mismatch');
    await expect(fetchModelObjects([object({ sha256: 'b'.repeat(64) })], env, undefined, other))
      .rejects.toThrow(`s3://weights/add/4f1a.onnx does not match what was deployed: sha256 ${SHA} (${MODEL.length} bytes), expected ${'b'.repeat(64)}`);
    expect(await readdir(other)).toEqual([]);
  });

  it('names a missing object and missing credentials', async () => {
    await expect(fetchModelObjects([object({ uri: 's3://weights/gone.onnx' })], env, undefined, path.join(dir, 'gone')))
      .rejects.toThrow(/^S3 answered 404 NoSuchKey for s3:\/\/weights\/gone\.onnx: the object is gone; deploy again to upload it$/);
    await expect(fetchModelObjects([object()], { AWS_ENDPOINT_URL_S3: moto.endpoint }, undefined, path.join(dir, 'nocreds')))
      .rejects.toThrow(/no AWS credentials in the environment to read s3:\/\/weights\/add\/4f1a\.onnx/);
  });

  it('says how much /tmp is needed when the weights do not fit', async () => {
    await expect(fetchModelObjects([object({ bytes: 2 ** 50 })], env, undefined, path.join(dir, 'big')))
      .rejects.toThrow(/the model's weights need 1073741824 MB in .* MB are free: raise ephemeralStorageMb \(Lambda allows up to 10240\)/);
  });
});
