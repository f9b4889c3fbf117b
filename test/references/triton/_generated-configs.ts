import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfig } from '../../../src/config/schema.js';
import { inspectModel } from '../../../src/model/inspect-model.js';
import {
  planTritonConfig, renderPbtxt, tritonOptionsSchema, type TritonHost, type TritonModelConfig, type TritonOptionsInput,
} from '../../../src/kits/triton/index.js';
import { encodeModel, nodeProto, onnx, tensorInfo, writeTinyModel, type TinyModelKind } from '../../_helpers/onnx-models.js';
import { MODELS, SILERO_INPUTS } from '../../kits/triton/_models.js';

/**
 * Every config.pbtxt deploy-model generates for the references to check: each real model with
 * every variant (precision, engine, warmup, batching where the model can batch, each host), and
 * tiny models for the edge cases (scalars of a non-batching model, a batch-only tensor, int64,
 * bool, fp16 and string tensors).
 */
export interface GeneratedConfig {
  label: string;
  modelPath: string;
  /** The model's folder in the repository: the model name, as buildTritonRepository writes it. */
  directoryName: string;
  config: TritonModelConfig;
  text: string;
}

const HOSTS: readonly TritonHost[] = ['aws-sagemaker', 'gcp-vertex', 'azure-ml', 'container'];

const ENGINES: ReadonlyArray<{ label: string; options: TritonOptionsInput }> = [
  { label: 'fp16', options: { precision: 'fp16' } },
  { label: 'fp32', options: { precision: 'fp32', workspaceMb: 1024, instancesPerGpu: 2 } },
  { label: 'int8', options: { precision: 'int8', int8Calibration: { table: './calibration/model.flatbuffers' } } },
  { label: 'int8-tensorrt-table', options: { precision: 'int8', int8Calibration: { table: 'model.cache', format: 'tensorrt' } } },
  { label: 'onnxruntime', options: { engine: 'onnxruntime' } },
];

const BATCHING: ModelConfig['batching'] = { maxBatchSize: 8, maxQueueDelayMs: 2, preferredBatchSizes: [4, 8] };

interface ModelCase {
  key: string;
  path: string;
  batches: boolean;
  inputShapes?: ModelConfig['inputs'];
  /** Real models get every variant; tiny ones a few. */
  full: boolean;
}

const REAL: ReadonlyArray<Omit<ModelCase, 'path'> & { path: string }> = [
  { key: 'cls', path: MODELS.cls, batches: true, full: true },
  { key: 'det', path: MODELS.det, batches: true, full: true },
  { key: 'rec', path: MODELS.rec, batches: true, full: true },
  { key: 'silero', path: MODELS.silero, batches: false, inputShapes: SILERO_INPUTS, full: true },
  { key: 'hello-deepa', path: MODELS.hello_deepa, batches: false, full: true },
];

/** Tiny models from the shared helper, and whether every tensor has a dynamic first dim. */
const TINY: ReadonlyArray<{ kind: TinyModelKind; batches: boolean }> = [
  { kind: 'int64-scalar', batches: false },  // int64 scalar input and output, non-batching
  { kind: 'if-subgraph', batches: false },   // bool scalar input
  { kind: 'identity-float16', batches: true },
  { kind: 'identity-int64', batches: true },
  { kind: 'identity-bool', batches: true },
  { kind: 'identity-string', batches: true },
];

const T = onnx.TensorProto.DataType;

/** ids int64 [batch] and x float32 [batch, 4], passed through: batch-only tensors of a batching model. */
function batchOnlyModel(): Uint8Array {
  return encodeModel({
    nodes: [nodeProto('Identity', ['ids'], ['ids_out']), nodeProto('Identity', ['x'], ['y'])],
    inputs: [tensorInfo('ids', T.INT64, ['batch']), tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('ids_out', T.INT64, ['batch']), tensorInfo('y', T.FLOAT, ['batch', 4])],
  });
}

/** Writes the tiny models into `dir` and plans every config. */
export async function generatedConfigs(dir: string): Promise<GeneratedConfig[]> {
  const cases: ModelCase[] = [...REAL];
  for (const { kind, batches } of TINY) cases.push({ key: kind, path: await writeTinyModel(dir, kind), batches, full: false });
  const batchOnly = join(dir, 'batch-only.onnx');
  await writeFile(batchOnly, batchOnlyModel());
  cases.push({ key: 'batch-only', path: batchOnly, batches: true, full: false });

  const out: GeneratedConfig[] = [];
  for (const c of cases) {
    const signature = await inspectModel(c.path);
    const plan = (label: string, host: TritonHost, options: TritonOptionsInput, batching?: ModelConfig['batching'], runtime?: { intraOpThreads?: number }) => {
      const config = planTritonConfig({
        signature, modelName: c.key, host, batching, inputShapes: c.inputShapes, options: tritonOptionsSchema.parse(options), runtime,
      });
      out.push({ label: `${c.key} ${label}`, modelPath: c.path, directoryName: c.key, config, text: renderPbtxt(config) });
    };
    if (!c.full) {
      plan('fp16 aws-sagemaker', 'aws-sagemaker', {});
      plan('onnxruntime no-warmup container', 'container', { engine: 'onnxruntime', warmup: false });
      plan('fp16 intra-op-threads azure-ml', 'azure-ml', {}, undefined, { intraOpThreads: 2 });
      if (c.batches) plan('fp16 batching gcp-vertex', 'gcp-vertex', {}, BATCHING);
      continue;
    }
    for (const host of HOSTS) {
      for (const engine of ENGINES) {
        for (const warmup of [true, false]) {
          for (const batching of c.batches ? [undefined, BATCHING] : [undefined]) {
            // INT8 reads its table from the engine cache, which must be provisioned where it is not in the repository.
            const cache = engine.label.startsWith('int8') && (host === 'gcp-vertex' || host === 'azure-ml') ? { engineCachePath: '/mnt/trt-cache' } : {};
            const label = [engine.label, host, warmup ? 'warmup' : 'no-warmup', ...(batching ? ['batching'] : [])].join(' ');
            plan(label, host, { ...engine.options, ...cache, warmup }, batching);
          }
        }
      }
    }
  }
  return out;
}
