/**
 * Downloads a model at an object-storage URL once into the cache, with its external data files,
 * checked against a sha256 (the config's, or the one recorded on the first download).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import { externalDataLocations } from '../external-data-locations.js';
import { blobStore } from './_blob-store.js';
import { gcsStore } from './_gcs-store.js';
import { saveHashed, type ObjectStore } from './_object-store.js';
import { s3Store } from './_s3-store.js';
import { keyFolder, parseModelUrl, type ModelUrl } from './model-url.js';

export interface FetchRemoteModelOptions {
  /** `model.path`: s3://, gs:// or an Azure Blob URL. */
  readonly url: string;
  /** `model.sha256`. @default - the one recorded on the first download of `url` */
  readonly sha256?: string;
  /** The cache root; models go under `<cacheDir>/remote-models/`. */
  readonly cacheDir: string;
  /** Opens the store of a URL. @default - S3, Cloud Storage or Blob Storage with the environment's credentials */
  readonly openStore?: (url: ModelUrl) => Promise<ObjectStore>;
}

export interface FetchedModel {
  /** The cached .onnx file, external data files beside it. */
  readonly file: string;
  readonly sha256: string;
  /** Whether this call downloaded it (false: it was in the cache). */
  readonly downloaded: boolean;
  /** Where the sha256 it was checked against came from; `recorded-now` on a first download without `model.sha256`. */
  readonly checkedAgainst: 'config' | 'record' | 'recorded-now';
}

/** An external data file as downloaded. */
export interface DataFile {
  location: string;
  sha256: string;
  bytes: number;
}

/** What the cache keeps per URL: the sha256 of its first download, checked on every later one, and where it lies. */
export interface UrlRecord {
  url: string;
  sha256: string;
  bytes: number;
  etag?: string;
  externalData: DataFile[];
  /** The cache folder: named by the content (the file name, its sha256, its external data files'). */
  folder: string;
}

const CACHE = 'remote-models';

function openDefault(url: ModelUrl): Promise<ObjectStore> {
  if (url.kind === 's3') return s3Store(url.bucket);
  if (url.kind === 'gs') return gcsStore(url.bucket);
  return blobStore(url.host, url.container);
}

function recordFile(cacheDir: string, url: string): string {
  return path.join(cacheDir, CACHE, 'urls', `${createHash('sha256').update(url).digest('hex')}.json`);
}

async function readRecord(file: string): Promise<UrlRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as UrlRecord;
  } catch {
    return undefined;
  }
}

/**
 * What the cache recorded of the object at `url` when it was downloaded (its sha256, size, ETag
 * and external data files), or undefined when it was never downloaded here. A target that
 * references the object in place checks the object is still these bytes before using it.
 */
export async function remoteModelRecord(cacheDir: string, url: string): Promise<UrlRecord | undefined> {
  return readRecord(recordFile(cacheDir, url));
}

function mismatch(url: string, expected: string, actual: string, source: 'config' | 'record', when: string): DeployModelError {
  const fix = source === 'config'
    ? `If the object was replaced on purpose, set model.sha256 to '${actual}'; else point model.path at the object you meant.`
    : `It changed since its first download. If that is intended, set model.sha256: '${actual}' in the config (or delete the cache's record of it, deploy-model's cache folder ${CACHE}/urls); else restore the object.`;
  return new DeployModelError('MODEL_SHA256_MISMATCH',
    `model.path ${url} has sha256 ${actual} ${when}, not ${expected} (${source === 'config' ? 'model.sha256 in the config' : 'the sha256 recorded on its first download'}). ${fix}`,
    { details: { url, expected, actual, source } });
}

/** A location an ONNX model names for external data must stay inside the model's folder. */
function safeLocation(url: string, location: string): string {
  const normal = path.posix.normalize(location.replaceAll('\\', '/'));
  if (normal.startsWith('../') || normal === '..' || path.posix.isAbsolute(normal)) {
    throw new DeployModelError('MODEL_EXTERNAL_DATA_OUTSIDE', `model.path ${url} names external data '${location}', outside its folder. Save the model with its external data beside it (onnx.save_model(..., location='model.onnx.data')).`, { details: { url, location } });
  }
  return normal;
}

