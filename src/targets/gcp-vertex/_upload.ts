/** The Triton repository in Cloud Storage: content-addressed upload, and deletion on destroy. */
import path from 'node:path';
import type { Storage } from '@google-cloud/storage';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';
import type { BuiltRepository } from '../../kits/triton/build-gpu-repository.js';

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

/**
 * Uploads the repository under `artifactUri` (content-addressed, so files that are already there
 * with the same size and MD5 are skipped) and returns the number of files sent.
 */
export async function uploadRepository(storage: Storage, repo: BuiltRepository, artifactUri: string, io: IoHelper): Promise<number> {
  const { bucket: bucketName, prefix } = parseGsUri(artifactUri);
  const bucket = storage.bucket(bucketName);
  let existing = new Map<string, number>();
  try {
    const [files] = await bucket.getFiles({ prefix: `${prefix}/` });
    existing = new Map(files.map((f) => [f.name, Number(f.metadata.size)]));
  } catch (e) {
    throw storageError(e, `Listing ${artifactUri}`, artifactUri);
  }
  let sent = 0;
  for (const file of repo.files) {
    const object = `${prefix}/${file.path}`;
    if (existing.get(object) === file.bytes) continue;
    try {
      // A resumable upload costs an extra round trip per file to open it; models up to 256 MB go in one request.
      await bucket.upload(path.join(repo.root, ...file.path.split('/')), { destination: object, resumable: file.bytes > 256 * 1024 * 1024, validation: 'md5' });
    } catch (e) {
      throw storageError(e, `Uploading ${file.path} to gs://${bucketName}/${object}`, artifactUri);
    }
    sent++;
  }
  io.info('DM_VERTEX_UPLOADED', sent === 0
    ? `The model repository is already in ${artifactUri}`
    : `Uploaded ${sent} file(s) of the model repository to ${artifactUri}`, { artifactUri, files: repo.files.length, sent });
  return sent;
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
