import fs from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { DeployModelError } from '../errors.js';

/**
 * Unpacks a zip the way Lambda unpacks function code and layers: Unix modes from the central
 * directory are kept (a layer's `bin/` stays executable) and symlinks stay symlinks.
 * Entries that would land outside `destDir` are refused.
 */
export async function unzipTo(zipFile: string, destDir: string): Promise<void> {
  const data = new Uint8Array(await fs.readFile(zipFile));
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(data);
  } catch (cause) {
    throw new DeployModelError('LOCAL_ZIP_INVALID', `Cannot unzip ${zipFile}: it is not a valid zip archive. Rebuild the artifact.`, {
      cause,
      details: { zipFile },
    });
  }
  const modes = unixModes(data);
  const root = path.resolve(destDir);
  await fs.mkdir(root, { recursive: true });
  for (const name of Object.keys(files).sort()) {
    const target = path.resolve(root, name);
    if (target !== root && !target.startsWith(root + path.sep)) {
      throw new DeployModelError('LOCAL_ZIP_UNSAFE_ENTRY', `Zip entry "${name}" in ${zipFile} points outside the folder it is unpacked into. Rebuild the artifact without absolute or "../" paths.`, {
        details: { zipFile, entry: name },
      });
    }
    if (name.endsWith('/')) {
      await fs.mkdir(target, { recursive: true });
      continue;
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rm(target, { force: true, recursive: true });
    const mode = modes.get(name);
    if (mode !== undefined && (mode & 0o170000) === 0o120000) {
      await fs.symlink(Buffer.from(files[name]).toString('utf8'), target);
      continue;
    }
    await fs.writeFile(target, files[name]);
    if (mode !== undefined && (mode & 0o777) !== 0) await fs.chmod(target, mode & 0o777);
  }
}

/** Reads `st_mode` of every entry made on Unix from the zip's central directory. */
function unixModes(data: Uint8Array): Map<string, number> {
  const modes = new Map<string, number>();
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) return modes;
  const entries = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  // Zip64 archives keep the real offset elsewhere; modes are a nicety, so they are skipped there.
  if (p === 0xffffffff) return modes;
  const decoder = new TextDecoder();
  for (let n = 0; n < entries && p + 46 <= data.length; n++) {
    if (view.getUint32(p, true) !== 0x02014b50) break;
    const madeBy = view.getUint16(p + 4, true) >> 8;
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const external = view.getUint32(p + 38, true);
    const name = decoder.decode(data.subarray(p + 46, p + 46 + nameLen));
    if (madeBy === 3 && external >>> 16 !== 0) modes.set(name, external >>> 16);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return modes;
}
