// The v2 binary tensor data extension: requests and responses with raw tensor bytes.
import { dtypeFromV2, v2Datatype } from '../../src/model/dtypes.js';
import type { RouteResult } from '../http.js';
import { decodeBase64Tensor } from '../core/base64.js';
import { encodeOutputTensor } from '../core/codec.js';
import { InferenceError } from '../core/inference-error.js';
import { elementCount } from '../core/nested.js';
import type { InferenceCore, V2InferenceRequest, V2InferenceResponse, V2ResponseTensor } from '../core/types.js';
import type { RawInferenceResult, RawOutput } from '../pool/types.js';

/**
 * The v2 binary tensor data extension (as Triton and KServe speak it): the body is a JSON header
 * of `Inference-Header-Content-Length` bytes followed by the raw little-endian bytes of each input
 * that carries `parameters.binary_data_size`, in input order. Outputs asked for with
 * `parameters.binary_data_output: true` (request) or `parameters.binary_data: true` (one output)
 * come back the same way. BYTES elements are a 4-byte little-endian length and the bytes.
 * Large tensors then never pass through JSON.
 */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/**
 * The media types under which Triton's SageMaker and Vertex AI front ends take the binary
 * extension (triton-inference-server/server r25.09, `src/sagemaker_server.cc` and
 * `src/vertex_ai_server.cc`): InvokeEndpoint and RawPredict forward the Content-Type but not
 * `Inference-Header-Content-Length`, so the JSON header's length travels in the media type,
 * `application/vnd.sagemaker-triton.binary+json;json-header-size=<n>`. Answers with binary
 * outputs carry the same type with their own header length.
 */
export const BINARY_JSON_MEDIA_TYPES = ['application/vnd.sagemaker-triton.binary+json', 'application/vnd.vertex-ai-triton.binary+json'] as const;

export interface BinaryMediaType {
  type: (typeof BINARY_JSON_MEDIA_TYPES)[number];
  /** The `json-header-size` parameter as sent; absent means the whole body is the JSON request. */
  headerLength?: string;
}

