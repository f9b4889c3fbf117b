// Reads an ONNX model's signature: inputs, outputs, opsets, operators and sizes.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { decodeModel, type DecodedModel, type ExternalRef } from './_decode-model.js';
import {
  explainUndecodable, externalDataMissing, externalDataShort, modelHasNoInputs, modelIsFolder, modelNotFound,
  modelTooLarge, modelUnreadable,
} from './_model-errors.js';
import { ProtoError } from './_protobuf.js';
import type { ModelSignature } from './types.js';

export { servabilityProblems } from './servability-problems.js';

/** Protobuf messages are limited to 2 GB; larger models keep their weights as external data. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * Reads the signature of an ONNX model: inputs and outputs, opsets, operators and sizes.
 *
 * The file is read once and decoded in place; initializer weights are skipped, never copied.
 * Throws a DeployModelError (MODEL_NOT_FOUND, MODEL_NOT_ONNX, MODEL_TRUNCATED,
 * MODEL_EXTERNAL_DATA_MISSING, MODEL_NO_INPUTS, MODEL_TOO_LARGE, MODEL_UNREADABLE) whose message
 * names the file and the fix.
 */
export async function inspectModel(path: string): Promise<ModelSignature> {
  const file = resolve(path);
  const buf = await readModelFile(file);

  let decoded: DecodedModel;
  try {
    decoded = decodeModel(buf);
  } catch (e) {
    if (e instanceof ProtoError) throw explainUndecodable(file, buf, e);
    throw e;
  }
  const graph = decoded.graph;
  if (!graph) throw explainUndecodable(file, buf, 'no-graph');

  // IR version 3 and older list initializers in graph.input too; they are constants, not inputs.
  const constants = new Set(graph.initializers.map((i) => i.name));
  const inputs = graph.inputs.filter((i) => !constants.has(i.name));
  if (inputs.length === 0) throw modelHasNoInputs(file, graph.inputs.length);

  const externalSizes = await checkExternalData(file, decoded.externalRefs);
  const initializerBytes = graph.initializers.reduce((sum, init) =>
    sum + (init.external ? externalBytes(init.external, externalSizes) : init.bytes), 0);

  return {
    file,
    bytes: buf.length,
    sha256: createHash('sha256').update(buf).digest('hex'),
    irVersion: decoded.irVersion,
    opsets: decoded.opsets,
    producer: decoded.producer,
    producerVersion: decoded.producerVersion,
    inputs,
    outputs: graph.outputs,
    nodes: graph.nodes,
    initializers: graph.initializers.length,
    initializerBytes,
    operators: decoded.operators,
    externalData: [...externalSizes.keys()],
  };
}

async function readModelFile(file: string): Promise<Buffer> {
  let info;
  try {
    info = await stat(file);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw modelNotFound(file, e, await onnxFilesIn(dirname(file)));
    throw modelUnreadable(file, e);
  }
  if (info.isDirectory()) throw modelIsFolder(file, await onnxFilesIn(file));
  if (info.size > MAX_MODEL_BYTES) throw modelTooLarge(file, info.size);
  try {
    return await readFile(file);
  } catch (e) {
    throw modelUnreadable(file, e);
  }
}

/** A few .onnx names from a folder, for "did you mean" hints; empty when it cannot be listed. */
async function onnxFilesIn(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names.filter((n) => n.toLowerCase().endsWith('.onnx')).sort().slice(0, 5);
  } catch {
    return [];
  }
}

/**
 * Checks that every external data file exists (relative to the model's folder) and holds the
 * ranges the model reads. Returns each distinct location with its size, in order of first use.
 */
async function checkExternalData(file: string, refs: ExternalRef[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const modelDir = dirname(file);
  for (const location of new Set(refs.map((r) => r.location))) {
    const using = refs.filter((r) => r.location === location);
    const dataFile = resolve(modelDir, location);
    let size: number;
    try {
      const info = await stat(dataFile);
      if (!info.isFile()) throw Object.assign(new Error(`${basename(dataFile)} is not a file`), { code: 'ENOENT' });
      size = info.size;
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw externalDataMissing(file, location, dataFile, using.map((r) => r.tensor));
      throw modelUnreadable(dataFile, e);
    }
    const needed = Math.max(...using.map((r) => r.offset + (r.length ?? 0)));
    if (needed > size) throw externalDataShort(file, location, dataFile, needed, size);
    sizes.set(location, size);
  }
  return sizes;
}

/** An external tensor's size: its `length` entry, or the rest of the data file after `offset`. */
function externalBytes(ref: ExternalRef, sizes: Map<string, number>): number {
  return ref.length ?? (sizes.get(ref.location) ?? 0) - ref.offset;
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}
