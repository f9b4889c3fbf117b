/** The record of the image the last deploy promoted (`image.json` in the work folder), for status, diff and destroy. */
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
