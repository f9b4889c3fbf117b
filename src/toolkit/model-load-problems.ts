/**
 * Whether onnxruntime can load the model at all, checked once per model content: a CPU session
 * is created, and an unknown operator or an opset newer than the runtime's becomes a problem
 * naming them, before anything is built or deployed.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ConfigProblem } from '../config/format-issues.js';
import { ensureOnnxRuntimeNode } from '../ensure-onnxruntime-node.js';
import type { ModelSignature } from '../model/types.js';

function ortVersion(): string {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** onnxruntime's load error, as a problem that names the operator or the opset and the fix. */
export function loadErrorProblem(file: string, message: string, version = ortVersion()): ConfigProblem {
  const op = /No Op registered for (\S+) with domain_version of (\d+)/.exec(message);
  if (op) {
    return {
      path: 'model.path', value: file,
      rule: `onnxruntime ${version} has no operator ${op[1]} at opset ${op[2]}`,
      fix: `re-export the model with operators onnxruntime ${version} supports (or register ${op[1]} as a custom operator in your own runtime)`,
    };
  }
  const opset = /Opset (\d+) is under development.*Current official support for domain (\S+) is till opset (\d+)/s.exec(message);
  if (opset) {
    return {
      path: 'model.path', value: file,
      rule: `the model's opset ${opset[1]} (domain ${opset[2]}) is newer than onnxruntime ${version} supports (up to ${opset[3]})`,
      fix: `re-export the model with opset ${opset[3]} or lower, e.g. torch.onnx.export(..., opset_version=${opset[3]})`,
    };
  }
  // Drop the C++ source locations onnxruntime puts in front of its reason.
  const reason = message.replace(/^Load model from \S+ failed:/, '').replace(/\/onnxruntime_src\/\S+ [^\n]*?\) /, '').trim();
  return { path: 'model.path', value: file, rule: `onnxruntime ${version} cannot load it: ${reason}`, fix: 'check the model with onnx.checker.check_model and re-export it' };
}

/**
 * Creates a CPU session for the model and reports why it fails, if it does; the answer is kept in
 * `<cacheDir>/model-checks/<sha256>.json`, so each model content is checked once.
 */
export async function modelLoadProblems(signature: ModelSignature, cacheDir: string): Promise<ConfigProblem[]> {
  const version = ortVersion();
  const record = path.join(cacheDir, 'model-checks', `${signature.sha256}-ort${version}.json`);
  try {
    const cached = JSON.parse(await fs.readFile(record, 'utf8')) as { problems: ConfigProblem[] };
    return cached.problems.map((p) => ({ ...p, value: signature.file }));
  } catch {
    // Not checked yet.
  }
  // A programmatic caller may never have run the CLI, which fetches onnxruntime-node on first use.
  ensureOnnxRuntimeNode();
  const ort = await import('onnxruntime-node');
  let problems: ConfigProblem[] = [];
  try {
    const session = await ort.InferenceSession.create(signature.file, { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled' });
    await session.release();
  } catch (e) {
    problems = [loadErrorProblem(signature.file, (e as Error).message, version)];
  }
  await fs.mkdir(path.dirname(record), { recursive: true });
  await fs.writeFile(record, JSON.stringify({ problems }));
  return problems;
}
