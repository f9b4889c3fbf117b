// Measures the bytes a folder holds, as du counts them.
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Entries looked at before giving up: a /tmp that large is over any limit anyway. */
const MAX_ENTRIES = 100_000;

/**
 * Bytes held under `dir` (files by their allocated blocks, as `du` counts them: what fills a
 * disk). Symlinks are not followed; a folder that vanishes meanwhile counts as empty.
 */
export function folderBytes(dir: string): number {
  let total = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length > 0 && seen < MAX_ENTRIES) {
    const current = stack.pop() as string;
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      seen++;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        stack.push(full);
        continue;
      }
      try {
        const st = lstatSync(full);
        total += st.blocks * 512;
      } catch {
        // Removed meanwhile.
      }
    }
  }
  return total;
}
