/**
 * Model weights kept in S3 and loaded at init (aws-lambda `weights: 's3'`): each object named in
 * `DM_MODEL_OBJECTS` is downloaded once per execution environment into /tmp, its sha256 checked
 * while it streams, and `DM_MODEL_PATH` pointed at it. A code change then ships a small zip and
 * leaves the weights where they are. No SDK: one signed GET per object (SigV4, with the execution
 * role's credentials Lambda puts in the environment) with node's HTTP client, so the bundle stays
 * small and loads fast.
 */
import { createHash, createHmac } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The variable the function's environment names its weights in. */
export const MODEL_OBJECTS_ENV = 'DM_MODEL_OBJECTS';

/** One object of the model: the .onnx file first, then its external data files. */
export interface ModelObject {
  /** `s3://bucket/key`. */
  uri: string;
  /** The file name beside the model (`model.onnx`, `model.onnx.data`): external data is found by name. */
  file: string;
  /** Hex sha256 of the object's bytes. */
  sha256: string;
  bytes: number;
}

type Env = Record<string, string | undefined>;

/** What init needs from the environment; a missing or malformed value is a clear init error. */
export function readModelObjects(env: Env): ModelObject[] | undefined {
  const raw = env[MODEL_OBJECTS_ENV];
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`${MODEL_OBJECTS_ENV} is not JSON (${(e as Error).message}); deploy-model writes it at synth: deploy again.`);
  }
  const ok = (o: unknown): o is ModelObject => typeof o === 'object' && o !== null
    && typeof (o as ModelObject).uri === 'string' && /^s3:\/\/[^/]+\/.+/.test((o as ModelObject).uri)
    && typeof (o as ModelObject).file === 'string' && /^[\w.-]+(\/[\w.-]+)*$/.test((o as ModelObject).file) && !(o as ModelObject).file.split('/').includes('..')
    && typeof (o as ModelObject).sha256 === 'string' && /^[0-9a-f]{64}$/.test((o as ModelObject).sha256)
    && Number.isSafeInteger((o as ModelObject).bytes);
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every(ok)) {
    throw new Error(`${MODEL_OBJECTS_ENV} must be a list of { uri: 's3://bucket/key', file, sha256, bytes }; deploy-model writes it at synth: deploy again.`);
  }
  return parsed;
}

