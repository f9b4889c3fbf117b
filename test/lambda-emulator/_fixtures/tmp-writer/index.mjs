// Writes `event.mb` MB into the function's temp folder, as a handler caching a download would.
import { openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const handler = async (event) => {
  const file = path.join(os.tmpdir(), `blob-${Date.now()}`);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(1024 * 1024, 7);
  for (let i = 0; i < (event?.mb ?? 0); i++) writeSync(fd, block);
  closeSync(fd);
  return { tmpdir: os.tmpdir(), file, mb: event?.mb ?? 0 };
};
