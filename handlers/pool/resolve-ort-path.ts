// Resolves onnxruntime-node's entry point for the worker threads as the main thread loads it.
import { createRequire } from 'node:module';

/**
 * onnxruntime-node's entry point, resolved the way the main thread would load it: beside the
 * bundle or package (node_modules), or on NODE_PATH. The bare name is the last resort.
 */
export function resolveOrtPath(): string {
  try {
    return createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch {
    return 'onnxruntime-node';
  }
}
