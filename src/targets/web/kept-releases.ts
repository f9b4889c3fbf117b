/**
 * The releases a local web deployment keeps for `deploy-model rollback`: the one serving and the
 * one that served before it, recorded in `<stateDir>/<key>.kept.json`. Their files are the release
 * folders `<stateDir>/<key>.releases/<version>/` (`site/` and `serve.json`), copied out of the build
 * folder, which the next build overwrites.
 */
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { SERVE_FILE } from './serve-locally.js';

export interface KeptRelease {
  /** The build's content hash. */
  version: string;
  /** The release folder: `site/` and `serve.json` inside. */
  outDir: string;
  /** ISO time it was promoted (or restored). */
  since: string;
}

export interface KeptReleases {
  current?: KeptRelease;
  /** The release a rollback restores; absent after a first deploy or a rollback. */
  previous?: KeptRelease;
}

export const keptFile = (stateDir: string, key: string): string => path.join(path.resolve(stateDir), `${key}.kept.json`);

/** The kept releases; none when the record does not exist. A record that is not one is LOCAL_STATE_CORRUPT. */
export async function readKeptReleases(stateDir: string, key: string): Promise<KeptReleases> {
  const file = keptFile(stateDir, key);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw corrupt(file, key, `it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  try {
    const parsed = JSON.parse(text) as KeptReleases;
    const ok = (r: unknown) => r === undefined || (typeof r === 'object' && r !== null && typeof (r as KeptRelease).version === 'string' && typeof (r as KeptRelease).outDir === 'string');
    if (typeof parsed !== 'object' || parsed === null || !ok(parsed.current) || !ok(parsed.previous)) throw new Error('not a record of kept releases');
    return parsed;
  } catch (e) {
    throw corrupt(file, key, (e as Error).message, e);
  }
}

function corrupt(file: string, key: string, why: string, cause: unknown): DeployModelError {
  return new DeployModelError('LOCAL_STATE_CORRUPT',
    `The record of the kept releases of local web deployment ${key}, ${file}, cannot be used: ${why}. Remove it (rm '${file}'): what serves keeps serving, and only \`deploy-model rollback\` loses its earlier version.`,
    { cause, details: { file, key } });
}

/** Records the kept releases through a rename, so a reader never sees half of the record. */
export async function writeKeptReleases(stateDir: string, key: string, kept: KeptReleases): Promise<void> {
  const file = keptFile(stateDir, key);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(kept, null, 2)}\n`);
  await rename(tmp, file);
}

/** Whether a kept release's files are still there to be served. */
export async function keptReleaseExists(release: KeptRelease): Promise<boolean> {
  const files = [path.join(release.outDir, 'site', 'index.html'), path.join(release.outDir, SERVE_FILE)];
  return (await Promise.all(files.map((f) => access(f).then(() => true, () => false)))).every(Boolean);
}

export async function removeKeptReleases(stateDir: string, key: string): Promise<void> {
  await rm(keptFile(stateDir, key), { force: true });
}
