// Asks onnxruntime-web in Node whether it can load the model.
import { readFile } from 'node:fs/promises';
import type { WebModelFiles } from './model-files-of.js';
import type { WebProblem } from './web-problems.js';

/**
 * Loads the model with onnxruntime-web's WebAssembly backend in Node (the same kernels the browser
 * runs) and returns its refusal as a problem: an operator, an opset or a dtype the web runtime
 * lacks. Returns [] when the session is created. Takes seconds for large models.
 */
export async function checkWebRuntime(model: WebModelFiles): Promise<WebProblem[]> {
  const ort = await import('onnxruntime-web');
  // One thread: in Node extra threads are worker_threads that would only slow a one-off load.
  ort.env.wasm.numThreads = 1;
  const externalData = await Promise.all(model.externalData.map(async (d) => ({ path: d.name, data: new Uint8Array(await readFile(d.file)) })));
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(await readFile(model.file)), externalData.length ? { externalData } : {});
  } catch (e) {
    const reason = ((e as Error).message ?? String(e)).replace(/^.*ERROR_MESSAGE: /s, '').split('\n')[0]!;
    return [{
      level: 'error', code: 'WEB_RUNTIME_REFUSED', path: 'model.path', value: model.file,
      rule: `onnxruntime-web ${ort.env.versions.web} cannot load the model: ${reason}`,
      fix: 'export the model without that operator or type (a standard ONNX op at opset 7-26, tensors of float, int, uint, bool or string), or deploy it to a server target',
    }];
  }
  await session.release();
  return [];
}
