import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeployModelError } from '../../src/errors.js';
import { inspectModel, servabilityProblems } from '../../src/model/index.js';
import {
  encodeModel, makeModelDir, nodeProto, onnx, REAL_MODELS, removeModelDir, tensorInfo, writeTinyModel,
} from '../_helpers/onnx-models.js';

const T = onnx.TensorProto.DataType;
const PNG_HEADER = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0];
const LFS_POINTER = 'version https://git-lfs.github.com/spec/v1\n'
  + 'oid sha256:491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640\nsize 578966\n';

let dir: string;
let realCls: Buffer;

beforeAll(async () => {
  dir = await makeModelDir();
  realCls = await readFile(REAL_MODELS.cls);
});
afterAll(() => removeModelDir(dir));

async function put(name: string, content: string | Uint8Array | number[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Array.isArray(content) ? new Uint8Array(content) : content);
  return path;
}

/** The error inspectModel throws: asserts its code, that it names `named` (default: the file) and says `fix`. */
async function expectModelError(path: string, code: string, fix: RegExp, named = path): Promise<DeployModelError> {
  const error = await inspectModel(path).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DeployModelError);
  const e = error as DeployModelError;
  expect({ code: e.code, kind: e.kind }).toEqual({ code, kind: 'user' });
  expect(e.message).toContain(named);
  expect(e.message).toMatch(fix);
  expect(e.details.file).toBe(path);
  return e;
}

