/**
 * The subset of Triton's `ModelConfig` proto (triton-inference-server/common,
 * protobuf/model_config.proto) that deploy-model generates. Keys are the proto field names, so the
 * object reads like the `config.pbtxt` it renders to; `model-config-schema.ts` holds the same
 * fields with their proto types for the renderer and the parser.
 */

/** Triton's `DataType` enum names (`TYPE_FP32` ...). */
export type TritonDataType =
  | 'TYPE_INVALID' | 'TYPE_BOOL'
  | 'TYPE_UINT8' | 'TYPE_UINT16' | 'TYPE_UINT32' | 'TYPE_UINT64'
  | 'TYPE_INT8' | 'TYPE_INT16' | 'TYPE_INT32' | 'TYPE_INT64'
  | 'TYPE_FP16' | 'TYPE_FP32' | 'TYPE_FP64' | 'TYPE_STRING' | 'TYPE_BF16';

export type TritonInstanceKind = 'KIND_AUTO' | 'KIND_GPU' | 'KIND_CPU' | 'KIND_MODEL';

export interface TritonTensorReshape {
  shape: number[];
}

export interface TritonInput {
  name: string;
  data_type: TritonDataType;
  /** Per-request dims; without the batch dim when `max_batch_size > 0`; `-1` is dynamic. */
  dims: number[];
  /** The shape the backend sees per batch item, e.g. `[]` for a batch-only tensor sent as `[N, 1]`. */
  reshape?: TritonTensorReshape;
}

export interface TritonOutput {
  name: string;
  data_type: TritonDataType;
  dims: number[];
  reshape?: TritonTensorReshape;
}

export interface TritonDynamicBatching {
  preferred_batch_size?: number[];
  max_queue_delay_microseconds?: number;
}

export interface TritonInstanceGroup {
  count: number;
  kind: TritonInstanceKind;
}

export interface TritonAccelerator {
  name: string;
  /** Backend-specific string parameters (`precision_mode`, `trt_engine_cache_path` ...). */
  parameters?: Record<string, string>;
}

export interface TritonOptimization {
  execution_accelerators?: {
    gpu_execution_accelerator?: TritonAccelerator[];
  };
}

export interface TritonWarmupInput {
  data_type: TritonDataType;
  /** The sample's shape without the batch dim; concrete sizes only. */
  dims: number[];
  /** One of the three (a proto oneof). */
  zero_data?: boolean;
  random_data?: boolean;
  input_data_file?: string;
}

export interface TritonWarmup {
  name: string;
  batch_size: number;
  inputs: Record<string, TritonWarmupInput>;
  count?: number;
}

export interface TritonModelConfig {
  name: string;
  /** Older spelling of the backend (`onnxruntime_onnx`); deploy-model writes `backend`. */
  platform?: string;
  backend?: string;
  max_batch_size: number;
  input: TritonInput[];
  output: TritonOutput[];
  dynamic_batching?: TritonDynamicBatching;
  instance_group?: TritonInstanceGroup[];
  optimization?: TritonOptimization;
  /** Backend parameters, read by the onnxruntime backend (`intra_op_thread_count` ...). */
  parameters?: Record<string, { string_value: string }>;
  model_warmup?: TritonWarmup[];
}
