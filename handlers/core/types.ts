// The Open Inference Protocol (KServe v2) shapes the runtime speaks, and the core's interfaces.
import type { Dtype, ModelSignature } from '../../src/model/types.js';

/**
 * The Open Inference Protocol (KServe v2) JSON shapes the runtime speaks, plus the small
 * extensions documented in handlers/README.md (simple form, base64 tensors, int64 as strings).
 */

/** One input tensor of a v2 request. `data` is flat or nested row-major, or a base64 string. */
export interface V2RequestTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown;
  /** `{ content_encoding: 'base64' }` when `data` is the base64 of the little-endian raw bytes. */
  parameters?: Record<string, unknown>;
}

export interface V2RequestOutput {
  name: string;
  parameters?: Record<string, unknown>;
}

export interface V2InferenceRequest {
  id?: string;
  /** The v2 tensor list, or the simple form `{ inputName: nestedArray }`. */
  inputs: V2RequestTensor[] | Record<string, unknown>;
  outputs?: V2RequestOutput[];
  /** `{ output_encoding: 'base64' }` asks for base64 raw-byte outputs. */
  parameters?: Record<string, unknown>;
}

export type V2TensorData = number[] | string[] | boolean[] | (number | string)[] | string;

export interface V2ResponseTensor {
  name: string;
  datatype: string;
  shape: number[];
  /** Flat row-major values, or a base64 string when `parameters.content_encoding` is `base64`. */
  data: V2TensorData;
  parameters?: { content_encoding: 'base64' };
}

export interface V2InferenceResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: V2ResponseTensor[];
}

export interface V2TensorMetadata {
  name: string;
  datatype: string;
  /** Dynamic dims are -1. */
  shape: number[];
}

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: 'onnxruntime_onnx';
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
}

/** A decoded, validated tensor, ready to become an onnxruntime Tensor. */
export interface DecodedTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export type TensorData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | string[];

export type OutputEncoding = 'json' | 'base64';

export interface DecodedRequest {
  id?: string;
  inputs: DecodedTensor[];
  /** Output names to fetch; undefined means every output. */
  outputs?: string[];
  outputEncoding: OutputEncoding;
}

/** An output as the model produced it, before encoding. */
export interface RawOutput {
  name: string;
  dtype: Dtype;
  dims: number[];
  /** A typed array (onnxruntime's type for the dtype), or string[]. */
  data: unknown;
}

export interface RawInferenceResult {
  id?: string;
  /** What the request asked for with `parameters.output_encoding`. */
  outputEncoding: OutputEncoding;
  outputs: RawOutput[];
}

/**
 * What the adapters need from an inference backend. The in-process core implements it; a worker
 * pool can implement the same interface and be handed to the same adapters.
 */
export interface InferenceCore {
  readonly modelName: string;
  readonly signature: ModelSignature;
  /** The execution providers the model actually runs on, after any fallback. */
  readonly executionProviders: readonly string[];
  /** Validates the request against the signature, runs the model and encodes the outputs. */
  infer(request: V2InferenceRequest): Promise<V2InferenceResponse>;
  /**
   * Like `infer`, but the outputs come back unencoded, for adapters that write the response
   * themselves (`inferenceResponseJson`, the binary tensor data extension). The adapters call it
   * instead of `infer` when it is there, so a wrapper around a core wraps both.
   */
  inferRaw?(request: V2InferenceRequest): Promise<RawInferenceResult>;
  metadata(): V2ModelMetadata;
  /** Releases the model; later calls to `infer` fail with 503. */
  close(): Promise<void>;
}

export interface InferenceCoreOptions {
  modelPath: string;
  signature: ModelSignature;
  modelName: string;
  /**
   * onnxruntime execution providers in order of preference. One that fails to load is dropped and
   * the rest retried, finally `['cpu']`.
   * @default ['cpu']
   */
  executionProviders?: string[];
  /** @default - onnxruntime's choice (the number of cores) */
  intraOpThreads?: number;
  /**
   * Where the core writes its few operational lines (provider fallback).
   * @default console.error
   */
  log?: (line: string) => void;
}
