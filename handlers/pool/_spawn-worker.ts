// Starts and stops one worker thread of the pool.
import { Worker } from 'node:worker_threads';
import { disableOrtTelemetry } from '../serving-env.js';
import { WORKER_SOURCE, type FromWorker, type WorkerData } from './_worker-source.js';

export { resolveOrtPath } from './resolve-ort-path.js';

export interface ReadyWorker {
  worker: Worker;
  providers: string[];
  failed: { provider: string; message: string }[];
  inputNames: string[];
  outputNames: string[];
}

/** Starts one worker and resolves when its session is loaded; rejects with onnxruntime's message. */
export function spawnWorker(data: WorkerData, name: string): Promise<ReadyWorker> {
  // Workers get a copy of process.env, but onnxruntime reads the process's own: set it here.
  disableOrtTelemetry();
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: data, name });
  return new Promise((resolve, reject) => {
    const onMessage = (msg: FromWorker) => {
      if (msg.type === 'ready') {
        cleanup();
        resolve({ worker, providers: msg.providers, failed: msg.failed, inputNames: msg.inputNames, outputNames: msg.outputNames });
      } else if (msg.type === 'load-failed') {
        cleanup();
        // Settle only once the thread is gone: exiting the process while a thread is still in
        // onnxruntime's native code can crash the exit.
        void worker.terminate().finally(() => reject(new Error(msg.message)));
      }
    };
    const onError = (e: Error) => {
      cleanup();
      void worker.terminate().finally(() => reject(e));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`the worker exited with code ${code} while loading the model`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Asks the worker to release its session and exit; terminates it if it has not within `timeoutMs`. */
export async function stopWorker(worker: Worker, timeoutMs = 5_000): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    worker.postMessage({ type: 'close' });
  } catch {
    // Already gone.
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
  await Promise.race([exited, deadline]);
  clearTimeout(timer);
  await worker.terminate();
}
