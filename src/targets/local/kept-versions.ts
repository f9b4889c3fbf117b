/**
 * The versions a local deployment keeps for `deploy-model rollback`: the one serving and the one
 * that served before it, each as its function spec and a copy of its zips under
 * `<stateDir>/<key>.versions/<version>/`, since the next build overwrites the build folder.
 * Processes are not kept: a rollback starts the previous version again from these files. With
 * package 'image' a version is its image (tag and ID, recorded in the folder's `image.json`); the
 * image stays in the builder's storage while the version is kept, and goes with its folder.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { exec } from '../../kits/container/exec.js';
import type { DaemonFunctionSpec, DaemonImage } from './daemon-protocol.js';

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
  if (spec.image) {
    // The image is kept where it was built; the folder records it, so pruning it removes it.
    await fs.writeFile(path.join(dir, IMAGE_FILE), `${JSON.stringify(spec.image, null, 2)}\n`);
    return spec;
  }
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

/** Where a kept image version records its image. */
const IMAGE_FILE = 'image.json';

/** An image that could not be removed (a container still uses it, or the builder is gone), and how to remove it. */
export interface KeptImage {
  version: string;
  image: DaemonImage;
  /** Why it stays. */
  problem: string;
}

async function readImage(versionDir: string): Promise<DaemonImage | undefined> {
  try {
    const image = JSON.parse(await fs.readFile(path.join(versionDir, IMAGE_FILE), 'utf8')) as DaemonImage;
    return typeof image.ref === 'string' && typeof image.builder === 'string' ? image : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the folders of versions neither kept nor in `keep` (a candidate that was taken back),
 * and the images they ran unless a version still kept runs the same image (a settings change
 * keeps the image). Returns the images that could not be removed.
 */
export async function pruneKept(stateDir: string, key: string, kept: KeptVersions, keep: string[] = []): Promise<KeptImage[]> {
  const dir = keptDir(stateDir, key);
  const wanted = new Set([kept.current?.version, kept.previous?.version, ...keep].filter(Boolean));
  const entries = (await fs.readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory());
  const inUse = new Set((await Promise.all(entries.filter((e) => wanted.has(e.name)).map((e) => readImage(path.join(dir, e.name)))))
    .flatMap((i) => (i ? [i.ref, i.id] : [])).filter(Boolean));
  const left: KeptImage[] = [];
  await Promise.all(entries.filter((e) => !wanted.has(e.name)).map(async (e) => {
    const image = await readImage(path.join(dir, e.name));
    if (image && !inUse.has(image.ref) && !(image.id && inUse.has(image.id))) {
      const problem = await removeImage(image);
      if (problem) left.push({ version: e.name, image, problem });
    }
    await fs.rm(path.join(dir, e.name), { recursive: true, force: true });
  }));
  return left;
}

/** `<builder> rmi <ref>`: the tag, and the image with it when no other tag names it. Returns why it failed, if it did. */
async function removeImage(image: DaemonImage): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    const r = await exec([image.builder, 'rmi', image.ref], { timeoutMs: 60_000 });
    if (r.code === 0 || /image not known|no such image|image is not known/i.test(r.stderr)) return undefined;
    // A container removed a moment ago (`rm --force`, `run --rm`) can hold the image briefly.
    if (attempt < 5 && /in use/i.test(r.stderr)) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      continue;
    }
    return (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}`;
  }
}

/** Whether the files a kept version runs from are all still there. */
export async function keptFilesExist(kept: KeptVersion): Promise<boolean> {
  const { image } = kept.spec;
  if (image) return (await exec([image.builder, 'image', 'inspect', '--format', '{{.Id}}', image.id ?? image.ref], { timeoutMs: 30_000 })).code === 0;
  const files = [kept.spec.codeZip, ...(kept.spec.layers ?? [])].filter((f): f is string => typeof f === 'string');
  const found = await Promise.all(files.map((f) => fs.access(f).then(() => true, () => false)));
  return files.length > 0 && found.every(Boolean);
}

/** Removes every kept version, with the images they ran; returns the images that could not be removed. */
export async function removeKept(stateDir: string, key: string): Promise<KeptImage[]> {
  const left = await pruneKept(stateDir, key, {});
  await fs.rm(keptDir(stateDir, key), { recursive: true, force: true });
  return left;
}