/**
 * The model at `url`, from the cache or downloaded into it. Nothing is downloaded when the cache
 * holds the expected sha256; when the store keeps a sha256 of the object (S3's ChecksumSHA256),
 * a mismatch is found before any byte is downloaded.
 */
export async function fetchRemoteModel(options: FetchRemoteModelOptions): Promise<FetchedModel> {
  const url = parseModelUrl(options.url);
  const root = path.join(options.cacheDir, CACHE);
  const name = path.posix.basename(url.key);
  const recordPath = recordFile(options.cacheDir, url.url);
  const record = await readRecord(recordPath);
  const expected = options.sha256 ?? record?.sha256;
  const source = options.sha256 ? 'config' : 'record';
  if (record && record.sha256 === expected && existsSync(path.join(root, record.folder, '.complete'))) {
    return { file: path.join(root, record.folder, name), sha256: expected, downloaded: false, checkedAgainst: source };
  }

  const store = await (options.openStore ?? openDefault)(url);
  const info = await store.head(url.key);
  if (expected && info.sha256 && info.sha256 !== expected) throw mismatch(url.url, expected, info.sha256, source, 'in its checksum (nothing was downloaded)');

  const partial = path.join(root, `.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(partial, { recursive: true });
  try {
    const saved = await saveHashed(await store.read(url.key), path.join(partial, name));
    if (info.sha256 && saved.sha256 !== info.sha256) {
      throw new DeployModelError('MODEL_DOWNLOAD_CORRUPT', `The download of model.path ${url.url} has sha256 ${saved.sha256}, not the ${info.sha256} the store keeps for it: it was damaged on the way. Run again.`, { details: { url: url.url } });
    }
    if (expected && saved.sha256 !== expected) throw mismatch(url.url, expected, saved.sha256, source, 'as downloaded');
    const externalData = await fetchExternalData(url, store, partial, name);
    const folder = createHash('sha256').update(JSON.stringify({ name, sha256: saved.sha256, externalData })).digest('hex');
    await writeFile(path.join(partial, '.complete'), `${JSON.stringify({ url: url.url, sha256: saved.sha256, externalData }, null, 2)}\n`);
    // A folder named by its content is only ever made by this rename, complete: when another
    // process got there first, its copy is the same bytes, and this one is dropped (by the finally below).
    const final = path.join(root, folder);
    try {
      await rename(partial, final);
    } catch (e) {
      if (!existsSync(path.join(final, '.complete'))) throw e;
    }
    const next: UrlRecord = { url: url.url, sha256: saved.sha256, bytes: saved.bytes, ...(info.etag ? { etag: info.etag } : {}), externalData, folder };
    await mkdir(path.dirname(recordPath), { recursive: true });
    await writeFile(recordPath, `${JSON.stringify(next, null, 2)}\n`);
    return { file: path.join(final, name), sha256: saved.sha256, downloaded: true, checkedAgainst: expected ? source : 'recorded-now' };
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Downloads the external data files the model names, from beside it in the store, with their sha256s. */
async function fetchExternalData(url: ModelUrl, store: ObjectStore, dir: string, name: string): Promise<DataFile[]> {
  let locations: string[];
  try {
    locations = [...new Set(externalDataLocations(await readFile(path.join(dir, name))).map((l) => safeLocation(url.url, l)))];
  } catch (e) {
    if (e instanceof DeployModelError) throw e;
    // Not ONNX: inspecting the cached file says so, with its own fix.
    return [];
  }
  const files: DataFile[] = [];
  for (const location of locations.sort()) {
    const file = path.join(dir, ...location.split('/'));
    // A missing data file fails here as MODEL_URL_NOT_FOUND, naming it.
    await store.head(`${keyFolder(url.key)}${location}`);
    await mkdir(path.dirname(file), { recursive: true });
    files.push({ location, ...(await saveHashed(await store.read(`${keyFolder(url.key)}${location}`), file)) });
  }
  return files;
}
