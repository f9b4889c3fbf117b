/** The Vertex AI and Cloud Storage clients, and how they reach Google Cloud (credentials, endpoints, polling). */
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { v1 } from '@google-cloud/aiplatform';
import type { Storage } from '@google-cloud/storage';
import type { AuthClient } from 'google-auth-library';
import { DeployModelError } from '../../errors.js';

/**
 * How the Vertex AI driver reaches Google Cloud. Everything is optional: by default the regional
 * Vertex AI endpoint and Cloud Storage are used with Application Default Credentials. Each option
 * also has an environment variable, so the CLI can be pointed elsewhere (a proxy, a test fake).
 */
export interface VertexConnectionOptions {
  /**
   * Credentials for every call.
   * @default - an OAuth2 client with `DEPLOY_MODEL_GCP_ACCESS_TOKEN` when set, else Application
   * Default Credentials
   */
  authClient?: AuthClient;
  /**
   * `host:port` of the Vertex AI API (gRPC). A loopback host is reached without TLS.
   * @default - `DEPLOY_MODEL_VERTEX_ENDPOINT`, else `<region>-aiplatform.googleapis.com:443`
   */
  apiEndpoint?: string;
  /**
   * Base URL of the Cloud Storage JSON API.
   * @default - `DEPLOY_MODEL_GCS_ENDPOINT`, else https://storage.googleapis.com
   */
  storageEndpoint?: string;
  /**
   * Base URL of the Cloud Logging API, where `logs` reads the endpoint's container logs.
   * @default - `DEPLOY_MODEL_LOGGING_ENDPOINT`, else https://logging.googleapis.com
   */
  loggingEndpoint?: string;
  /**
   * How often long-running operations are polled, in milliseconds.
   * @default - `DEPLOY_MODEL_OPERATION_POLL_MS`, else 10000
   */
  pollIntervalMs?: number;
  /**
   * First wait before deploy-model retries a rate-limited call, or an unavailable one that reads;
   * it doubles on each of the 4 retries (with jitter, at most 32 s).
   * @default - `DEPLOY_MODEL_RETRY_DELAY_MS`, else 1000
   */
  retryDelayMs?: number;
}

/** First wait of deploy-model's own retries of throttled or unavailable calls, when the caller does not say. */
export function retryDelayMs(option?: number): number {
  return option ?? (Number(process.env.DEPLOY_MODEL_RETRY_DELAY_MS) || 1000);
}

export interface VertexClients {
  endpoints: v1.EndpointServiceClient;
  models: v1.ModelServiceClient;
  prediction: v1.PredictionServiceClient;
  storage: Storage;
  pollIntervalMs: number;
  retryDelayMs: number;
  close(): Promise<void>;
}

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

function splitHostPort(endpoint: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(endpoint);
  if (!m) throw new DeployModelError('VERTEX_ENDPOINT_INVALID', `The Vertex AI API endpoint '${endpoint}' is not host[:port]. Fix DEPLOY_MODEL_VERTEX_ENDPOINT.`);
  return { host: m[1], port: m[2] ? Number(m[2]) : 443 };
}

/** Application Default Credentials, or a fixed token; fails with the fix when there are none. */
export async function vertexAuthClient(options: VertexConnectionOptions): Promise<AuthClient> {
  if (options.authClient) return options.authClient;
  const { GoogleAuth, OAuth2Client } = await import('google-auth-library');
  const token = process.env.DEPLOY_MODEL_GCP_ACCESS_TOKEN;
  if (token) {
    const client = new OAuth2Client();
    client.setCredentials({ access_token: token });
    return client;
  }
  try {
    const auth = new GoogleAuth({ scopes: SCOPES });
    const client = await auth.getClient();
    // Fails here, before anything is uploaded, when the credentials cannot give a token.
    await client.getAccessToken();
    return client;
  } catch (e) {
    throw new DeployModelError('GCP_CREDENTIALS_MISSING',
      `No usable Google Cloud credentials (${(e as Error).message.split('\n')[0]}). Run \`gcloud auth application-default login\`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or DEPLOY_MODEL_GCP_ACCESS_TOKEN to an access token (\`gcloud auth print-access-token\`).`,
      { cause: e });
  }
}

/** Creates the clients. `@google-cloud/aiplatform` takes seconds to load, so it is imported here, on first use. */
export async function createVertexClients(region: string, options: VertexConnectionOptions = {}): Promise<VertexClients> {
  const authClient = await vertexAuthClient(options);
  const [{ v1: aiplatform }, { Storage, IdempotencyStrategy }, grpc] = await Promise.all([
    import('@google-cloud/aiplatform'), import('@google-cloud/storage'), import('@grpc/grpc-js'),
  ]);
  const { host, port } = splitHostPort(options.apiEndpoint ?? process.env.DEPLOY_MODEL_VERTEX_ENDPOINT ?? `${region}-aiplatform.googleapis.com:443`);
  // gRPC, never the REST fallback: it corrupts arrays nested in arrays.
  const clientOptions: NonNullable<ConstructorParameters<typeof v1.EndpointServiceClient>[0]> = { apiEndpoint: host, port, authClient, fallback: false };
  if (LOOPBACK.test(host)) clientOptions.sslCreds = grpc.credentials.createInsecure() as ChannelCredentials as never;
  const endpoints = new aiplatform.EndpointServiceClient(clientOptions);
  const models = new aiplatform.ModelServiceClient(clientOptions);
  const prediction = new aiplatform.PredictionServiceClient(clientOptions);
  const storageEndpoint = options.storageEndpoint ?? process.env.DEPLOY_MODEL_GCS_ENDPOINT;
  const storage = new Storage({
    authClient, ...(storageEndpoint ? { apiEndpoint: storageEndpoint, useAuthWithCustomEndpoint: true } : {}),
    // Objects are content-addressed (the repository's digest is in their names): writing one again
    // writes the same bytes, so a 429 or 5xx on an upload is retried, which the library's default
    // (RetryConditional) does only for uploads with a generation precondition.
    retryOptions: { idempotencyStrategy: IdempotencyStrategy.RetryAlways },
  });
  const pollIntervalMs = options.pollIntervalMs ?? (Number(process.env.DEPLOY_MODEL_OPERATION_POLL_MS) || 10_000);
  return {
    endpoints, models, prediction, storage, pollIntervalMs, retryDelayMs: retryDelayMs(options.retryDelayMs),
    async close() {
      await Promise.all([endpoints.close(), models.close(), prediction.close()]);
    },
  };
}
