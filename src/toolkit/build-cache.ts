/**
 * Builds are cached by content: the plan (which holds the model's sha256 and every resolved
 * setting) and the toolchain that builds it. A build whose key and artifacts are unchanged is
 * reused instead of bundled, zipped and packed again.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../bundling/hash.js';
import { toolchainFingerprint } from '../toolchain-fingerprint.js';
import type { BuildResult } from '../targets/driver.js';
import type { TargetPlanBase } from '../targets/target-module.js';

const RECORD = 'build.json';

/** Turns the cache off (e.g. while changing deploy-model's own handler sources). */
export const NO_BUILD_CACHE_ENV = 'DEPLOY_MODEL_NO_BUILD_CACHE';

interface BuildRecord {
  key: string;
  result: BuildResult;
}


export function buildKey(plan: TargetPlanBase): string {
  return createHash('sha256').update(toolchainFingerprint()).update(JSON.stringify(plan)).digest('hex');
}

/** The recorded build when its key matches and every artifact is still there with the same content. */
export async function cachedBuild(workDir: string, plan: TargetPlanBase): Promise<BuildResult | undefined> {
  if (process.env[NO_BUILD_CACHE_ENV]) return undefined;
  let record: BuildRecord;
  try {
    record = JSON.parse(await readFile(path.join(workDir, RECORD), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
  if (record.key !== buildKey(plan)) return undefined;
  for (const a of record.result.artifacts) {
    try {
      const info = await stat(a.file);
      if (info.isFile() && (info.size !== a.bytes || (a.sha256 && (await sha256File(a.file)) !== a.sha256))) return undefined;
    } catch {
      return undefined;
    }
  }
  return { ...record.result, cached: true };
}

export async function recordBuild(workDir: string, plan: TargetPlanBase, result: BuildResult): Promise<void> {
  await mkdir(workDir, { recursive: true });
  const record: BuildRecord = { key: buildKey(plan), result: { artifacts: result.artifacts, ...(result.outputs === undefined ? {} : { outputs: result.outputs }) } };
  await writeFile(path.join(workDir, RECORD), `${JSON.stringify(record, null, 2)}\n`);
}
