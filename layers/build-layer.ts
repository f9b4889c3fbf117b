import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DeployModelError } from '../src/errors.js';
import { ensureOnnxRuntimeNode } from '../src/ensure-onnxruntime-node.js';
import type { IoHelper } from '../src/io/io-host.js';
import { sha256File } from '../src/bundling/hash.js';
import { writeDeterministicZip } from '../src/bundling/zip.js';
import { LAYER_NODE_MODULES, planOrtLayer, readPackageJson, type LayerArchitecture, type LayerFile } from './plan-ort-layer.js';

export { planOrtLayer, LAYER_NODE_MODULES, NODE_ARCH, type LayerArchitecture, type LayerFile } from './plan-ort-layer.js';

/**
 * Part of the cache key. Bump it whenever the plan or the zip bytes can change for the same
 * onnxruntime-node release: a new file rule, a new zip writer, a deflate upgrade.
 * 2: deflate by pako (zlib's algorithm) instead of fflate, 2.5 % smaller.
 */
export const LAYER_BUILDER_VERSION = 2;

export interface BuildOrtLayerOptions {
  architecture: LayerArchitecture;
  /** Folder the layer zip is written to. */
  outDir: string;
  /**
   * The onnxruntime-node package to take the files from.
   * @default - the one installed next to deploy-model
   */
  ortPackageDir?: string;
  /**
   * Folder of built layers, reused when the onnxruntime versions, the architecture and the builder
   * version match.
   * @default - no cache: the layer is built every time
   */
  cacheDir?: string;
  io?: IoHelper;
}

export interface OrtLayerResult {
  zip: { file: string; bytes: number; sha256: string };
  /** Paths inside the zip, sorted. */
  files: string[];
  /** Counted by Lambda against the 250 MB limit of function code plus layers. */
  unzippedBytes: number;
  ortVersion: string;
  architecture: LayerArchitecture;
  cacheKey: string;
  /** True when the zip came from `cacheDir`. */
  cached: boolean;
}

interface CacheRecord {
  key: string;
  sha256: string;
  bytes: number;
  files: string[];
  unzippedBytes: number;
}

/** The layer's deflate (see `ZipOptions.deflate`). */
export const LAYER_DEFLATE = 'zlib' as const;

const PACKAGE_ROOT_JSON = new RegExp(`^${LAYER_NODE_MODULES}/(@[^/]+/)?[^/]+/package\\.json$`);

/**
 * The onnxruntime-node package folder deploy-model loads: the installed one, else the copy fetched
 * from the npm registry into the toolkit cache (see ensureOnnxRuntimeNode).
 */
export function defaultOrtPackageDir(): string {
  return ensureOnnxRuntimeNode().dir;
}

/**
 * Builds the onnxruntime-node Lambda layer for one architecture: the files `planOrtLayer` finds,
 * under `nodejs/node_modules/`, in a deterministic zip (same package, same bytes). Progress:
 * `DM_LAYER_CACHE_HIT` or `DM_BUILD_LAYER`, with sizes in data.
 */
