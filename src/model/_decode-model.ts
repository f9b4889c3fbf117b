/**
 * Walks an ONNX ModelProto with the wire reader and keeps only what a deployment needs: the
 * header, the graph's inputs and outputs, operator counts and the size of each initializer.
 * Field numbers are those of onnx/onnx.proto (stable since IR version 3).
 */
import { bytesPerElement, dtypeFromOnnx, ONNX_TYPE_NAMES } from './dtypes.js';
import { ProtoReader, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './_protobuf.js';
import { UNNAMED_DIM, type Dim, type TensorSpec } from './types.js';

/** Where a tensor's bytes live when TensorProto.data_location is EXTERNAL. */
export interface ExternalRef {
  tensor: string;
  location: string;
  offset: number;
  /** Absent when the entry is missing: the data runs to the end of the file. */
  length?: number;
}

/** What we keep of an initializer: never its data, only its size. */
export interface InitializerInfo {
  name: string;
  dataType: number;
  dims: number[];
  /** Bytes stored in the model file (0 for external tensors; see `external`). */
  bytes: number;
  external?: ExternalRef;
}

export interface DecodedGraph {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Nodes of the top-level graph. */
  nodes: number;
  /** Initializers of the top-level graph (dense and sparse). */
  initializers: InitializerInfo[];
}

export interface DecodedModel {
  irVersion: number;
  opsets: Record<string, number>;
  producer: string;
  producerVersion: string;
  graph?: DecodedGraph;
  /** Operator counts over the graph and every subgraph (If/Loop/Scan bodies). */
  operators: Record<string, number>;
  /** Every external tensor reference, in subgraphs and Constant attributes included. */
  externalRefs: ExternalRef[];
}

const EXTERNAL = 1;
const DEFAULT_DOMAIN = 'ai.onnx';

interface Ctx {
  operators: Record<string, number>;
  externalRefs: ExternalRef[];
}

export function decodeModel(buf: Uint8Array): DecodedModel {
  const ctx: Ctx = { operators: {}, externalRefs: [] };
  const model: DecodedModel = { irVersion: 0, opsets: {}, producer: '', producerVersion: '', operators: ctx.operators, externalRefs: ctx.externalRefs };
  const r = new ProtoReader(buf);
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WIRE_VARINT); model.irVersion = r.varint(); break;
      case 2: r.expect(wire, WIRE_LEN); model.producer = r.string(); break;
      case 3: r.expect(wire, WIRE_LEN); model.producerVersion = r.string(); break;
      case 7: r.expect(wire, WIRE_LEN); model.graph = decodeGraph(r.message(), ctx); break;
      case 8: {
        r.expect(wire, WIRE_LEN);
        const { domain, version } = decodeOpset(r.message());
        model.opsets[domain === '' ? DEFAULT_DOMAIN : domain] = version;
        break;
      }
      default: r.skip(wire);
    }
  }
  return model;
}

function decodeOpset(r: ProtoReader): { domain: string; version: number } {
  let domain = '';
  let version = 0;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) domain = r.string();
    else if (field === 2 && wire === WIRE_VARINT) version = r.varint();
    else r.skip(wire);
  }
  return { domain, version };
}

function decodeGraph(r: ProtoReader, ctx: Ctx): DecodedGraph {
  const graph: DecodedGraph = { inputs: [], outputs: [], nodes: 0, initializers: [] };
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WIRE_LEN); decodeNode(r.message(), ctx); graph.nodes++; break;
      case 5: r.expect(wire, WIRE_LEN); graph.initializers.push(decodeTensor(r.message(), ctx)); break;
      case 15: r.expect(wire, WIRE_LEN); graph.initializers.push(decodeSparseTensor(r.message(), ctx)); break;
      case 11: r.expect(wire, WIRE_LEN); graph.inputs.push(decodeValueInfo(r.message())); break;
      case 12: r.expect(wire, WIRE_LEN); graph.outputs.push(decodeValueInfo(r.message())); break;
      default: r.skip(wire);
    }
  }
  return graph;
}

function decodeNode(r: ProtoReader, ctx: Ctx): void {
  let opType = '';
  let domain = '';
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 4 && wire === WIRE_LEN) opType = r.string();
    else if (field === 7 && wire === WIRE_LEN) domain = r.string();
    else if (field === 5 && wire === WIRE_LEN) decodeAttribute(r.message(), ctx);
    else r.skip(wire);
  }
  const key = domain === '' || domain === DEFAULT_DOMAIN ? opType : `${domain}:${opType}`;
  ctx.operators[key] = (ctx.operators[key] ?? 0) + 1;
}

/** Attributes matter for their subgraphs (operators) and tensors (external data). */
function decodeAttribute(r: ProtoReader, ctx: Ctx): void {
  while (!r.done) {
    const { field, wire } = r.tag();
    if (wire !== WIRE_LEN) { r.skip(wire); continue; }
    switch (field) {
      case 5: case 10: decodeTensor(r.message(), ctx); break; // t, tensors
      case 6: case 11: decodeGraph(r.message(), ctx); break; // g, graphs
      case 22: case 23: decodeSparseTensor(r.message(), ctx); break; // sparse_tensor(s)
      default: r.skip(wire);
    }
  }
}

