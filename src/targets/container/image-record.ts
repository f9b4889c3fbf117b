/** The record of the image the last deploy promoted and of the one before it (`image.json` in the work folder), for status, diff, destroy and rollback. */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Builder } from './builders.js';

export interface ImageRecord {
  /** The content reference, `<repository>:<content tag>`. */
  ref: string;
  /** Every reference it was given: the content ref, then the extra tags'. */
  refs: string[];
  /** 12 hex digits of the build context's sha256. */
  contentTag: string;
  builder: Builder['name'];
  sizeBytes: number;
  buildMs: number;
  pushed: boolean;
  /**
   * What the record said before the last deploy replaced it, which `deploy-model rollback` puts
   * back (and drops, so a second rollback finds nothing to return to).
   * @default - none: a first deploy, or a rollback already made
   */
  previous?: Omit<ImageRecord, 'previous'>;
}

/** The record a promote of `next` writes over `current`: `current` becomes its previous, unless it is the same image. */
export function nextImageRecord(current: ImageRecord | undefined, next: Omit<ImageRecord, 'previous'>): ImageRecord {
  const previous = current && current.ref !== next.ref ? withoutPrevious(current) : current?.previous;
  return { ...next, ...(previous ? { previous } : {}) };
}

/** A record without its own previous: records keep one generation. */
export function withoutPrevious(record: ImageRecord): Omit<ImageRecord, 'previous'> {
  const { previous: _previous, ...rest } = record;
  return rest;
}

const FILE = 'image.json';

export async function writeImageRecord(workDir: string, record: ImageRecord): Promise<void> {
  await writeFile(join(workDir, FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** The record, or undefined when nothing was deployed. A record written before `contentTag` existed takes it from `ref`. */
export async function readImageRecord(workDir: string): Promise<ImageRecord | undefined> {
  let record: Partial<ImageRecord>;
  try {
    record = JSON.parse(await readFile(join(workDir, FILE), 'utf8')) as Partial<ImageRecord>;
  } catch {
    return undefined;
  }
  if (typeof record.ref !== 'string') return undefined;
  return { ...record, contentTag: record.contentTag ?? record.ref.split(':').pop() ?? '' } as ImageRecord;
}

export async function removeImageRecord(workDir: string): Promise<void> {
  await rm(join(workDir, FILE), { force: true });
}
