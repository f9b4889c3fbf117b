import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 of a file as lowercase hex, read as a stream so large files are never held whole. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
