// Creates the onnxruntime session on the first execution providers that load, falling back to CPU.
import * as ort from 'onnxruntime-node';
import { disableOrtTelemetry } from '../serving-env.js';

export interface SessionWithProviders {
  session: ort.InferenceSession;
  /** The providers it was created with, after any fallback. */
  providers: string[];
  /** Providers dropped because onnxruntime could not load them, with its message. */
  failed: { provider: string; message: string }[];
}

/** onnxruntime names the provider it could not append, e.g. `…AppendExecutionProvider_Cuda: …`. */
function blamedProvider(message: string, providers: string[]): string {
  const lower = message.toLowerCase();
  return providers.find((p) => p !== 'cpu' && lower.includes(`executionprovider_${p.toLowerCase()}`))
    ?? providers.find((p) => p !== 'cpu' && lower.includes(p.toLowerCase()))
    ?? providers.find((p) => p !== 'cpu')!;
}

/**
 * Creates the InferenceSession on the first providers that load. onnxruntime throws when a listed
 * provider's libraries are absent (CUDA, TensorRT) instead of falling back, so the provider it
 * blames is dropped and the rest retried, ending with CPU alone. A failure on CPU is the model's.
 */
export async function createSessionWithFallback(
  modelPath: string,
  requested: string[],
  base: ort.InferenceSession.SessionOptions,
): Promise<SessionWithProviders> {
  let providers = requested.length ? [...requested] : ['cpu'];
  const failed: SessionWithProviders['failed'] = [];
  disableOrtTelemetry();
  for (;;) {
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: providers });
      return { session, providers, failed };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (providers.every((p) => p === 'cpu')) throw e;
      const dropped = blamedProvider(message, providers);
      failed.push({ provider: dropped, message: message.split('\n')[0] });
      providers = providers.filter((p) => p !== dropped);
      if (!providers.length) providers = ['cpu'];
    }
  }
}