/** Signs an S3 GET with SigV4 (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html). */
export function signS3Get(options: {
  url: URL; region: string; accessKeyId: string; secretAccessKey: string; sessionToken?: string; now?: Date;
}): Record<string, string> {
  const { url, region, accessKeyId, secretAccessKey, sessionToken } = options;
  const amzDate = (options.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-date': amzDate,
    ...(sessionToken ? { 'x-amz-security-token': sessionToken } : {}),
  };
  const names = Object.keys(headers).sort();
  const canonical = [
    'GET',
    // S3 signs the path as sent (each segment encoded once), not encoded twice as other services.
    url.pathname,
    '',
    ...names.map((n) => `${n}:${headers[n]!.trim()}`),
    '',
    names.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  const { host: _host, ...sent } = headers;
  return { ...sent, authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

/** Each key segment encoded as S3 expects it in a path: RFC 3986 unreserved characters kept. */
const encodeKey = (key: string): string => key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

/**
 * The object's URL: path style on an endpoint the environment names (`AWS_ENDPOINT_URL_S3` or
 * `AWS_ENDPOINT_URL`, as the AWS SDKs read them), virtual-hosted style on S3 otherwise.
 */
export function objectUrl(uri: string, env: Env): URL {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`${uri} is not an s3://bucket/key URI`);
  const [, bucket, key] = match as unknown as [string, string, string];
  const custom = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  if (custom) return new URL(`${custom.replace(/\/+$/, '')}/${encodeURIComponent(bucket)}/${encodeKey(key)}`);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${encodeKey(key)}`);
}

/** One GET with node's own HTTP client (lighter than fetch's web streams for large bodies). */
function get(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers }, resolve);
    request.setTimeout(60_000, () => request.destroy(new Error(`no answer from ${url.host} in 60 s`)));
    request.on('error', reject);
    request.end();
  });
}

/** Downloads one object to `file`, hashing as it streams; the file appears only when its sha256 matched. */
async function download(object: ModelObject, file: string, env: Env): Promise<void> {
  const url = objectUrl(object.uri, env);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`no AWS credentials in the environment to read ${object.uri}: Lambda gives the function its execution role's; outside Lambda set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const partial = `${file}.partial`;
    try {
      await mkdir(dirname(file), { recursive: true });
      const response = await get(url, signS3Get({ url, region, accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }));
      const status = response.statusCode ?? 0;
      if (status !== 200) {
        let body = '';
        for await (const chunk of response) if (body.length < 300) body += String(chunk);
        const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${status}`;
        const error = new Error(`S3 answered ${status} ${code} for ${object.uri}${status === 403 ? ': the function role needs s3:GetObject on that object' : status === 404 ? ': the object is gone; deploy again to upload it' : ''}`);
        // Refusals do not change on a retry; S3's 5xx and throttling may.
        if (status < 500 && status !== 429) throw Object.assign(error, { final: true });
        throw error;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      const tee = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(response, tee, createWriteStream(partial, { highWaterMark: 1024 * 1024 }));
      const sha256 = hash.digest('hex');
      if (sha256 !== object.sha256 || bytes !== object.bytes) {
        await rm(partial, { force: true });
        throw Object.assign(new Error(`${object.uri} does not match what was deployed: sha256 ${sha256} (${bytes} bytes), expected ${object.sha256} (${object.bytes} bytes). The object was replaced after the deploy; deploy again.`), { final: true });
      }
      await rename(partial, file);
      return;
    } catch (e) {
      await rm(partial, { force: true });
      lastError = e;
      if ((e as { final?: boolean }).final) break;
      if (attempt < 3) await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
  throw lastError;
}

/**
 * Fetches the model's objects into `dir` (default <tmpdir>/deploy-model-weights/<sha256 of the first>)
 * unless an earlier init of this environment already did, and returns the model file's path.
 * Checks /tmp has room first, naming `ephemeralStorageMb`.
 */
export async function fetchModelObjects(objects: ModelObject[], env: Env, log: (line: string) => void = () => undefined, dir?: string): Promise<string> {
  // os.tmpdir() is /tmp on Lambda; the local emulator points TMPDIR at the function's own /tmp.
  const target = dir ?? join(env.DM_WEIGHTS_DIR || join(tmpdir(), 'deploy-model-weights'), objects[0]!.sha256.slice(0, 16));
  await mkdir(target, { recursive: true });
  const missing: ModelObject[] = [];
  for (const o of objects) {
    const have = await stat(join(target, o.file)).catch(() => undefined);
    // A complete file only ever appears by rename after its sha256 matched.
    if (have?.size !== o.bytes) missing.push(o);
  }
  const needed = missing.reduce((n, o) => n + o.bytes, 0);
  if (needed > 0) {
    const fs = await statfs(target).catch(() => undefined);
    const free = fs ? fs.bavail * fs.bsize : Infinity;
    if (needed > free) {
      throw new Error(`the model's weights need ${Math.ceil(needed / 2 ** 20)} MB in ${target} and ${Math.floor(free / 2 ** 20)} MB are free: raise ephemeralStorageMb (Lambda allows up to 10240)`);
    }
    const started = Date.now();
    await Promise.all(missing.map((o) => download(o, join(target, o.file), env)));
    log(`deploy-model: loaded ${missing.length} weight object(s), ${Math.round(needed / 2 ** 20)} MB, from S3 in ${Date.now() - started} ms`);
  }
  return join(target, objects[0]!.file);
}

/**
 * At init: when the environment names weights in S3, fetches them and points `DM_MODEL_PATH` at
 * them (the signature stays in the code, beside the handler). Does nothing otherwise.
 */
export async function weightsFromEnv(env: Env, log?: (line: string) => void): Promise<void> {
  const objects = readModelObjects(env);
  if (!objects) return;
  env.DM_SIGNATURE_PATH ||= join(env.LAMBDA_TASK_ROOT || process.cwd(), 'model', 'signature.json');
  env.DM_MODEL_PATH = await fetchModelObjects(objects, env, log);
}
