/** The Triton repository in Cloud Storage: content-addressed upload (model files copied server-side from a gs:// model.path), and deletion on destroy. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';
import type { RepositorySource } from '../../kits/triton/repository-sources.js';

/** The coded error for a source object of model.path that cannot be read for the copy. */
function sourceUnreadable(failure: 'not-found' | 'denied', url: string, reason: string, fix: string, cause: unknown): DeployModelError {
  return failure === 'not-found'
    ? new DeployModelError('MODEL_URL_NOT_FOUND', `model.path's object ${url} does not exist (${reason}). ${fix}`, { cause, details: { url, reason } })
    : new DeployModelError('MODEL_URL_ACCESS_DENIED', `Reading model.path's object ${url} for the copy was refused (${reason}). ${fix}`, { cause, details: { url, reason } });
}

/** `gs://bucket/some/prefix` → bucket and prefix (no leading or trailing slash). */
export function parseGsUri(uri: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new DeployModelError('GCS_URI_INVALID', `'${uri}' is not a gs:// URI.`);
  return { bucket: m[1], prefix: m[2].replace(/\/+$/, '') };
}

function storageError(e: unknown, what: string, uri: string): DeployModelError {
  const code = (e as { code?: number }).code;
  const message = (e as Error).message;
  if (code === 404) {
    return new DeployModelError('GCS_BUCKET_NOT_FOUND', `${what} failed: the bucket of ${uri} does not exist (${message}). Create it in the endpoint's region (\`gcloud storage buckets create gs://BUCKET --location REGION\`) or fix stagingBucket.`, { cause: e, details: { uri } });
  }
  if (code === 401) {
    return new DeployModelError('GCP_CREDENTIALS_INVALID', `${what} failed: Cloud Storage refused the credentials (${message}). Fix: run \`gcloud auth application-default login\` (or set DEPLOY_MODEL_GCP_ACCESS_TOKEN to a fresh \`gcloud auth print-access-token\`) and deploy again.`, { cause: e, details: { uri, status: code } });
  }
  if (code === 403) {
    return new DeployModelError('GCS_PERMISSION_DENIED', `${what} failed: access to ${uri} was refused (${message}). Fix: grant the deploying identity roles/storage.objectAdmin on the bucket (\`gcloud storage buckets add-iam-policy-binding gs://${parseGsUri(uri).bucket} --member=<identity> --role=roles/storage.objectAdmin\`).`, { cause: e, details: { uri, status: code } });
  }
  // 408, 429 and 5xx were retried with backoff by the storage client before this.
  const retried = typeof code === 'number' && (code === 408 || code === 429 || code >= 500);
  return new DeployModelError('GCS_UPLOAD_FAILED',
    `${what} failed: ${message}${retried ? ` (HTTP ${code}, still after the storage client's retries)` : ''}. Fix: ${retried ? 'run the command again in a few minutes (a deploy skips the files already uploaded); https://status.cloud.google.com shows whether Cloud Storage has trouble' : 'check the bucket and the network (and DEPLOY_MODEL_GCS_ENDPOINT if set), then run the command again'}.`,
    { cause: e, details: { uri, status: code } });
}

/** model.path when it is a gs:// object: the repository's model files are copied from it inside Cloud Storage. */
export interface GcsModelSource {
  /** `gs://bucket/key`, for messages. */
  url: string;
  bucket: string;
  /** The repository files that are copies of objects in `bucket` (`repositorySources`). */
  files: RepositorySource[];
}

/** A source object checked to hold the bytes the signature was read from, pinned to its generation. */
interface VerifiedSource extends RepositorySource { generation?: string }

async function md5Of(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

function sourceError(e: unknown, url: string): DeployModelError {
  const code = (e as { code?: number }).code;
  const reason = String((e as Error).message).split('\n')[0]!.slice(0, 300);
  if (code === 404) return sourceUnreadable('not-found', url, reason, 'Upload the model there again (gcloud storage cp), or fix model.path.', e);
  if (code === 403) return sourceUnreadable('denied', url, reason, `Grant the deploying identity roles/storage.objectViewer on the bucket of ${url}: the model is copied from it inside Cloud Storage.`, e);
  return storageError(e, `Reading ${url}`, url);
}

/**
 * Checks that each source object still holds the bytes the cached copy was checked against: a
 * sha256 in the object's metadata (`sha256`), else its MD5, else (composite objects have no MD5)
 * its CRC32C, against the repository's file. Cloud Storage keeps MD5 and CRC32C for every object
 * it stores (https://cloud.google.com/storage/docs/hashes-etags).
 */
async function verifySources(storage: Storage, repo: BuiltRepository, source: GcsModelSource, files: RepositorySource[]): Promise<VerifiedSource[]> {
  const verified: VerifiedSource[] = [];
  for (const f of files) {
    const url = `gs://${source.bucket}/${f.key}`;
    let meta;
    try {
      [meta] = await storage.bucket(source.bucket).file(f.key).getMetadata();
    } catch (e) {
      throw sourceError(e, url);
    }
    const local = path.join(repo.root, ...f.path.split('/'));
    const pinned = typeof meta.metadata?.sha256 === 'string' ? meta.metadata.sha256 : undefined;
    const [kind, theirs, ours] = pinned ? ['sha256', pinned, f.sha256]
      : meta.md5Hash ? ['MD5', meta.md5Hash, await md5Of(local)]
        : ['CRC32C', meta.crc32c, (await (await import('@google-cloud/storage')).CRC32C.fromFile(local)).toString()];
    if (Number(meta.size) !== f.bytes || theirs !== ours) {
      throw new DeployModelError('MODEL_SHA256_MISMATCH',
        `model.path ${source.url}: the object ${url} is not the one the model's signature was read from (its ${kind} is ${theirs}, ${meta.size} bytes; the cached copy, sha256 ${f.sha256}, has ${ours}, ${f.bytes} bytes). It was replaced after its sha256 was recorded; nothing was deployed. If the new object is intended, set model.sha256 to its sha256 (or delete deploy-model's cache record of it, remote-models/urls) and deploy again; else restore the object.`,
        { details: { url, expected: f.sha256, checksum: kind, object: theirs, cached: ours } });
    }
    verified.push({ ...f, ...(meta.generation !== undefined ? { generation: String(meta.generation) } : {}) });
  }
  return verified;
}

/**
 * Puts the repository under `artifactUri`, content-addressed: files already there with the same
 * size are skipped. When model.path is a gs:// object (`source`), the model and its external data
 * are copied from it inside Cloud Storage (objects.rewrite, pinned to the generation checked),
 * after checking it still holds the cached copy's bytes; the other files are uploaded. Returns
 * the number of files sent (uploaded or copied).
 */
export async function uploadRepository(storage: Storage, repo: BuiltRepository, artifactUri: string, io: IoHelper, source?: GcsModelSource): Promise<number> {
  const { bucket: bucketName, prefix } = parseGsUri(artifactUri);
  const bucket = storage.bucket(bucketName);
  let existing = new Map<string, number>();
  try {
    const [files] = await bucket.getFiles({ prefix: `${prefix}/` });
    existing = new Map(files.map((f) => [f.name, Number(f.metadata.size)]));
  } catch (e) {
    throw storageError(e, `Listing ${artifactUri}`, artifactUri);
  }
  const pending = repo.files.filter((file) => existing.get(`${prefix}/${file.path}`) !== file.bytes);
  // Every source is checked before anything is written.
  const copies = new Map((source ? await verifySources(storage, repo, source, source.files.filter((s) => pending.some((p) => p.path === s.path))) : []).map((v) => [v.path, v]));
  let uploaded = 0;
  for (const file of pending) {
    const object = `${prefix}/${file.path}`;
    const from = copies.get(file.path);
    try {
      if (from) {
        await storage.bucket(source!.bucket).file(from.key, from.generation ? { generation: from.generation } : {}).copy(bucket.file(object));
      } else {
        // A resumable upload costs an extra round trip per file to open it; models up to 256 MB go in one request.
        await bucket.upload(path.join(repo.root, ...file.path.split('/')), { destination: object, resumable: file.bytes > 256 * 1024 * 1024, validation: 'md5' });
        uploaded++;
      }
    } catch (e) {
      if (from && (e as { code?: number }).code === 404) throw sourceError(e, `gs://${source!.bucket}/${from.key}`);
      throw storageError(e, from ? `Copying gs://${source!.bucket}/${from.key} to gs://${bucketName}/${object}` : `Uploading ${file.path} to gs://${bucketName}/${object}`, artifactUri);
    }
  }
  const copied = pending.length - uploaded;
  io.info('DM_VERTEX_UPLOADED', pending.length === 0
    ? `The model repository is already in ${artifactUri}`
    : `Uploaded ${uploaded} file(s) of the model repository to ${artifactUri}${copied ? `, and copied ${copied} from ${source!.url} inside Cloud Storage` : ''}`,
  { artifactUri, files: repo.files.length, sent: pending.length, uploaded, copied });
  return pending.length;
}

/** Deletes every object under the target's staging root; returns how many. */
export async function deleteStaging(storage: Storage, stagingRoot: string): Promise<number> {
  const { bucket: bucketName, prefix } = parseGsUri(stagingRoot);
  try {
    const bucket = storage.bucket(bucketName);
    const [files] = await bucket.getFiles({ prefix: `${prefix}/` });
    for (const f of files) await f.delete({ ignoreNotFound: true });
    return files.length;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return 0;
    throw storageError(e, `Deleting ${stagingRoot}`, stagingRoot);
  }
}