describe('files that are not there', () => {
  it('a missing file: MODEL_NOT_FOUND, suggesting the .onnx files beside it', async () => {
    const sub = join(dir, 'missing');
    await mkdir(sub);
    await writeTinyModel(sub, 'add');
    const e = await expectModelError(join(sub, 'model.onnx'), 'MODEL_NOT_FOUND', /Check the path \(model\.path in a config/);
    expect(e.message).toContain('add.onnx');
  });

  it('a folder: MODEL_NOT_FOUND saying it is a folder and naming the model inside', async () => {
    const sub = join(dir, 'a-folder');
    await mkdir(sub);
    await writeTinyModel(sub, 'add');
    const e = await expectModelError(sub, 'MODEL_NOT_FOUND', /is a folder, not an ONNX file.*point model\.path at one of them/);
    expect(e.message).toContain('add.onnx');
    expect(e.details.isDirectory).toBe(true);
  });
});

describe('files that are not ONNX', () => {
  const cases: [string, string | number[], RegExp][] = [
    ['empty.onnx', '', /the file is empty \(0 bytes\)/],
    ['notes.onnx', 'This is where the model will go.\nTODO: export it\n', /a text file, starting "This is where the model will go\."/],
    ['page.onnx', '<!DOCTYPE html>\n<html><body>Not Found</body></html>', /an HTML page/],
    ['image.onnx', PNG_HEADER, /a PNG image/],
    ['checkpoint.onnx', [0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0], /a ZIP archive \(PyTorch \.pt\/\.pth/],
    ['pickle.onnx', [0x80, 0x04, 0x95, 0x10, 0, 0, 0, 0, 0, 0], /a Python pickle/],
    ['garbage.onnx', [0x0f, 0xff, 0x00, 0x12], /not a valid ONNX protobuf \(unsupported wire type 7/],
  ];
  it.each(cases)('%s: MODEL_NOT_ONNX, saying what it is and to export to ONNX', async (name, content, what) => {
    const path = await put(name, content);
    await expectModelError(path, 'MODEL_NOT_ONNX', what);
    await expectModelError(path, 'MODEL_NOT_ONNX', /Export the model to ONNX .* point model\.path at the \.onnx file/);
  });

  it('valid protobuf without a graph: MODEL_NOT_ONNX, saying it has no graph', async () => {
    const path = await put('no-graph.onnx', onnx.ModelProto.encode({ irVersion: 8, producerName: 'tf' }).finish());
    await expectModelError(path, 'MODEL_NOT_ONNX', /decodes as protobuf but has no graph/);
  });
});

describe('files cut short', () => {
  it('the first 1000 bytes of a real model: MODEL_TRUNCATED, suggesting an interrupted download', async () => {
    const path = await put('cls-1000.onnx', realCls.subarray(0, 1000));
    const e = await expectModelError(path, 'MODEL_TRUNCATED', /looks cut short.*interrupted download.*fetch or export the model again/);
    expect(e.details.bytes).toBe(1000);
  });

  it('the first half of a real model: MODEL_TRUNCATED', async () => {
    const path = await put('cls-half.onnx', realCls.subarray(0, realCls.length >> 1));
    await expectModelError(path, 'MODEL_TRUNCATED', /looks cut short/);
  });

  it('all but the last byte of a tiny model: MODEL_TRUNCATED', async () => {
    const whole = await readFile(await writeTinyModel(dir, 'add'));
    const path = await put('add-minus-1.onnx', whole.subarray(0, whole.length - 1));
    await expectModelError(path, 'MODEL_TRUNCATED', /looks cut short/);
  });

  it('a Git LFS pointer: MODEL_TRUNCATED, saying so and to run git lfs pull', async () => {
    const path = await put('lfs.onnx', LFS_POINTER);
    const e = await expectModelError(path, 'MODEL_TRUNCATED', /is a Git LFS pointer \(the real file is 578966 bytes\).*git lfs pull/);
    expect(e.details).toMatchObject({ gitLfs: true, lfsSize: 578966 });
  });
});

describe('external data', () => {
  it('a missing data file: MODEL_EXTERNAL_DATA_MISSING naming the file and where it was expected', async () => {
    const sub = join(dir, 'ext-missing');
    await mkdir(sub);
    const path = await writeTinyModel(sub, 'external-data');
    await rm(join(sub, 'external-data.bin'));
    const e = await expectModelError(path, 'MODEL_EXTERNAL_DATA_MISSING', /"external-data\.bin".*Copy "external-data\.bin" next to the model/);
    expect(e.message).toContain(join(sub, 'external-data.bin'));
    expect(e.message).toContain('"bias"');
    expect(e.details).toMatchObject({ location: 'external-data.bin', expected: join(sub, 'external-data.bin'), tensors: ['bias'] });
  });

  it('a data file shorter than the model reads: MODEL_TRUNCATED naming the data file', async () => {
    const sub = join(dir, 'ext-short');
    await mkdir(sub);
    const path = await writeTinyModel(sub, 'external-data');
    await writeFile(join(sub, 'external-data.bin'), new Uint8Array(10));
    const e = await expectModelError(path, 'MODEL_TRUNCATED', /reads 16 bytes from "external-data\.bin" but the file has 10/);
    expect(e.message).toContain(join(sub, 'external-data.bin'));
  });
});

describe('graphs that cannot be served', () => {
  it('no inputs: MODEL_NO_INPUTS', async () => {
    const path = await put('no-inputs.onnx', encodeModel({
      nodes: [nodeProto('Identity', ['c'], ['y'])],
      inputs: [],
      outputs: [tensorInfo('y', T.FLOAT, [1])],
      initializers: [{ name: 'c', dataType: T.FLOAT, dims: [1], floatData: [1] }],
    }));
    await expectModelError(path, 'MODEL_NO_INPUTS', /has no inputs.*Export the model with its input tensors/);
  });

  it('only initializers as inputs: MODEL_NO_INPUTS, saying they are constants', async () => {
    const path = await put('only-constants.onnx', encodeModel({
      irVersion: 3, opset: 9,
      nodes: [nodeProto('Identity', ['c'], ['y'])],
      inputs: [tensorInfo('c', T.FLOAT, [1])],
      outputs: [tensorInfo('y', T.FLOAT, [1])],
      initializers: [{ name: 'c', dataType: T.FLOAT, dims: [1], floatData: [1] }],
    }));
    await expectModelError(path, 'MODEL_NO_INPUTS', /all initializers, which are constants/);
  });

  it('a complex64 input inspects fine, and servabilityProblems says what to do', async () => {
    const sig = await inspectModel(await writeTinyModel(dir, 'complex64-input'));
    expect(servabilityProblems(sig)).toEqual([
      'input `z` is COMPLEX64, which onnxruntime-node cannot pass in or out; split it in the graph into two float32 tensors (real and imaginary parts)',
      'output `y` is COMPLEX64, which onnxruntime-node cannot pass in or out; split it in the graph into two float32 tensors (real and imaginary parts)',
    ]);
  });
});
