// Builds the Lambda function package: the bundled handler, the model and its signature, zipped.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { DeployModelError } from '../errors.js';
import type { IoHelper } from '../io/io-host.js';
import type { ModelSignature } from '../model/types.js';
import { bundleHandler, type HandlerTarget } from './bundle-handler.js';
import { sha256File } from './hash.js';
import { writeDeterministicZip, type ZipEntry } from './zip.js';

/** Where things sit in the function zip; the runtime reads `model/model.onnx` and the signature beside it. */
export const FUNCTION_LAYOUT = {
  handler: 'index.mjs',
  model: 'model/model.onnx',
  signature: 'model/signature.json',
  modelDir: 'model',
} as const;

export interface BuildFunctionArtifactOptions {
  /** The .onnx file. Its external data files are read from beside it. */
  modelPath: string;
  signature: ModelSignature;
  /** Receives `handler/index.mjs` and `function.zip`. */
  outDir: string;
  /** @default - the package's Lambda handler (`resolveHandlerEntry()`) */
  handlerEntry?: string;
  /** @default 'node22' */
  target?: HandlerTarget;
  /** @default false */
  minify?: boolean;
  /**
   * Ships `index.mjs.map` in the zip.
   * @default false
   */
  sourcemap?: boolean;
  /**
   * Leaves the model and its external data out of the zip (they are kept in S3 and fetched at
   * init); the signature stays, and `weights` lists the files to upload.
   * @default false
   */
  weightsApart?: boolean;
  io?: IoHelper;
}

/** A model file kept apart from the zip: where it is here, and its name beside the model where the function fetches it. */
export interface WeightFile {
  /** `model.onnx`, or an external data file's path relative to it. */
  name: string;
  file: string;
  bytes: number;
  sha256: string;
}

export interface FunctionArtifact {
  zip: { file: string; bytes: number; sha256: string };
  /** Counted by Lambda against the 250 MB limit of function code plus layers. */
  unzippedBytes: number;
  /** Size of `index.mjs`. */
  handlerBytes: number;
  /** The model file plus its external data files. */
  modelBytes: number;
  /** Paths inside the zip, sorted. */
  files: string[];
  /** With `weightsApart`: the model's files, the .onnx first. @default - none: the model is in the zip */
  weights?: WeightFile[];
}

/**
 * The Lambda deployment package: the bundled handler as `index.mjs` (handler `index.handler`), the
 * model as `model/model.onnx` with its external data files at their paths relative to it, and
 * `model/signature.json`. The zip is deterministic, so its sha256 (the CDK asset hash) changes only
 * when the handler, the model or the signature does.
 */
export async function buildFunctionArtifact(options: BuildFunctionArtifactOptions): Promise<FunctionArtifact> {
  const { modelPath, signature, outDir, io } = options;
  let modelBytes = await fileSize(modelPath, 'FUNCTION_MODEL_NOT_FOUND', `The model "${modelPath}" cannot be read. Check model.path in the config.`);
  const externalEntries: ZipEntry[] = [];
  for (const rel of signature.externalData) {
    const inZip = externalDataPath(rel);
    const file = join(dirname(modelPath), ...inZip.split('/'));
    modelBytes += await fileSize(file, 'FUNCTION_EXTERNAL_DATA_NOT_FOUND',
      `The model "${modelPath}" keeps tensors in the external file "${rel}", which is not at "${file}". Keep external data files beside the model, at the paths the model names.`);
    externalEntries.push({ path: `${FUNCTION_LAYOUT.modelDir}/${inZip}`, file });
  }

  const outfile = join(outDir, 'handler', FUNCTION_LAYOUT.handler);
  const bundle = await bundleHandler({
    ...(options.handlerEntry ? { entry: options.handlerEntry } : {}),
    outfile,
    target: options.target,
    minify: options.minify,
    sourcemap: options.sourcemap,
    io,
  });

  const apart = options.weightsApart === true;
  const entries: ZipEntry[] = [
    { path: FUNCTION_LAYOUT.handler, file: bundle.file },
    ...(apart ? [] : [{ path: FUNCTION_LAYOUT.model, file: modelPath }]),
    { path: FUNCTION_LAYOUT.signature, data: signatureJson(signature) },
    ...(apart ? [] : externalEntries),
  ];
  const weights = apart
    ? await Promise.all([{ path: FUNCTION_LAYOUT.model, file: modelPath }, ...externalEntries.map((e) => ({ path: e.path, file: (e as { file: string }).file }))].map(async (e): Promise<WeightFile> => ({
      name: e.path.slice(FUNCTION_LAYOUT.modelDir.length + 1), file: e.file, bytes: (await stat(e.file)).size, sha256: await sha256File(e.file),
    })))
    : undefined;
  if (bundle.map && existsSync(bundle.map)) entries.push({ path: `${FUNCTION_LAYOUT.handler}.map`, file: bundle.map });

  const zip = await writeDeterministicZip(entries, join(outDir, 'function.zip'));
  const result: FunctionArtifact = {
    zip: { file: zip.file, bytes: zip.bytes, sha256: zip.sha256 },
    unzippedBytes: zip.unzippedBytes,
    handlerBytes: bundle.bytes,
    modelBytes,
    files: entries.map((e) => e.path).sort(),
    ...(weights ? { weights } : {}),
  };
  io?.info('DM_ZIP_FUNCTION', `Packaged the function: ${(zip.bytes / 1e6).toFixed(1)} MB zipped, ${(zip.unzippedBytes / 1e6).toFixed(1)} MB unzipped`, {
    file: zip.file, bytes: zip.bytes, sha256: zip.sha256, unzippedBytes: zip.unzippedBytes, handlerBytes: bundle.bytes, modelBytes,
  });
  return result;
}

/**
 * The signature as shipped: `file` is the in-zip path instead of the build machine's absolute
 * path, and keys are sorted so the bytes do not depend on how the object was built.
 */
export function signatureJson(signature: ModelSignature): string {
  return `${JSON.stringify(sortKeys({ ...signature, file: FUNCTION_LAYOUT.model }), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function externalDataPath(rel: string): string {
  const normalised = posix.normalize(rel.replace(/\\/g, '/'));
  if (normalised.startsWith('/') || /^[A-Za-z]:/.test(normalised) || normalised === '..' || normalised.startsWith('../') || normalised === '.') {
    throw new DeployModelError(
      'FUNCTION_EXTERNAL_DATA_OUTSIDE',
      `The model names external data "${rel}", which is not inside the model's folder. onnxruntime loads external data relative to the model, ` +
        'so move the file beside the model and re-save the model with a relative location.',
      { details: { externalData: rel } },
    );
  }
  return normalised;
}

async function fileSize(file: string, code: string, message: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a file');
    return s.size;
  } catch (cause) {
    throw new DeployModelError(code, message, { cause, details: { file } });
  }
}
