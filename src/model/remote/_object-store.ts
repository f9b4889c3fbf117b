/** What deploy-model needs of an object store to fetch a model: an object's size and checksum, and its bytes. */
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { DeployModelError } from '../../errors.js';

export interface ObjectInfo {
  readonly bytes: number;
  /** sha256 (hex) the store keeps for the whole object, when it keeps one (S3 with ChecksumSHA256). */
  readonly sha256?: string;
  /** The store's version tag (ETag, generation): recorded beside the download. */
  readonly etag?: string;
}

/** One bucket or container, read with the deploying identity's credentials. */
export interface ObjectStore {
  /** `s3://bucket/key` etc.: the URL of a key in this store, for messages. */
  urlOf(key: string): string;
  /** Throws MODEL_URL_NOT_FOUND, MODEL_URL_ACCESS_DENIED or MODEL_URL_CREDENTIALS_MISSING. */
  head(key: string): Promise<ObjectInfo>;
  /** The object's bytes as a stream. */
  read(key: string): Promise<Readable>;
}

/** Writes a stream to a file, returning the sha256 (hex) and the byte count of what was written. */
export async function saveHashed(stream: Readable, file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(stream, tap, createWriteStream(file));
  return { sha256: hash.digest('hex'), bytes };
}

export type StoreFailure = 'not-found' | 'denied' | 'credentials';

/** The coded error for a store's refusal, naming the URL and the fix for that store. */
export function storeError(failure: StoreFailure, url: string, reason: string, fix: string, cause: unknown): DeployModelError {
  const options = { cause, details: { url, reason } };
  if (failure === 'not-found') return new DeployModelError('MODEL_URL_NOT_FOUND', `model.path ${url} does not exist (${reason}). ${fix}`, options);
  if (failure === 'denied') return new DeployModelError('MODEL_URL_ACCESS_DENIED', `Reading model.path ${url} was refused (${reason}). ${fix}`, options);
  return new DeployModelError('MODEL_URL_CREDENTIALS_MISSING', `model.path ${url} cannot be read: there are no usable credentials (${reason}). ${fix}`, options);
}
