import { mkdtemp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { emptyTriton, vertexAiFrontEnd, type FrontEnd } from './_triton-front-ends.js';
import { parseTritonCommandLine, type TritonParams } from './_parse-triton-command-line.js';
import { serveRepository } from './serve-repository.js';

/**
 * Stands in for the `tritonserver` process of a Triton image: it reads the command line and the
 * environment as Triton does (`parseTritonCommandLine`), exits with Triton's message where Triton
 * exits, loads the repository and opens the ports Triton would open (src/main.cc `main` and
 * `StartEndpoints`), each as a loopback server. The model itself runs on the project's Node
 * runtime (`serveRepository`). Not modelled: GRPC, metrics and SageMaker are listed as open but
 * answer nothing, and one model per repository is served.
 */
export interface TritonStandInOptions {
  /** What follows `tritonserver` on the command line. */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  /** The image's Triton release (`YY.MM`), when its tag says it: options added later are unknown to it. */
  release?: string;
  /** Copies a `--model-repository` path into `into`, as Triton's file systems read it; throws when Triton could not. */
  openRepository(repository: string, into: string): Promise<void>;
  scratchDir: string;
  /** Every inference answers 500 with this message (a model that loads but fails). */
  failInference?: string;
}

export interface TritonListener {
  service: 'GRPC' | 'HTTP' | 'SageMaker' | 'Vertex AI' | 'metrics';
  address: string;
  port: number;
  /** Where it answers HTTP here; absent for the services the stand-in does not serve. */
  url?: string;
}

export type TritonProcess =
  | { state: 'exited'; exitCode: number; log: string[] }
  | { state: 'running'; listeners: TritonListener[]; log: string[]; close(): Promise<void> };

interface Core extends FrontEnd { modelName?: string }

/** Each service's start-up log line (src/grpc/grpc_server.cc, src/http_server.cc, src/vertex_ai_server.cc). */
const STARTED: Record<TritonListener['service'], string> = {
  GRPC: 'GRPCInferenceService', HTTP: 'HTTPService', SageMaker: 'Sagemaker HTTPService', 'Vertex AI': 'Vertex AI HTTPService', metrics: 'Metrics Service',
};

/** Loads the repository as `TRITONSERVER_ServerNew` does; undefined when the server fails to start. */
async function loadRepository(p: TritonParams, o: TritonStandInOptions, log: string[]): Promise<Core | undefined> {
  const dir = await mkdtemp(path.join(o.scratchDir, 'triton-repository-'));
  let failed = false;
  for (const repository of p.modelRepositories) {
    try {
      await o.openRepository(repository, dir);
    } catch (e) {
      log.push(`E failed to stat file ${repository}: ${(e as Error).message}`);
      failed = true;
    }
  }
  const models = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  // model-control-mode explicit loads only the --load-model names ('*': all of them).
  const wanted = p.controlMode === 'explicit' ? models.filter((m) => p.loadModels.includes(m) || p.loadModels.includes('*')) : models;
  if (!failed && wanted.length > 0) {
    try {
      const served = await serveRepository(dir, { failInference: o.failInference });
      return { url: served.url, close: served.close, modelName: served.modelName };
    } catch (e) {
      log.push(`E failed to load model: ${(e as Error).message}`);
      failed = true;
    }
  }
  if (failed && p.exitOnError) {
    log.push('error: creating server: Internal - failed to load all models');
    return undefined;
  }
  return emptyTriton(!failed);
}

export async function startTritonStandIn(o: TritonStandInOptions): Promise<TritonProcess> {
  const log: string[] = [];
  const exit = (lines: string[]): TritonProcess => ({ state: 'exited', exitCode: 1, log: [...log, ...lines] });
  const parsed = parseTritonCommandLine(o.args, o.env, o.release);
  if (!parsed.ok) return exit(['Usage: tritonserver [options]', ...(parsed.error ? [parsed.error] : [])]);
  const p = parsed.params;
  if (p.modelRepositories.length === 0) return exit(['error: creating server: Invalid argument - --model-repository must be specified']);

  const core = await loadRepository(p, o, log);
  if (!core) return exit([]);
  const opened: FrontEnd[] = [core];
  const listeners: TritonListener[] = [];
  const close = async () => { for (const f of opened) await f.close().catch(() => {}); };
  const open = (service: TritonListener['service'], s: { address: string; port: number }, url?: string) => {
    listeners.push({ service, address: s.address, port: s.port, ...(url ? { url } : {}) });
    log.push(`I Started ${STARTED[service]} at ${s.address}:${s.port}`);
  };

  // StartEndpoints: GRPC, HTTP, SageMaker, Vertex AI, metrics.
  if (p.grpc.allow) open('GRPC', p.grpc);
  if (p.http.allow) open('HTTP', p.http, core.url);
  if (p.sagemaker.allow) open('SageMaker', p.sagemaker);
  if (p.vertexAi.allow) {
    // VertexAiAPIServer::Create: both routes from the environment, and one default model.
    const predictRoute = o.env.AIP_PREDICT_ROUTE ?? '';
    const healthRoute = o.env.AIP_HEALTH_ROUTE ?? '';
    const defaultModel = p.vertexAi.defaultModel || core.modelName;
    const problem = !predictRoute ? 'API_PREDICT_ROUTE is not defined for Vertex AI endpoint'
      : !healthRoute ? 'AIP_HEALTH_ROUTE is not defined for Vertex AI endpoint'
        : !core.modelName ? 'Expect the model repository contains only a single model if default model is not specified'
          : defaultModel !== core.modelName ? `Expect the default model '${defaultModel}' is loaded` : undefined;
    if (problem) {
      await close();
      return exit([`E failed to start Vertex AI service: Invalid argument - ${problem}`]);
    }
    const front = await vertexAiFrontEnd({ core: core.url, healthRoute, predictRoute, defaultModel: defaultModel! });
    opened.push(front);
    open('Vertex AI', p.vertexAi, front.url);
  }
  if (p.metrics.allow) open('metrics', p.metrics);
  return { state: 'running', listeners, log, close };
}
