/** The `triton` engine's part of the plan: the generated Triton configuration, where the repository and the engine cache sit, and how Triton starts. */
import path from 'node:path';
import type { ModelConfig, RuntimeConfig } from '../../config/schema.js';
import { calibrationTableName, planTritonConfig, type TritonModelConfig } from '../../kits/triton/index.js';
import type { ModelSignature } from '../../model/types.js';
import { MODEL_MOUNT } from './engines.js';
import { containerTritonSchema, type ContainerTargetConfig } from './schema.js';

export type ContainerTritonOptions = NonNullable<ContainerTargetConfig['triton']>;

export interface ContainerTritonPlan {
  /** The generated config.pbtxt, as data (the kit's `planTritonConfig`, host 'container'). */
  config: TritonModelConfig;
  /** The release (`tritonVersion`). */
  tritonVersion: string;
  /** The model repository in the image; `<repository>/<model>/config.pbtxt` and `<repository>/<model>/1/model.onnx`. */
  repository: string;
  /** The TensorRT engine cache: its path in the pod, and the volume mounted there. @default - none with engine 'onnxruntime' */
  engineCache?: { path: string; volume: ContainerTritonOptions['engineCacheVolume'] };
  /** INT8: the table copied into the engine cache at start (the cache is a volume, so the image cannot hold it there). */
  int8Table?: { file: string; name: string; inImage: string };
  /** What the image runs: `tritonserver` and its flags. */
  command: string[];
  /** How long the first start may take, in seconds: TensorRT builds engines before the model is ready. */
  startupBudgetSeconds: number;
}

/** The triton options with their defaults, from the target's `triton` entry (which may be absent). */
export function resolveTritonOptions(target: Pick<ContainerTargetConfig, 'triton'>): ContainerTritonOptions {
  return target.triton ?? containerTritonSchema.parse({});
}

/**
 * Start-up budget by accelerator and precision: building TensorRT engines takes longer at lower
 * precisions (more kernels to time). The same budgets the azure-ml target derives its probes from
 * (docs/azure-ml.md): 600 s without TensorRT or warmup, 900 s fp32, 1200 s fp16, 1800 s int8.
 */
function startupBudget(options: ContainerTritonOptions): number {
  if (options.engine !== 'tensorrt' || !options.warmup) return 600;
  return { fp32: 900, fp16: 1200, int8: 1800 }[options.precision];
}

export interface PlanContainerTritonParams {
  signature: Pick<ModelSignature, 'inputs' | 'outputs'>;
  modelName: string;
  batching?: ModelConfig['batching'];
  inputShapes?: ModelConfig['inputs'];
  runtime: Pick<RuntimeConfig, 'intraOpThreads'>;
  options: ContainerTritonOptions;
  port: number;
  /** The config file's folder: `int8Calibration.table` is relative to it. */
  rootDir: string;
}

/**
 * Plans the Triton side of the image. The repository lives at MODEL_MOUNT, where KServe's Triton
 * runtime looks (`--model-store=/mnt/models`), so the engine cache default is
 * `/mnt/models/<model>/trt_engine_cache`: inside the model's folder (Triton loads only numeric
 * folders as versions), on a volume, since the pod's root filesystem is read-only.
 * Throws the kit's coded errors (TRITON_UNSUPPORTED_TENSOR for a dtype the onnxruntime backend
 * refuses, TRITON_BATCHING_UNSUPPORTED, ...).
 */
export function planContainerTriton(params: PlanContainerTritonParams): ContainerTritonPlan {
  const { options, modelName } = params;
  const tensorrt = options.engine === 'tensorrt';
  const cachePath = options.engineCachePath ?? `${MODEL_MOUNT}/${modelName}/trt_engine_cache`;
  const config = planTritonConfig({
    signature: params.signature, modelName, host: 'container', batching: params.batching, inputShapes: params.inputShapes,
    // The path is given explicitly: the repository is at MODEL_MOUNT here, not at the kit's default for the host.
    options: { ...options, engineCachePath: cachePath }, runtime: params.runtime,
  });
  const table = options.precision === 'int8' && tensorrt && options.int8Calibration ? options.int8Calibration.table : undefined;
  const int8Table = table
    ? { file: path.resolve(params.rootDir, table), name: calibrationTableName(table), inImage: `/opt/deploy-model/trt/${calibrationTableName(table)}` }
    : undefined;
  return {
    config,
    tritonVersion: options.tritonVersion,
    repository: MODEL_MOUNT,
    ...(tensorrt ? { engineCache: { path: cachePath, volume: options.engineCacheVolume } } : {}),
    ...(int8Table ? { int8Table } : {}),
    command: [
      'tritonserver',
      `--model-repository=${MODEL_MOUNT}`,
      `--http-port=${params.port}`,
      '--allow-grpc=false',
      '--model-control-mode=none',
      '--exit-on-error=true',
    ],
    startupBudgetSeconds: startupBudget(options),
  };
}
