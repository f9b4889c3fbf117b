/**
 * The cache of the artifacts the constructs build at synth: one entry per model file (and options),
 * keyed by everything the bytes depend on, so a synth of an unchanged model copies the artifact it
 * built before instead of bundling, zipping and packing again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256File } from '../src/bundling/hash.js';
import { DeployModelError } from '../src/errors.js';
import { toolchainFingerprint } from '../src/toolchain-fingerprint.js';

export { toolchainFingerprint };

/** Turns the cache off, as it does for the CLI's builds. */
const NO_CACHE_ENV = 'DEPLOY_MODEL_NO_BUILD_CACHE';

/** deploy-model's cache folder: `$XDG_CACHE_HOME/deploy-model`, else `~/.cache/deploy-model` (the CLI's too). */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'deploy-model');
}

/** The artifact a build wrote, as the cache records it. */
export interface CachedFile {
  readonly bytes: number;
  readonly sha256: string;
}

export interface CachedBuildOptions<R extends CachedFile> {
  /** The cache root, or false for no cache. */
  readonly cacheDir: string | false;
  /** Sub-folder per kind of artifact, e.g. `functions`. */
  readonly kind: string;
  /** What one entry is for (model path and options): a new key replaces the entry's old build. */
  readonly slot: string;
  /** Everything the artifact's bytes depend on. */
  readonly key: string;
  /** The artifact's file name in the build folder and in `outDir`. */
  readonly fileName: string;
  /** Where the artifact is copied to. */
  readonly outDir: string;
  /** Builds into the given empty folder, writing `fileName` there. */
  readonly build: (workDir: string) => Promise<R>;
}

interface CacheRecord<R> {
  key: string;
  result: R;
}

/**
 * The artifact for `key`: copied from the cache when its recorded bytes still match, else built
 * into a fresh folder that then becomes the slot's entry. Returns the build's result and whether it
 * came from the cache.
 */
export async function cachedBuild<R extends CachedFile>(options: CachedBuildOptions<R>): Promise<R & { cached: boolean }> {
  const { cacheDir, kind, slot, key, fileName, outDir, build } = options;
  const outFile = path.join(outDir, fileName);
  await mkdir(outDir, { recursive: true });
  const useCache = cacheDir !== false && !process.env[NO_CACHE_ENV];
  const root = useCache ? path.join(cacheDir, 'cdk', kind) : path.join(os.tmpdir(), 'deploy-model-build');
  const entry = path.join(root, hash(slot).slice(0, 24));

  if (useCache) {
    const hit = await readEntry<R>(entry, fileName, key);
    if (hit) {
      await copyFile(path.join(entry, fileName), outFile);
      return { ...hit, cached: true };
    }
  }

  const work = `${entry}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const result = await build(work);
    if (!useCache) {
      await copyFile(path.join(work, fileName), outFile);
      return { ...result, cached: false };
    }
    await writeFile(path.join(work, 'record.json'), `${JSON.stringify({ key, result } satisfies CacheRecord<R>, null, 2)}\n`);
    // One entry per slot: the previous build of this model goes. Another process may have just
    // put its own entry there; then ours is copied from its work folder and dropped.
    await rm(entry, { recursive: true, force: true });
    const from = await rename(work, entry).then(() => entry, () => work);
    await copyFile(path.join(from, fileName), outFile);
    return { ...result, cached: false };
  } catch (cause) {
    // File system failures (a read-only or full disk) get the fix; anything else is the build's own.
    if (cause instanceof DeployModelError || typeof (cause as NodeJS.ErrnoException).syscall !== 'string') throw cause;
    throw new DeployModelError('CDK_BUILD_CACHE_FAILED', `Cannot write the ${kind} build under ${root}: ${(cause as Error).message}. Make the folder writable, point XDG_CACHE_HOME at one that is, or set ${NO_CACHE_ENV}=1.`, { cause, details: { cacheDir: root } });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readEntry<R extends CachedFile>(entry: string, fileName: string, key: string): Promise<R | undefined> {
  try {
    const record = JSON.parse(await readFile(path.join(entry, 'record.json'), 'utf8')) as CacheRecord<R>;
    if (record.key !== key) return undefined;
    const file = path.join(entry, fileName);
    if ((await stat(file)).size !== record.result.bytes) return undefined;
    // A cached file that no longer matches its record (disk trouble, a hand edit) is rebuilt.
    return (await sha256File(file)) === record.result.sha256 ? record.result : undefined;
  } catch {
    return undefined;
  }
}


/** sha256 hex of the parts, each ended by a newline. */
export function hash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p}\n`);
  return h.digest('hex');
}

/** Size and time of each external data file: part of a key, cheaper than hashing gigabytes. */
export function externalDataStamp(modelFile: string, externalData: readonly string[]): string {
  return externalData.map((rel) => {
    const info = statSync(path.resolve(path.dirname(modelFile), rel));
    return `${rel}\0${info.size}\0${info.mtimeMs}`;
  }).join('\n');
}
