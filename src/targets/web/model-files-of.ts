// The model file and its external data files, with their sizes.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSignature } from '../../model/types.js';

/** The model file and its external data files with their sizes. */
export interface WebModelFiles {
  file: string;
  bytes: number;
  sha256: string;
  /** External data: the location the model names (relative to its folder), the file, its size. */
  externalData: { name: string; file: string; bytes: number }[];
}

/** The model file and its external data files with their sizes (reads the disk). */
export async function modelFilesOf(signature: Pick<ModelSignature, 'file' | 'bytes' | 'sha256' | 'externalData'>): Promise<WebModelFiles> {
  const dir = path.dirname(signature.file);
  const externalData = await Promise.all(signature.externalData.map(async (name) => {
    const file = path.resolve(dir, name);
    return { name, file, bytes: (await stat(file)).size };
  }));
  return { file: signature.file, bytes: signature.bytes, sha256: signature.sha256, externalData };
}
