/**
 * The coded errors of model inspection. Each message names the file, says what is wrong with it
 * and what to do; `details` carries the same facts for --json.
 */
import { DeployModelError } from '../errors.js';
import { ProtoError } from './_protobuf.js';
import { describeText, parseLfsPointer, recogniseNonOnnx } from './_sniff-model-file.js';

const EXPORT_HINT = 'Export the model to ONNX (torch.onnx.export, tf2onnx, skl2onnx, ...) and point model.path at the .onnx file.';

export function modelNotFound(file: string, cause: unknown, nearby: string[]): DeployModelError {
  const suggestion = nearby.length > 0
    ? ` ONNX files in that folder: ${nearby.join(', ')}.`
    : '';
  return new DeployModelError('MODEL_NOT_FOUND',
    `Model file ${file} does not exist. Check the path (model.path in a config, or the file given to inspect): it must name an .onnx file.${suggestion}`,
    { cause, details: { file } });
}

export function modelIsFolder(file: string, onnxFiles: string[]): DeployModelError {
  const fix = onnxFiles.length > 0
    ? `It contains ${onnxFiles.join(', ')}: point model.path at one of them.`
    : 'It contains no .onnx file: point model.path at the model file itself.';
  return new DeployModelError('MODEL_NOT_FOUND', `Model path ${file} is a folder, not an ONNX file. ${fix}`,
    { details: { file, isDirectory: true, onnxFiles } });
}

export function modelUnreadable(file: string, cause: unknown): DeployModelError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new DeployModelError('MODEL_UNREADABLE',
    `Model file ${file} cannot be read (${reason}). Check its permissions, or copy it somewhere readable and point model.path there.`,
    { cause, details: { file } });
}

export function modelTooLarge(file: string, bytes: number): DeployModelError {
  return new DeployModelError('MODEL_TOO_LARGE',
    `Model file ${file} is ${bytes} bytes; an ONNX protobuf file is limited to 2 GB. Save the weights as external data `
    + '(onnx.save_model(model, path, save_as_external_data=True)) and point model.path at the small .onnx file.',
    { details: { file, bytes } });
}

/**
 * Explains why bytes that did not decode as a ModelProto with a graph are not a model: a known
 * format, text, a Git LFS pointer, a file cut short, or bytes that are not an ONNX model at all.
 */
export function explainUndecodable(file: string, buf: Uint8Array, failure: ProtoError | 'no-graph'): DeployModelError {
  const details: Record<string, unknown> = { file, bytes: buf.length };
  if (buf.length === 0) {
    return notOnnx(file, 'the file is empty (0 bytes); if it was downloaded or copied, that step failed', details);
  }
  const lfs = parseLfsPointer(buf);
  if (lfs) {
    const real = lfs.size === undefined ? '' : ` (the real file is ${lfs.size} bytes)`;
    return new DeployModelError('MODEL_TRUNCATED',
      `Model file ${file} is a Git LFS pointer${real}, not the model: the repository was cloned or downloaded without its LFS content. `
      + 'Run `git lfs install && git lfs pull` in the repository (or download the file itself), then try again.',
      { details: { ...details, gitLfs: true, lfsOid: lfs.oid, lfsSize: lfs.size } });
  }
  const known = recogniseNonOnnx(buf) ?? describeText(buf);
  if (known) return notOnnx(file, `it is ${known}`, { ...details, looksLike: known });
  if (failure !== 'no-graph' && failure.reason === 'truncated' && startsLikeOnnx(buf)) {
    return new DeployModelError('MODEL_TRUNCATED',
      `Model file ${file} looks cut short: it starts like an ONNX model but its ${buf.length} bytes stop in the middle of a field `
      + `(${failure.message}). An interrupted download or copy does this; fetch or export the model again and compare its size and checksum with the original.`,
      { cause: failure, details: { ...details, offset: failure.offset } });
  }
  const why = failure === 'no-graph'
    ? 'it decodes as protobuf but has no graph (a TensorFlow .pb or a Caffe model is protobuf too)'
    : `its bytes are not a valid ONNX protobuf (${failure.message})`;
  return notOnnx(file, why, details, failure === 'no-graph' ? undefined : failure);
}

function notOnnx(file: string, why: string, details: Record<string, unknown>, cause?: unknown): DeployModelError {
  return new DeployModelError('MODEL_NOT_ONNX', `Model file ${file} is not an ONNX model: ${why}. ${EXPORT_HINT}`, { cause, details });
}

/** ONNX writers emit ir_version (field 1, a varint) first, and it is a small number. */
function startsLikeOnnx(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x08 && buf[1] >= 1 && buf[1] <= 64;
}

export function modelHasNoInputs(file: string, dropped: number): DeployModelError {
  const note = dropped > 0 ? ` (its ${dropped} graph input(s) are all initializers, which are constants)` : '';
  return new DeployModelError('MODEL_NO_INPUTS',
    `Model ${file} has no inputs${note}, so an endpoint would have nothing to accept. `
    + 'Export the model with its input tensors as graph inputs (e.g. pass example inputs to torch.onnx.export) and try again.',
    { details: { file } });
}

export function externalDataMissing(file: string, location: string, expected: string, tensors: string[]): DeployModelError {
  const names = tensors.slice(0, 3).map((t) => `"${t}"`).join(', ') + (tensors.length > 3 ? `, and ${tensors.length - 3} more` : '');
  return new DeployModelError('MODEL_EXTERNAL_DATA_MISSING',
    `Model ${file} keeps the weights of ${names} in the external data file "${location}", which was expected at ${expected} and does not exist. `
    + `Copy "${location}" next to the model (at that path relative to the model's folder), or save the model with its weights inside it `
    + '(onnx.save_model(model, path, save_as_external_data=False); possible under 2 GB).',
    { details: { file, location, expected, tensors } });
}

export function externalDataShort(file: string, location: string, dataFile: string, needed: number, actual: number): DeployModelError {
  return new DeployModelError('MODEL_TRUNCATED',
    `External data file ${dataFile} of model ${file} looks cut short: the model reads ${needed} bytes from "${location}" but the file has ${actual}. `
    + 'An interrupted download or copy does this; fetch or save the model and its data files again.',
    { details: { file, location, dataFile, needed, actual } });
}
