/** Reads model objects from Cloud Storage with Application Default Credentials (DEPLOY_MODEL_GCS_ENDPOINT honoured). */
import { storeError, type ObjectInfo, type ObjectStore } from './_object-store.js';

const CREDENTIALS_FIX = 'Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or DEPLOY_MODEL_GCP_ACCESS_TOKEN to an access token.';

function gcsFailure(e: unknown, url: string): Error {
  const err = e as { code?: number | string; message?: string };
  const reason = String(err.message ?? e).split('\n')[0]!.slice(0, 300);
  if (err.code === 404) return storeError('not-found', url, reason, 'Upload the model there (gcloud storage cp model.onnx gs://bucket/object), or fix model.path.', e);
  if (err.code === 401 || err.code === 403) return storeError('denied', url, reason, `Grant the deploying identity roles/storage.objectViewer on the bucket of ${url}.`, e);
  return e instanceof Error ? e : new Error(String(e));
}

async function authClient() {
  const { GoogleAuth, OAuth2Client } = await import('google-auth-library');
  const token = process.env.DEPLOY_MODEL_GCP_ACCESS_TOKEN;
  if (token) {
    const client = new OAuth2Client();
    client.setCredentials({ access_token: token });
    return client;
  }
  const client = await new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/devstorage.read_only'] }).getClient();
  await client.getAccessToken();
  return client;
}

export async function gcsStore(bucket: string): Promise<ObjectStore> {
  const urlOf = (key: string) => `gs://${bucket}/${key}`;
  let auth;
  try {
    auth = await authClient();
  } catch (e) {
    throw storeError('credentials', `gs://${bucket}`, String((e as Error).message).split('\n')[0]!, CREDENTIALS_FIX, e);
  }
  const { Storage } = await import('@google-cloud/storage');
  const endpoint = process.env.DEPLOY_MODEL_GCS_ENDPOINT;
  const storage = new Storage({ authClient: auth, ...(endpoint ? { apiEndpoint: endpoint, useAuthWithCustomEndpoint: true } : {}) });
  const file = (key: string) => storage.bucket(bucket).file(key);
  return {
    urlOf,
    async head(key): Promise<ObjectInfo> {
      try {
        const [meta] = await file(key).getMetadata();
        return { bytes: Number(meta.size ?? 0), ...(meta.generation !== undefined ? { etag: String(meta.generation) } : {}) };
      } catch (e) {
        throw gcsFailure(e, urlOf(key));
      }
    },
    async read(key) {
      // The library checks the download against the object's crc32c/md5 itself.
      return file(key).createReadStream();
    },
  };
}
