import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { DeployModelError } from '../../errors.js';

/** sha256 (hex) of a file, read in 1 MB blocks so that large model archives stay out of memory. */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(1024 * 1024);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new DeployModelError('SAGEMAKER_MODEL_ARCHIVE', `Cannot read the model archive ${file}: ${(e as Error).message}. Build it first (deploy-model build, or packTritonRepository).`, { cause: e, details: { file } });
  }
  try {
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
