/**
 * Golden outputs: requests and onnxruntime-node's answers to them, recorded on the build machine's
 * CPU, that every smoke test compares a target's answers with. Recorded by `deploy-model golden`
 * into a file the project keeps (`smoke.golden: './golden.json'`), or at build from the smoke
 * request (`smoke.golden: 'auto'`).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInferenceCore } from '../../handlers/core/create-inference-core.js';
import { DeployModelError } from '../errors.js';
import type { ModelSignature } from '../model/types.js';
import type { V2OutputTensor } from './compare-outputs.js';
import { configArch } from './golden-tolerance.js';
import type { V2Request } from './smoke-input.js';

export const GOLDEN_FORMAT = 'deploy-model-golden/1';

/** One recorded request and the reference answer to it. */
export interface GoldenCase {
  request: V2Request;
  outputs: V2OutputTensor[];
  /** sha256 of the outputs' JSON: the same answer always has the same digest. */
  sha256: string;
}

/** The file `deploy-model golden` writes and `smoke.golden` names. */
export interface GoldenOutputs {
  format: typeof GOLDEN_FORMAT;
  /** The model the outputs were computed from. */
  model: { file: string; sha256: string };
  /** What computed them: onnxruntime-node's version on this CPU architecture. */
  producer: { runtime: 'onnxruntime-node'; version: string; arch: string; platform: string };
  cases: GoldenCase[];
}

/** onnxruntime-node's version, from its package. */
export function onnxruntimeVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

const digest = (outputs: V2OutputTensor[]): string => createHash('sha256').update(JSON.stringify(outputs)).digest('hex');

/** Runs each request through the model with onnxruntime-node on CPU (the project's inference core) and records the answers. */
export async function recordGoldenOutputs(signature: ModelSignature, requests: V2Request[]): Promise<GoldenOutputs> {
  const core = await createInferenceCore({ modelPath: signature.file, signature, modelName: 'golden', executionProviders: ['cpu'], log: () => undefined })
    .catch((e: unknown) => { throw new DeployModelError('GOLDEN_RECORD_FAILED', `onnxruntime-node could not load ${signature.file} to record golden outputs: ${(e as Error).message}. Check that the model loads with \`deploy-model validate\`.`, { cause: e }); });
  try {
    const cases: GoldenCase[] = [];
    for (const [i, request] of requests.entries()) {
      let answer;
      try {
        answer = await core.infer(request as Parameters<typeof core.infer>[0]);
      } catch (e) {
        throw new DeployModelError('GOLDEN_RECORD_FAILED', `onnxruntime-node refused golden request ${i + 1} of ${requests.length} on ${signature.file}: ${(e as Error).message}. Fix that input (smoke.input, model.inputs shapes or the --input file) so that the model accepts it.`, { cause: e, details: { request: i } });
      }
      const outputs = answer.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: [...o.shape], data: Array.from(o.data as ArrayLike<unknown>) }));
      cases.push({ request, outputs, sha256: digest(outputs) });
    }
    return {
      format: GOLDEN_FORMAT,
      model: { file: path.basename(signature.file), sha256: signature.sha256 },
      producer: { runtime: 'onnxruntime-node', version: onnxruntimeVersion(), arch: configArch(), platform: process.platform },
      cases,
    };
  } finally {
    await core.close();
  }
}

export async function writeGoldenOutputs(file: string, golden: GoldenOutputs): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(golden)}\n`);
}

/** Reads a golden file, checking its format and each case's digest. */
export async function readGoldenOutputs(file: string): Promise<GoldenOutputs> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DeployModelError('GOLDEN_UNREADABLE', `smoke.golden file ${file} ${code ? `cannot be read (${code})` : `is not valid JSON (${(e as Error).message})`}. Record it with \`deploy-model golden --out ${file}\`, or fix the path (relative to the config file).`, { cause: e, details: { file } });
  }
  const golden = raw as Partial<GoldenOutputs>;
  if (golden?.format !== GOLDEN_FORMAT || !Array.isArray(golden.cases) || golden.cases.length === 0) {
    throw new DeployModelError('GOLDEN_INVALID', `smoke.golden file ${file} is not a golden outputs file (format '${String(golden?.format)}', ${Array.isArray(golden?.cases) ? golden.cases.length : 'no'} cases): it must have format '${GOLDEN_FORMAT}' and at least one case. Record it again with \`deploy-model golden --out ${file}\`.`, { details: { file } });
  }
  for (const [i, c] of golden.cases.entries()) {
    if (digest(c.outputs) !== c.sha256) {
      throw new DeployModelError('GOLDEN_INVALID', `Case ${i + 1} of smoke.golden file ${file} does not match its sha256 (${c.sha256}): its outputs were edited or truncated. Record it again with \`deploy-model golden --out ${file}\`.`, { details: { file, case: i } });
    }
  }
  return golden as GoldenOutputs;
}

/**
 * The golden outputs of a project: `'auto'` records them from the smoke request (kept in
 * `cacheFile`, reused while the model, the request and onnxruntime stay the same); a path reads
 * the user's file. Undefined when `smoke.golden` is `'off'`.
 */
export async function resolveGoldenOutputs(options: { golden: string; signature: ModelSignature; request: V2Request; rootDir: string; cacheFile: string }): Promise<{ golden: GoldenOutputs; file: string } | undefined> {
  const { golden, signature, request, rootDir, cacheFile } = options;
  if (golden === 'off') return undefined;
  if (golden !== 'auto') {
    const file = path.resolve(rootDir, golden);
    return { golden: await readGoldenOutputs(file), file };
  }
  const cached = await readGoldenOutputs(cacheFile).catch(() => undefined);
  if (cached && cached.model.sha256 === signature.sha256 && cached.producer.version === onnxruntimeVersion()
    && cached.cases.length === 1 && JSON.stringify(cached.cases[0]!.request) === JSON.stringify(request)) {
    return { golden: cached, file: cacheFile };
  }
  const recorded = await recordGoldenOutputs(signature, [request]);
  await writeGoldenOutputs(cacheFile, recorded);
  return { golden: recorded, file: cacheFile };
}
