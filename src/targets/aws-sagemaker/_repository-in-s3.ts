/** Plans the uncompressed Triton repository of a model kept in S3: which files are uploaded, which copied server-side, under which content-addressed prefix. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';
import type { UrlRecord } from '../../model/remote/fetch-remote-model.js';
import { keyFolder, type ModelUrl } from '../../model/remote/model-url.js';

/** The folder of the bootstrap bucket that holds the repositories, one prefix per content digest. */
export const REPOSITORY_ROOT = 'deploy-model/triton/';

/** A small file of the repository (config.pbtxt, warmup data), uploaded from this machine. */
export interface RepositoryUpload {
  /** Its key under the prefix, e.g. `adder/config.pbtxt`. */
  readonly key: string;
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** A model file of the repository, copied inside S3 from the object `model.path` names. */
export interface RepositoryCopy {
  /** Its key under the prefix, e.g. `adder/1/model.onnx`. */
  readonly key: string;
  readonly sourceBucket: string;
  readonly sourceKey: string;
  /** Size and sha256 as downloaded when the signature was read: the copy must be of these bytes. */
  readonly bytes: number;
  readonly sha256: string;
  /** The ETag S3 gave when it was downloaded (the .onnx file only). */
  readonly etag?: string;
}

/** The Triton repository as SageMaker reads it uncompressed, from `s3://<bootstrap bucket>/<prefix>`. */
export interface RepositoryInS3 {
  /** `deploy-model/triton/<digest>/`: the key prefix, ending with `/` as SageMaker requires of an S3Prefix. */
  readonly prefix: string;
  /** sha256 over every file's key and sha256. */
  readonly digest: string;
  readonly uploads: readonly RepositoryUpload[];
  readonly copies: readonly RepositoryCopy[];
}

export interface PlanRepositoryInS3Params {
  /** `model.path`, an s3:// URL. */
  readonly url: Extract<ModelUrl, { kind: 's3' }>;
  /** The cache's record of its download. */
  readonly record: UrlRecord | undefined;
  /** The repository folder the build wrote and its files, relative to it. */
  readonly root: string;
  readonly files: readonly string[];
  /** Triton's model name: the repository's one folder. */
  readonly modelName: string;
}

/**
 * Splits the built repository: `<model>/1/model.onnx` and its external data files are copied from
 * beside the source object, the rest is uploaded. The prefix is named by the content, so a
 * repository already there is the same bytes.
 */
export async function planRepositoryInS3(p: PlanRepositoryInS3Params): Promise<RepositoryInS3> {
  const { url, record } = p;
  if (!record) {
    throw new DeployModelError('MODEL_URL_NOT_FOUND', `model.path ${url.url} has no record in the model cache, so its bytes cannot be checked before SageMaker reads it in place. Run the deploy again: the toolkit downloads it first.`, { details: { url: url.url } });
  }
  const version = `${p.modelName}/1/`;
  const copies: RepositoryCopy[] = [
    { key: `${version}model.onnx`, sourceBucket: url.bucket, sourceKey: url.key, bytes: record.bytes, sha256: record.sha256, ...(record.etag ? { etag: record.etag } : {}) },
    ...record.externalData.map((d) => ({ key: `${version}${d.location}`, sourceBucket: url.bucket, sourceKey: `${keyFolder(url.key)}${d.location}`, bytes: d.bytes, sha256: d.sha256 })),
  ];
  const copied = new Set(copies.map((c) => c.key));
  const uploads: RepositoryUpload[] = [];
  for (const key of [...p.files].sort()) {
    if (copied.has(key)) continue;
    const file = path.join(p.root, ...key.split('/'));
    const bytes = await readFile(file);
    uploads.push({ key, file, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  const listing = [...uploads, ...copies].map((f) => [f.key, f.sha256] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const digest = createHash('sha256').update(JSON.stringify(listing)).digest('hex');
  return { prefix: `${REPOSITORY_ROOT}${digest}/`, digest, uploads, copies };
}
