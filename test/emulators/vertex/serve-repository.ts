import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInferenceCore, InferenceError, startServer, type InferenceCore, type StartedServer } from '../../../handlers/index.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import { checkTritonLoad } from '../../references/triton/check-triton-load.js';
import { ortModelIo } from '../../references/triton/ort-model-io.js';

/**
 * Stands in for Triton on a GPU: serves the one model of a Triton model repository
 * (`<root>/<name>/config.pbtxt`, `<root>/<name>/1/model.onnx`) with the project's Node runtime,
 * over the same KServe v2 routes Triton answers (`/v2/health/ready`, `/v2/models/<name>/infer`).
 * The cloud fakes start one per deployment, so a deploy test ends in a real inference.
 */
export interface ServedRepository {
  modelName: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What `config.pbtxt` said, for assertions. */
  configText: string;
  close(): Promise<void>;
}

export interface ServeRepositoryOptions {
  /** Every inference answers 500 with this message: a deployment whose smoke test fails. */
  failInference?: string;
}

/** Finds the model folder (the one with `config.pbtxt` and a version folder) in a repository. */
async function findModel(root: string): Promise<{ name: string; onnx: string; config: string }> {
  const entries = await readdir(root, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const dir = path.join(root, e.name);
    const files = await readdir(dir).catch(() => [] as string[]);
    if (!files.includes('config.pbtxt')) continue;
    const versions = files.filter((f) => /^\d+$/.test(f)).sort((a, b) => Number(b) - Number(a));
    if (versions.length === 0) throw new Error(`model folder ${dir} has no numeric version folder`);
    return { name: e.name, onnx: path.join(dir, versions[0], 'model.onnx'), config: await readFile(path.join(dir, 'config.pbtxt'), 'utf8') };
  }
  throw new Error(`no model folder with a config.pbtxt in ${root} (found: ${entries.map((e) => e.name).join(', ') || 'nothing'})`);
}

function failing(core: InferenceCore, message: string): InferenceCore {
  return {
    get modelName() { return core.modelName; },
    get signature() { return core.signature; },
    get executionProviders() { return core.executionProviders; },
    metadata: () => core.metadata(),
    close: () => core.close(),
    infer: async () => { throw new InferenceError(500, 'INJECTED_FAILURE', message); },
  };
}

export async function serveRepository(root: string, options: ServeRepositoryOptions = {}): Promise<ServedRepository> {
  const model = await findModel(root);
  // Triton refuses to load a config its core or the onnxruntime backend rejects, and so does the stand-in.
  const refusals = checkTritonLoad({ config: parsePbtxt(model.config), model: await ortModelIo(model.onnx), directoryName: model.name });
  if (refusals.length > 0) throw new Error(`failed to load '${model.name}' version 1: Invalid argument: ${refusals.map((r) => r.message).join('; ')}`);
  const signature = await inspectModel(model.onnx);
  const real = await createInferenceCore({ modelPath: model.onnx, signature, modelName: model.name, log: () => {} });
  const core = options.failInference ? failing(real, options.failInference) : real;
  let server: StartedServer;
  try {
    server = await startServer({ core, port: 0, host: '127.0.0.1', log: () => {} });
  } catch (e) {
    await real.close();
    throw e;
  }
  return {
    modelName: model.name,
    url: server.url,
    configText: model.config,
    async close() {
      await server.close({ timeoutMs: 1000 });
      await real.close();
    },
  };
}