export async function buildOrtLayer(options: BuildOrtLayerOptions): Promise<OrtLayerResult> {
  const { architecture, io } = options;
  const pkgDir = resolve(options.ortPackageDir ?? defaultOrtPackageDir());
  const plan = planOrtLayer(pkgDir, architecture);
  const ortVersion = readPackageJson(pkgDir).version;
  const cacheKey = layerCacheKey(plan, architecture);
  const name = `onnxruntime-node-${ortVersion}-${architecture}`;
  const outFile = join(options.outDir, `${name}.zip`);
  const files = plan.map((f) => f.to);

  const cacheZip = options.cacheDir ? join(options.cacheDir, `${name}-b${LAYER_BUILDER_VERSION}.zip`) : undefined;
  if (cacheZip) {
    const hit = await readCache(cacheZip, cacheKey);
    if (hit) {
      if (resolve(cacheZip) !== resolve(outFile)) await copyAtomically(cacheZip, outFile);
      const result: OrtLayerResult = {
        zip: { file: outFile, bytes: hit.bytes, sha256: hit.sha256 }, files: hit.files, unzippedBytes: hit.unzippedBytes,
        ortVersion, architecture, cacheKey, cached: true,
      };
      io?.info('DM_LAYER_CACHE_HIT', `Reused the onnxruntime-node ${ortVersion} layer for ${architecture} (${mb(hit.bytes)})`, sizes(result));
      return result;
    }
  }

  const started = Date.now();
  // zlib's deflate: 2.5 % smaller than fflate on the native library that is most of the layer,
  // for about 6 s more of a build that the cache makes once per onnxruntime release.
  const zip = await writeDeterministicZip(plan.map((f) => ({ path: f.to, file: f.from })), outFile, { deflate: LAYER_DEFLATE });
  const result: OrtLayerResult = {
    zip: { file: zip.file, bytes: zip.bytes, sha256: zip.sha256 }, files, unzippedBytes: zip.unzippedBytes,
    ortVersion, architecture, cacheKey, cached: false,
  };
  if (cacheZip) {
    await copyAtomically(outFile, cacheZip);
    const record: CacheRecord = { key: cacheKey, sha256: zip.sha256, bytes: zip.bytes, files, unzippedBytes: zip.unzippedBytes };
    await writeFile(`${cacheZip}.json`, `${JSON.stringify(record, null, 2)}\n`);
  }
  io?.info('DM_BUILD_LAYER', `Built the onnxruntime-node ${ortVersion} layer for ${architecture}: ${mb(zip.bytes)} zipped, ${mb(zip.unzippedBytes)} unzipped`, {
    ...sizes(result),
    ms: Date.now() - started,
  });
  return result;
}

/**
 * The layer's unzipped size without building it (a plan and a stat per file), for the check that
 * function code plus layers fit Lambda's 250 MB before anything is built.
 */
export async function ortLayerUnzippedBytes(architecture: LayerArchitecture, ortPackageDir?: string): Promise<number> {
  const plan = planOrtLayer(resolve(ortPackageDir ?? defaultOrtPackageDir()), architecture);
  let total = 0;
  for (const f of plan) total += (await stat(f.from)).size;
  return total;
}

/**
 * What makes two layers identical: every package@version in the layer, the architecture, the
 * builder version and the file list (which tells apart a package folder with other binaries).
 */
export function layerCacheKey(plan: readonly LayerFile[], architecture: LayerArchitecture): string {
  const packages = plan
    .filter((f) => PACKAGE_ROOT_JSON.test(f.to))
    .map((f) => {
      const pkg = JSON.parse(readFileSync(f.from, 'utf8')) as { name: string; version: string };
      return `${pkg.name}@${pkg.version}`;
    })
    .sort();
  const list = createHash('sha256').update(plan.map((f) => f.to).join('\n')).digest('hex').slice(0, 16);
  return [...packages, `linux-${architecture}`, `builder@${LAYER_BUILDER_VERSION}`, `files@${plan.length}:${list}`].join(';');
}

async function readCache(zipFile: string, key: string): Promise<CacheRecord | undefined> {
  let record: CacheRecord;
  try {
    record = JSON.parse(await readFile(`${zipFile}.json`, 'utf8')) as CacheRecord;
    if (record.key !== key) return undefined;
    if ((await stat(zipFile)).size !== record.bytes) return undefined;
  } catch {
    return undefined;
  }
  // A cached zip that no longer matches its record (disk trouble, a hand edit) is rebuilt.
  return (await sha256File(zipFile)) === record.sha256 ? record : undefined;
}

async function copyAtomically(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const tmp = `${to}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  try {
    await copyFile(from, tmp);
    await rename(tmp, to);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new DeployModelError('LAYER_CACHE_WRITE_FAILED', `Cannot copy the layer zip to "${to}". Check that the folder is writable.`, {
      cause,
      details: { from, to },
    });
  }
}

function sizes(r: OrtLayerResult): Record<string, unknown> {
  return { file: r.zip.file, bytes: r.zip.bytes, sha256: r.zip.sha256, unzippedBytes: r.unzippedBytes, files: r.files.length, architecture: r.architecture, ortVersion: r.ortVersion, cached: r.cached };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