/** Reads one of `BINARY_JSON_MEDIA_TYPES` and its `json-header-size` from a Content-Type. */
export function binaryMediaType(contentType: string | undefined): BinaryMediaType | undefined {
  if (!contentType) return undefined;
  const [type, ...params] = contentType.split(';').map((p) => p.trim());
  const known = BINARY_JSON_MEDIA_TYPES.find((t) => t === type.toLowerCase());
  if (!known) return undefined;
  const size = params.map((p) => /^json-header-size\s*=\s*(.*)$/i.exec(p)).find(Boolean)?.[1];
  return size === undefined ? { type: known } : { type: known, headerLength: size };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(code: string, message: string): InferenceError {
  return new InferenceError(400, code, message);
}

/** BYTES elements: each a uint32 little-endian length, then that many bytes (UTF-8 here). */
export function decodeBytesElements(name: string, bytes: Uint8Array): string[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let at = 0;
  while (at < view.length) {
    if (at + 4 > view.length) throw bad('INVALID_DATA', `input "${name}": BYTES binary data ends inside an element's 4-byte length`);
    const len = view.readUInt32LE(at);
    at += 4;
    if (at + len > view.length) throw bad('INVALID_DATA', `input "${name}": a BYTES element of ${len} bytes runs past the tensor's binary data`);
    out.push(view.toString('utf8', at, at + len));
    at += len;
  }
  return out;
}

export function encodeBytesElements(values: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    const s = Buffer.from(v, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(s.length);
    parts.push(len, s);
  }
  return Buffer.concat(parts);
}

/**
 * Splits a binary-extension body into the v2 request. Binary inputs get their bytes as a
 * `Uint8Array` in `data` (the codec checks the size against the shape and copies them), BYTES
 * inputs a string array.
 */
export function parseBinaryRequest(body: Buffer, headerLength: string): V2InferenceRequest {
  const n = Number(headerLength);
  if (!/^\d+$/.test(headerLength.trim()) || n > body.length) {
    throw bad('INVALID_REQUEST', `the JSON header length (Inference-Header-Content-Length, or json-header-size in the content-type) is "${headerLength}"; it must be the byte length of the JSON header at the start of the ${body.length}-byte body`);
  }
  let header: unknown;
  try {
    header = JSON.parse(body.toString('utf8', 0, n));
  } catch (e) {
    throw bad('BAD_JSON', `the JSON header (the first ${n} bytes of the body) is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(header) || !Array.isArray(header.inputs)) {
    throw bad('INVALID_REQUEST', 'the JSON header of a binary request must be an object with an "inputs" array of v2 tensors');
  }
  let offset = n;
  const inputs = header.inputs.map((t: unknown, i: number) => {
    if (!isObject(t) || !isObject(t.parameters) || t.parameters.binary_data_size === undefined) return t;
    const size = t.parameters.binary_data_size;
    const name = typeof t.name === 'string' ? t.name : `inputs[${i}]`;
    if (!Number.isSafeInteger(size) || (size as number) < 0) {
      throw bad('INVALID_REQUEST', `input "${name}": parameters.binary_data_size must be a byte count, got ${JSON.stringify(size)}`);
    }
    if (offset + (size as number) > body.length) {
      throw bad('DATA_SIZE_MISMATCH', `input "${name}": binary_data_size is ${size} bytes, but only ${body.length - offset} bytes of binary data are left in the body`);
    }
    const bytes = new Uint8Array(body.buffer, body.byteOffset + offset, size as number);
    offset += size as number;
    const { binary_data_size: _, ...parameters } = t.parameters;
    const data = t.datatype === 'BYTES' ? decodeBytesElements(name, bytes) : bytes;
    return { ...t, data, ...(Object.keys(parameters).length ? { parameters } : { parameters: undefined }) };
  });
  if (offset !== body.length) {
    throw bad('DATA_SIZE_MISMATCH', `the body has ${body.length - offset} bytes after the JSON header and the inputs' binary_data_size bytes; each binary input must state its exact size`);
  }
  return { ...header, inputs } as V2InferenceRequest;
}

/**
 * Which outputs the request wants as binary: `parameters.binary_data_output` sets the default,
 * an output's `parameters.binary_data` overrides it. Undefined when none does.
 */
export function binaryOutputs(request: unknown): ((name: string) => boolean) | undefined {
  if (!isObject(request)) return undefined;
  const all = isObject(request.parameters) && request.parameters.binary_data_output === true;
  const per = new Map<string, boolean>();
  if (Array.isArray(request.outputs)) {
    for (const o of request.outputs) {
      if (isObject(o) && typeof o.name === 'string' && isObject(o.parameters) && typeof o.parameters.binary_data === 'boolean') per.set(o.name, o.parameters.binary_data);
    }
  }
  if (!all && ![...per.values()].some(Boolean)) return undefined;
  return (name) => per.get(name) ?? all;
}

function rawBytes(o: RawOutput): Uint8Array {
  if (o.dtype === 'string') return encodeBytesElements(o.data as string[]);
  const d = o.data as ArrayBufferView;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** A response body sent as it lies in several pieces (no copy into one buffer). */
export class BinaryBody {
  readonly bytes: number;

  constructor(readonly chunks: readonly Uint8Array[]) {
    this.bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  }
}

/** The binary response: the JSON header, then each binary output's bytes in output order. */
export function binaryResult(modelName: string, raw: RawInferenceResult, binary: (name: string) => boolean, mediaType?: BinaryMediaType['type']): RouteResult {
  const chunks: Uint8Array[] = [];
  type BinaryTensor = Omit<V2ResponseTensor, 'data' | 'parameters'> & { parameters: { binary_data_size: number } };
  const outputs = raw.outputs.map((o): V2ResponseTensor | BinaryTensor => {
    if (!binary(o.name)) return encodeOutputTensor(o.name, o.dtype, o.dims, o.data, raw.outputEncoding);
    const bytes = rawBytes(o);
    chunks.push(bytes);
    return { name: o.name, datatype: v2Datatype(o.dtype), shape: [...o.dims], parameters: { binary_data_size: bytes.byteLength } };
  });
  const header = Buffer.from(JSON.stringify({ model_name: modelName, model_version: '1', ...(raw.id === undefined ? {} : { id: raw.id }), outputs }), 'utf8');
  return {
    status: 200,
    body: new BinaryBody([header, ...chunks]),
    headers: {
      'content-type': mediaType ? `${mediaType};json-header-size=${header.length}` : 'application/octet-stream',
      [INFERENCE_HEADER_CONTENT_LENGTH]: String(header.length),
    },
  };
}

/**
 * Unencoded outputs from a core that only encodes (the in-process core): it is asked for base64,
 * which is decoded back to typed arrays. The worker pool's `inferRaw` skips both steps.
 */
export async function inferRawThroughBase64(core: Pick<InferenceCore, 'infer'>, request: V2InferenceRequest): Promise<RawInferenceResult> {
  const asked = isObject(request.parameters) ? request.parameters.output_encoding : undefined;
  const response: V2InferenceResponse = await core.infer({ ...request, parameters: { ...request.parameters, output_encoding: 'base64' } });
  return {
    ...(response.id === undefined ? {} : { id: response.id }),
    outputEncoding: asked === 'base64' ? 'base64' : 'json',
    outputs: response.outputs.map((t) => {
      const dtype = dtypeFromV2(t.datatype)!;
      const data = typeof t.data === 'string'
        ? decodeBase64Tensor(t.name, dtype, t.shape, elementCount(t.shape), t.data)
        : t.data;
      return { name: t.name, dtype, dims: t.shape, data };
    }),
  };
}
