// The inference core every adapter shares: the model loaded once, requests validated and run.
import * as ort from 'onnxruntime-node';
import type { Dtype, ModelSignature } from '../../src/model/types.js';
import { ortType } from '../../src/model/dtypes.js';
import { createSessionWithFallback } from './_providers.js';
import { decodeInferenceRequest, encodeOutputTensor } from './codec.js';
import { InferenceError, kernelRefusal } from './inference-error.js';
import { modelMetadata } from './metadata.js';
import type { InferenceCore, InferenceCoreOptions, RawInferenceResult, RawOutput, V2InferenceRequest, V2InferenceResponse, V2ModelMetadata } from './types.js';

/** onnxruntime's tensor type names are ours for every servable dtype. */
const ORT_TO_DTYPE = new Map<string, Dtype>(
  (['float32', 'float16', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string'] as const)
    .map((d) => [ortType(d)!, d]),
);

function checkSignature(session: ort.InferenceSession, signature: ModelSignature, modelPath: string): void {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n, i) => n === b[i]);
  const sigIn = signature.inputs.map((s) => s.name);
  const sigOut = signature.outputs.map((s) => s.name);
  if (!same(session.inputNames, sigIn) || !same(session.outputNames, sigOut)) {
    throw new InferenceError(500, 'SIGNATURE_MISMATCH',
      `the signature does not describe ${modelPath}: it lists inputs [${sigIn.join(', ')}] and outputs [${sigOut.join(', ')}], the model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; rebuild the signature from this model`);
  }
  for (const spec of signature.inputs) {
    if (spec.dtype === 'unsupported' || !ortType(spec.dtype)) {
      throw new InferenceError(500, 'UNSUPPORTED_DATATYPE', `input "${spec.name}" has element type ${spec.onnxTypeName}, which onnxruntime-node cannot serve`);
    }
  }
}

/**
 * Loads the model once and returns the core every adapter shares: validation against the
 * signature, the v2 codec and `InferenceSession.run`.
 */
export async function createInferenceCore(options: InferenceCoreOptions): Promise<InferenceCore> {
  const { modelPath, signature, modelName } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  let created;
  try {
    created = await createSessionWithFallback(modelPath, options.executionProviders ?? ['cpu'], {
      graphOptimizationLevel: 'all',
      ...(options.intraOpThreads === undefined ? {} : { intraOpNumThreads: options.intraOpThreads }),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    throw new InferenceError(500, 'MODEL_LOAD_FAILED', `could not load the model ${modelPath}: ${message}`, { cause: e });
  }
  const { session, providers, failed } = created;
  if (failed.length) {
    log(`deploy-model: execution provider${failed.length > 1 ? 's' : ''} ${failed.map((f) => `"${f.provider}" (${f.message})`).join(', ')} could not be loaded; running on [${providers.join(', ')}]`);
  }
  try {
    checkSignature(session, signature, modelPath);
  } catch (e) {
    await session.release();
    throw e;
  }
  const servableOutputs = signature.outputs.filter((s) => s.dtype !== 'unsupported' && ortType(s.dtype)).map((s) => s.name);
  const metadata = modelMetadata(signature, modelName);
  let closed = false;
  // Releasing the InferenceSession under a running `run` would crash the native side: close waits.
  let running = 0;
  let drained: (() => void) | undefined;

  async function inferRaw(request: V2InferenceRequest): Promise<RawInferenceResult> {
    if (closed) throw new InferenceError(503, 'NOT_READY', `model "${modelName}" is shutting down`);
    const decoded = decodeInferenceRequest(request, signature);
    const fetches = decoded.outputs ?? servableOutputs;
    for (const name of fetches) {
      if (!servableOutputs.includes(name)) {
        throw new InferenceError(400, 'UNKNOWN_OUTPUT', `output "${name}" has an element type onnxruntime-node cannot return; request one of ${servableOutputs.map((n) => `"${n}"`).join(', ')}`);
      }
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of decoded.inputs) {
      feeds[t.name] = new ort.Tensor(ortType(t.dtype) as ort.Tensor.Type, t.data as ort.Tensor.DataType, t.shape);
    }
    let results: ort.InferenceSession.OnnxValueMapType;
    running++;
    try {
      results = await session.run(feeds, fetches);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw kernelRefusal(message) ?? new InferenceError(500, 'INFERENCE_FAILED', `model "${modelName}" failed on this input: ${message}`, { cause: e });
    } finally {
      running--;
      if (running === 0) drained?.();
    }
    const outputs = fetches.map((name): RawOutput => {
      const tensor = results[name] as ort.Tensor;
      const dtype = ORT_TO_DTYPE.get(tensor.type);
      if (!dtype) throw new InferenceError(500, 'INFERENCE_FAILED', `output "${name}" has onnxruntime type ${tensor.type}, which the runtime cannot encode`);
      // A CPU tensor's dispose only drops its reference to the data, which stays ours.
      const out = { name, dtype, dims: [...tensor.dims], data: tensor.data };
      tensor.dispose();
      return out;
    });
    return { ...(decoded.id === undefined ? {} : { id: decoded.id }), outputEncoding: decoded.outputEncoding, outputs };
  }

  async function infer(request: V2InferenceRequest): Promise<V2InferenceResponse> {
    const raw = await inferRaw(request);
    return {
      model_name: modelName,
      model_version: '1',
      ...(raw.id === undefined ? {} : { id: raw.id }),
      outputs: raw.outputs.map((o) => encodeOutputTensor(o.name, o.dtype, o.dims, o.data, raw.outputEncoding)),
    };
  }

  return {
    modelName,
    signature,
    executionProviders: providers,
    infer,
    inferRaw,
    metadata: (): V2ModelMetadata => metadata,
    async close() {
      if (closed) return;
      closed = true;
      if (running > 0) await new Promise<void>((resolve) => { drained = resolve; });
      await session.release();
    },
  };
}
