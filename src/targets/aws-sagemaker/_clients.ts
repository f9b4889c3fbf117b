/** How deploy-model reaches SageMaker: the control and runtime SDK clients and their polling. */
import { SageMakerClient, type SageMakerClientConfig } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';
import { stackPollingInterval } from '../../kits/aws/stack-polling.js';

/** How deploy-model reaches SageMaker; the registered driver uses the defaults. */
export interface SageMakerConnectionOptions {
  /**
   * Extra configuration for both SDK clients (endpoint, credentials, retry strategy), for tests.
   * @default - the SDK's credential chain, `AWS_ENDPOINT_URL[_SAGEMAKER]` and standard retries
   */
  readonly clientConfig?: Partial<SageMakerClientConfig & SageMakerRuntimeClientConfig>;
  /**
   * How often DescribeEndpoint is polled while CloudFormation works or an endpoint updates, in ms.
   * @default - `DEPLOY_MODEL_STACK_POLL_MS`, else 15000
   */
  readonly pollingIntervalMs?: number;
  /**
   * How long a rollback or reconciling UpdateEndpoint is waited for, in ms. GPU instances start
   * in minutes, and a TensorRT build adds to it.
   * @default 3_600_000
   */
  readonly updateTimeoutMs?: number;
}

export interface SageMakerClients {
  readonly control: SageMakerClient;
  readonly runtime: SageMakerRuntimeClient;
  readonly pollMs: number;
  readonly updateTimeoutMs: number;
  close(): void;
}

const DEFAULT_POLL_MS = 15_000;

/** A runtime client alone, for the calls of a smoke test or `invoke`. */
export function sageMakerRuntimeClient(region: string, options: SageMakerConnectionOptions = {}): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ region, ...options.clientConfig });
}

export function sageMakerClients(region: string, options: SageMakerConnectionOptions = {}): SageMakerClients {
  const control = new SageMakerClient({ region, ...options.clientConfig });
  const runtime = new SageMakerRuntimeClient({ region, ...options.clientConfig });
  return {
    control,
    runtime,
    pollMs: stackPollingInterval(options.pollingIntervalMs) ?? DEFAULT_POLL_MS,
    updateTimeoutMs: options.updateTimeoutMs ?? 3_600_000,
    close() {
      control.destroy();
      runtime.destroy();
    },
  };
}

/** Runs `fn` with clients for the region and releases their sockets afterwards. */
export async function withSageMakerClients<T>(region: string, options: SageMakerConnectionOptions, fn: (clients: SageMakerClients) => Promise<T>): Promise<T> {
  const clients = sageMakerClients(region, options);
  try {
    return await fn(clients);
  } finally {
    clients.close();
  }
}