function decodeSparseTensor(r: ProtoReader, ctx: Ctx): InitializerInfo {
  let values: InitializerInfo | undefined;
  let indexBytes = 0;
  const dims: number[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) values = decodeTensor(r.message(), ctx);
    else if (field === 2 && wire === WIRE_LEN) indexBytes = decodeTensor(r.message(), ctx).bytes;
    else if (field === 3) r.repeatedVarint(wire, dims);
    else r.skip(wire);
  }
  return { name: values?.name ?? '', dataType: values?.dataType ?? 0, dims, bytes: (values?.bytes ?? 0) + indexBytes, external: values?.external };
}

/**
 * Reads a TensorProto's name, type, dims and the size of its data, skipping the data itself.
 * Typed repeated fields are sized per entry: the entry width of the field, or for `int32_data`
 * (which carries every type narrower than 32 bits) the element width of the data type.
 */
function decodeTensor(r: ProtoReader, ctx: Ctx): InitializerInfo {
  const info: InitializerInfo = { name: '', dataType: 0, dims: [], bytes: 0 };
  let raw: number | undefined;
  let floats = 0, int32s = 0, int64s = 0, doubles = 0, uint64s = 0, stringBytes = 0;
  let location = 0;
  const entries: Record<string, string> = {};
  while (!r.done) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1: r.repeatedVarint(wire, info.dims); break;
      case 2: r.expect(wire, WIRE_VARINT); info.dataType = r.varint(); break;
      case 4: floats += r.countRepeated(wire, WIRE_FIXED32); break;
      case 5: int32s += r.countRepeated(wire, WIRE_VARINT); break;
      case 6: r.expect(wire, WIRE_LEN); stringBytes += r.skipLen(); break;
      case 7: int64s += r.countRepeated(wire, WIRE_VARINT); break;
      case 8: r.expect(wire, WIRE_LEN); info.name = r.string(); break;
      case 9: r.expect(wire, WIRE_LEN); raw = r.skipLen(); break;
      case 10: doubles += r.countRepeated(wire, WIRE_FIXED64); break;
      case 11: uint64s += r.countRepeated(wire, WIRE_VARINT); break;
      case 13: {
        r.expect(wire, WIRE_LEN);
        const [key, value] = decodeEntry(r.message());
        entries[key] = value;
        break;
      }
      case 14: r.expect(wire, WIRE_VARINT); location = r.varint(); break;
      default: r.skip(wire);
    }
  }
  if (location === EXTERNAL) {
    const length = entries.length === undefined ? undefined : Number(entries.length);
    info.external = { tensor: info.name, location: entries.location ?? '', offset: Number(entries.offset ?? 0), length };
    ctx.externalRefs.push(info.external);
    return info;
  }
  if (raw !== undefined) info.bytes = raw;
  else {
    const dtype = dtypeFromOnnx(info.dataType);
    const narrow = dtype === undefined ? 1 : bytesPerElement(dtype) ?? 1;
    info.bytes = floats * 4 + doubles * 8 + int64s * 8 + int32s * narrow
      + uint64s * (info.dataType === 12 ? 4 : 8) + stringBytes;
  }
  return info;
}

function decodeEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) key = r.string();
    else if (field === 2 && wire === WIRE_LEN) value = r.string();
    else r.skip(wire);
  }
  return [key, value];
}

function decodeValueInfo(r: ProtoReader): TensorSpec {
  const spec: TensorSpec = { name: '', dtype: 'unsupported', onnxType: 0, onnxTypeName: 'UNDEFINED', shape: null };
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) spec.name = r.string();
    else if (field === 2 && wire === WIRE_LEN) decodeType(r.message(), spec);
    else r.skip(wire);
  }
  return spec;
}

const NON_TENSOR_TYPES: Record<number, string> = { 4: 'sequence', 5: 'map', 8: 'sparse_tensor', 9: 'optional' };

function decodeType(r: ProtoReader, spec: TensorSpec): void {
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) decodeTensorType(r.message(), spec);
    else if (NON_TENSOR_TYPES[field] !== undefined && wire === WIRE_LEN) {
      r.skip(wire);
      Object.assign(spec, { dtype: 'unsupported', onnxType: 0, onnxTypeName: NON_TENSOR_TYPES[field], shape: null });
    } else r.skip(wire);
  }
}

function decodeTensorType(r: ProtoReader, spec: TensorSpec): void {
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_VARINT) {
      spec.onnxType = r.varint();
      spec.dtype = dtypeFromOnnx(spec.onnxType) ?? 'unsupported';
      spec.onnxTypeName = ONNX_TYPE_NAMES[spec.onnxType] ?? `TYPE_${spec.onnxType}`;
    } else if (field === 2 && wire === WIRE_LEN) spec.shape = decodeShape(r.message());
    else r.skip(wire);
  }
}

function decodeShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) dims.push(decodeDim(r.message()));
    else r.skip(wire);
  }
  return dims;
}

function decodeDim(r: ProtoReader): Dim {
  let dim: Dim = UNNAMED_DIM;
  while (!r.done) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_VARINT) dim = r.varint();
    else if (field === 2 && wire === WIRE_LEN) {
      const param = r.string();
      dim = param === '' ? UNNAMED_DIM : param;
    } else r.skip(wire);
  }
  return dim;
}
