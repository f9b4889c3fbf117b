import { aipEnvironment, aipHttpPort } from './_aip-environment.js';
import { RpcError, STATUS } from './_rpc-error.js';
import { runModelContainer, type ContainerRun } from './_run-model-container.js';
import type { FakeModel, ServiceContext } from './_services.js';

/** A deployed model's container that passed Vertex AI's health check. */
export interface RunningModel {
  /** Where AIP_HTTP_PORT answers, here. */
  url: string;
  /** AIP_PREDICT_ROUTE: where RawPredict bodies go. */
  predictRoute: string;
  run: ContainerRun;
  close(): Promise<void>;
}

// Vertex AI reaches the container on its pod address: a server bound to loopback cannot be reached.
const ALL_INTERFACES = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * What Vertex AI does on DeployModel with a custom container: start it with the AIP_* variables
 * (`aipEnvironment`) and `$(VAR)` expansion, then send the health check, a GET on
 * AIP_HEALTH_ROUTE at AIP_HTTP_PORT that must answer 200 within 10 seconds (Google Cloud, "Custom
 * container requirements for prediction", Health checks). A container that exits, or never
 * answers 200 there, fails the operation with FAILED_PRECONDITION and the message Vertex AI gives
 * ("Model server exited unexpectedly" / "Model server never became ready"), pointing at the logs;
 * the fake keeps what the container printed in `state.containers`.
 */
export async function startDeployedContainer(ctx: ServiceContext, params: {
  endpoint: string; deployedModelId: string; model: FakeModel; machineSpec: { machineType?: string; acceleratorType?: string }; failInference?: string;
}): Promise<RunningModel> {
  const { endpoint, deployedModelId, model } = params;
  const endpointId = endpoint.split('/').pop()!;
  const location = /\/locations\/([^/]+)/.exec(endpoint)?.[1] ?? '';
  const env = aipEnvironment({
    projectNumber: ctx.state.projectNumber, endpointId, deployedModelId, storageUri: model.storageUri,
    containerSpec: model.containerSpec, machineSpec: params.machineSpec,
  });
  const run = await runModelContainer({
    spec: model.containerSpec, env, scratchDir: ctx.scratchDir, failInference: params.failInference,
    // What Triton's file systems find: gs:// through Cloud Storage; the image holds no model folder of its own.
    async openRepository(repository, into) {
      if (!repository.startsWith('gs://')) throw new Error('No such file or directory');
      if ((await ctx.gcs.download(repository, into)) === 0) throw new Error('No such file or directory');
    },
  });
  ctx.state.containers.push(run);
  // Container logging (on by default on the v1 API): each line of stdout and stderr becomes a Cloud Logging entry.
  for (const line of run.process.log) ctx.logging.print({ projectNumber: ctx.state.projectNumber, location: /\/locations\/([^/]+)/.exec(endpoint)?.[1] ?? '', endpointId, deployedModelId }, line);
  const logs = `https://console.cloud.google.com/logs/viewer?project=${ctx.state.projectNumber}&resource=aiplatform.googleapis.com%2FEndpoint&advancedFilter=resource.type%3D%22aiplatform.googleapis.com%2FEndpoint%22%0Aresource.labels.endpoint_id%3D%22${endpointId}%22%0Aresource.labels.location%3D%22${location}%22`;
  if (run.process.state === 'exited') {
    throw new RpcError(STATUS.FAILED_PRECONDITION, `Model server exited unexpectedly. Model server logs can be found at ${logs}`);
  }
  const port = aipHttpPort(model.containerSpec);
  const listener = run.process.listeners.find((l) => l.port === port && ALL_INTERFACES.has(l.address) && l.url);
  const health = listener
    ? await fetch(`${listener.url}${env.AIP_HEALTH_ROUTE}`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, () => 0)
    : 0;
  if (health !== 200) {
    await run.process.close();
    throw new RpcError(STATUS.FAILED_PRECONDITION, `Model server never became ready. Please validate that your model file or container configuration are valid. Model server logs can be found at ${logs}`);
  }
  return { url: listener!.url!, predictRoute: env.AIP_PREDICT_ROUTE, run, close: run.process.close };
}
