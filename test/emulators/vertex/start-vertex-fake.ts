import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startCloudLoggingFake, type CloudLoggingFake } from './_cloud-logging.js';
import { startGcsFake, type GcsFake } from './_gcs.js';
import { serviceDefinition, V1 } from './_protos.js';
import {
  endpointService, modelService, operationsService, predictionService, RpcError, STATUS,
  type ServiceContext, type VertexState,
} from './_services.js';
import { statusDetails } from './_status-details.js';
import { VertexFaults } from './faults.js';
import { applyEnv } from '../_apply-env.js';

export interface VertexFakeOptions {
  /** @default '123456789012' */
  projectNumber?: string;
  /** Delay before each operation's work starts, so clients see it running. @default 0 */
  operationDelayMs?: number;
}

export interface RecordedRpc {
  service: string;
  method: string;
  request: Record<string, any>;
  /** gRPC status answered (0 = OK). */
  code?: number;
}

export interface VertexFake {
  /** `127.0.0.1:<port>`: the gRPC Vertex AI API (no TLS). */
  readonly apiEndpoint: string;
  /** `http://127.0.0.1:<port>`: the Cloud Storage JSON API. */
  readonly gcs: GcsFake;
  /** `http://127.0.0.1:<port>`: Cloud Logging's entries:list, over what the deployed containers printed. */
  readonly logging: CloudLoggingFake;
  /**
   * The environment variables that point deploy-model at the fake: DEPLOY_MODEL_VERTEX_ENDPOINT,
   * DEPLOY_MODEL_GCS_ENDPOINT, DEPLOY_MODEL_LOGGING_ENDPOINT, DEPLOY_MODEL_GCP_ACCESS_TOKEN, DEPLOY_MODEL_OPERATION_POLL_MS,
   * DEPLOY_MODEL_RETRY_DELAY_MS.
   */
  readonly env: Readonly<Record<string, string>>;
  readonly state: VertexState;
  readonly faults: VertexFaults;
  readonly calls: RecordedRpc[];
  readonly internalErrors: Error[];
  /** Sets `env` on process.env; returns the undo. */
  applyEnv(): () => void;
  stop(): Promise<void>;
}

const SERVICES = [
  { name: `${V1}.EndpointService`, impl: endpointService },
  { name: `${V1}.ModelService`, impl: modelService },
  { name: `${V1}.PredictionService`, impl: predictionService },
  { name: 'google.longrunning.Operations', impl: operationsService },
] as const;

/**
 * A Vertex AI fake on 127.0.0.1: EndpointService, ModelService, PredictionService (RawPredict) and
 * Operations over gRPC, built from the client package's own protos, plus a Cloud Storage JSON API
 * fake for the artifacts. DeployModel starts the Model's container as Vertex AI does (the AIP_*
 * environment, `$(VAR)` expansion, the Triton image's entrypoint) with a Triton stand-in that reads
 * the command line as tritonserver does, and health-checks AIP_HEALTH_ROUTE on AIP_HTTP_PORT; the
 * model itself runs on the project's Node runtime, so RawPredict returns real inferences.
 */
export async function startVertexFake(options: VertexFakeOptions = {}): Promise<VertexFake> {
  const scratchDir = await mkdtemp(path.join(tmpdir(), 'vertex-fake-'));
  const gcs = await startGcsFake();
  const logging = await startCloudLoggingFake();
  const state: VertexState = { projectNumber: options.projectNumber ?? '123456789012', endpoints: new Map(), models: new Map(), operations: new Map(), containers: [] };
  const faults = new VertexFaults();
  const calls: RecordedRpc[] = [];
  const internalErrors: Error[] = [];
  const ctx: ServiceContext = { state, faults, gcs, logging, scratchDir, operationDelayMs: options.operationDelayMs ?? 0, internalErrors };

  const server = new grpc.Server();
  for (const service of SERVICES) {
    const definition = serviceDefinition(service.name);
    const handlers = service.impl(ctx);
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(definition)) {
      const handler = handlers[method];
      if (!handler || definition[method].requestStream || definition[method].responseStream) continue;
      implementation[method] = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        const record: RecordedRpc = { service: service.name, method, request: call.request };
        calls.push(record);
        const fault = faults.takeCall(method);
        const answer = (error: { code: number; details: string; metadata?: grpc.Metadata } | null, value?: object) => {
          record.code = error ? error.code : STATUS.OK;
          callback(error as never, value);
        };
        if (fault) return answer({ code: fault.code, details: fault.message, ...(fault.errorInfo ? { metadata: statusDetails(fault) } : {}) });
        Promise.resolve()
          .then(() => handler(call.request))
          .then((value) => answer(null, value), (e: unknown) => {
            if (!(e instanceof RpcError)) internalErrors.push(e as Error);
            answer({ code: e instanceof RpcError ? e.code : STATUS.INTERNAL, details: (e as Error).message });
          });
      };
    }
    server.addService(definition, implementation);
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

  const apiEndpoint = `127.0.0.1:${port}`;
  const env = {
    DEPLOY_MODEL_VERTEX_ENDPOINT: apiEndpoint,
    DEPLOY_MODEL_GCS_ENDPOINT: gcs.endpoint,
    DEPLOY_MODEL_LOGGING_ENDPOINT: logging.endpoint,
    DEPLOY_MODEL_GCP_ACCESS_TOKEN: 'fake-vertex-token',
    DEPLOY_MODEL_OPERATION_POLL_MS: '20',
    DEPLOY_MODEL_RETRY_DELAY_MS: '10',
  };

  return {
    apiEndpoint, gcs, logging, env, state, faults, calls, internalErrors,
    applyEnv: () => applyEnv(env),
    async stop() {
      for (const endpoint of state.endpoints.values()) {
        for (const d of endpoint.deployedModels) await d.container.close().catch(() => {});
      }
      server.forceShutdown();
      await gcs.stop();
      await logging.stop();
      await rm(scratchDir, { recursive: true, force: true });
    },
  };
}
