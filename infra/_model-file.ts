// Resolves and checks a construct's model file.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DeployModelError } from '../src/errors.js';

/** A construct's `model` prop, resolved and checked. */
export interface ModelFile {
  /** Absolute path. */
  readonly file: string;
  /** Size of the .onnx file (external data not included). */
  readonly bytes: number;
}

/**
 * Resolves a construct's `model` path against the directory the CDK app runs in (as
 * `Code.fromAsset` does) and checks that it is a file, so a wrong path fails at synth with the
 * path it tried.
 */
export function resolveModelFile(model: string, what: string): ModelFile {
  const file = path.resolve(model);
  let info;
  try {
    info = statSync(file);
  } catch (cause) {
    const nearby = onnxFilesIn(path.dirname(file));
    throw new DeployModelError('MODEL_NOT_FOUND',
      `${what}: model '${model}' does not exist (looked for ${file}; relative paths start from the directory the CDK app runs in, ${process.cwd()}). Pass the path of an .onnx file.${nearby.length > 0 ? ` ONNX files in that folder: ${nearby.join(', ')}.` : ''}`,
      { cause, details: { model, file } });
  }
  if (!info.isFile()) {
    const inside = info.isDirectory() ? onnxFilesIn(file) : [];
    throw new DeployModelError('MODEL_NOT_FOUND',
      `${what}: model '${model}' is ${info.isDirectory() ? 'a folder' : 'not a regular file'}, not an .onnx file.${inside.length > 0 ? ` It contains ${inside.join(', ')}: pass one of them.` : ' Pass the path of the model file itself.'}`,
      { details: { model, file } });
  }
  return { file, bytes: info.size };
}

/** The model name a file serves by default: its name without the extension, as `[A-Za-z0-9_.-]`. */
export function modelNameFromFile(file: string): string {
  const name = path.basename(file).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
  return name.length > 0 ? name : 'model';
}

function onnxFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.onnx')).sort().slice(0, 10);
  } catch {
    return [];
  }
}
