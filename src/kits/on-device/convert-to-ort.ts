// The model in ONNX Runtime's own format (.ort), written by onnxruntime-node for the on-device targets.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';

/**
 * Writes the model in ONNX Runtime's format with onnxruntime-node (`optimizedModelFilePath` and
 * `session.save_model_format = ORT`). Optimisations stop at 'extended': 'all' adds layout changes
 * for this machine's CPU (NCHWc on x86) that another build (WebAssembly, mobile) may not run.
 */
export async function convertToOrt(modelFile: string, outFile: string): Promise<{ file: string; bytes: number }> {
  // Loaded here: the planners that import this kit must not pull in onnxruntime-node.
  const ort = await import('onnxruntime-node');
  await mkdir(path.dirname(outFile), { recursive: true });
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(modelFile, {
      graphOptimizationLevel: 'extended',
      optimizedModelFilePath: outFile,
      extra: { session: { save_model_format: 'ORT' } },
    });
  } catch (e) {
    throw new DeployModelError('ORT_CONVERSION_FAILED', `onnxruntime-node could not convert ${modelFile} to the .ort format: ${(e as Error).message}. Set the target's modelFormat to 'onnx' to ship the model as it is.`, { cause: e, details: { modelFile } });
  }
  await session.release();
  return { file: outFile, bytes: (await stat(outFile)).size };
}
