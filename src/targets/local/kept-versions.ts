/**
 * The versions a local deployment keeps for `deploy-model rollback`: the one serving and the one
 * that served before it, each as its function spec and a copy of its zips under
 * `<stateDir>/<key>.versions/<version>/`, since the next build overwrites the build folder.
 * Processes are not kept: a rollback starts the previous version again from these files.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { DaemonFunctionSpec } from './daemon-protocol.js';

export interface KeptVersion {
  version: string;
  /** The spec it runs with, its zips in the kept folder. */
  spec: DaemonFunctionSpec;
  /** ISO time it was promoted (or restored). */
  since: string;
}

/** What `<stateDir>/<key>.versions/kept.json` holds. */
export interface KeptVersions {
  current?: KeptVersion;
  /** The version a rollback restores; absent after a first deploy or a rollback. */
  previous?: KeptVersion;
}

export const keptDir = (stateDir: string, key: string): string => path.join(path.resolve(stateDir), `${key}.versions`);
const keptFile = (stateDir: string, key: string): string => path.join(keptDir(stateDir, key), 'kept.json');

/**
 * Copies a version's zips into its kept folder and returns its spec with their paths there, so it
 * runs, and can run again after a rollback, from files no later build touches.
 */
export async function keepArtifacts(stateDir: string, key: string, version: string, spec: DaemonFunctionSpec): Promise<DaemonFunctionSpec> {
  const dir = path.join(keptDir(stateDir, key), version);
  await fs.mkdir(dir, { recursive: true });
  const copy = async (file: string, name: string): Promise<string> => {
    const to = path.join(dir, name);
    // A reflink where the file system offers one, else a copy.
    await fs.copyFile(file, to, constants.COPYFILE_FICLONE);
    return to;
  };
  const codeZip = spec.codeZip ? await copy(spec.codeZip, 'function.zip') : undefined;
  const layers = spec.layers ? await Promise.all(spec.layers.map((l, i) => copy(l, `layer-${i}${path.extname(l) || '.zip'}`))) : undefined;
  return { ...spec, ...(codeZip ? { codeZip } : {}), ...(layers ? { layers } : {}) };
}

/** The kept versions; none when the file does not exist. A file that is not one is LOCAL_STATE_CORRUPT. */
export async function readKept(stateDir: string, key: string): Promise<KeptVersions> {
  const file = keptFile(stateDir, key);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw corrupt(file, key, `it cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, e);
  }
  try {
    const parsed = JSON.parse(text) as KeptVersions;
    const ok = (v: unknown) => v === undefined || (typeof v === 'object' && v !== null && typeof (v as KeptVersion).version === 'string' && typeof (v as KeptVersion).spec === 'object');
    if (typeof parsed !== 'object' || parsed === null || !ok(parsed.current) || !ok(parsed.previous)) throw new Error('not a record of kept versions');
    return parsed;
  } catch (e) {
    throw corrupt(file, key, (e as Error).message, e);
  }
}

function corrupt(file: string, key: string, why: string, cause: unknown): DeployModelError {
  return new DeployModelError('LOCAL_STATE_CORRUPT',
    `The record of the kept versions of local deployment ${key}, ${file}, cannot be used: ${why}. Remove its folder (rm -r '${path.dirname(file)}'): what serves keeps serving, and only \`deploy-model rollback\` loses its earlier version.`,
    { cause, details: { file, key } });
}

/** Records the kept versions (through a rename) and removes the folders of every other version but `keep`. */
export async function writeKept(stateDir: string, key: string, kept: KeptVersions, keep: string[] = []): Promise<void> {
  const dir = keptDir(stateDir, key);
  await fs.mkdir(dir, { recursive: true });
  const file = keptFile(stateDir, key);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(kept, null, 2)}\n`);
  await fs.rename(tmp, file);
  await pruneKept(stateDir, key, kept, keep);
}

/** Removes the folders of versions neither kept nor in `keep` (a candidate that was taken back). */
export async function pruneKept(stateDir: string, key: string, kept: KeptVersions, keep: string[] = []): Promise<void> {
  const dir = keptDir(stateDir, key);
  const wanted = new Set([kept.current?.version, kept.previous?.version, ...keep].filter(Boolean));
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  await Promise.all(entries.filter((e) => e.isDirectory() && !wanted.has(e.name)).map((e) => fs.rm(path.join(dir, e.name), { recursive: true, force: true })));
}

/** Whether the files a kept version runs from are all still there. */
export async function keptFilesExist(kept: KeptVersion): Promise<boolean> {
  const files = [kept.spec.codeZip, ...(kept.spec.layers ?? [])].filter((f): f is string => typeof f === 'string');
  const found = await Promise.all(files.map((f) => fs.access(f).then(() => true, () => false)));
  return files.length > 0 && found.every(Boolean);
}

export async function removeKept(stateDir: string, key: string): Promise<void> {
  await fs.rm(keptDir(stateDir, key), { recursive: true, force: true });
}
