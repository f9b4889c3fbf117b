// Reads and extracts the zips deploy-model writes.
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw } from 'node:zlib';
import { DeployModelError } from '../errors.js';
import { crc32 } from './_crc32.js';
import {
  CENTRAL_HEADER_BYTES, CENTRAL_HEADER_SIG, END_OF_CENTRAL_DIR_BYTES, END_OF_CENTRAL_DIR_SIG, LOCAL_HEADER_BYTES,
  LOCAL_HEADER_SIG, METHOD_DEFLATE, METHOD_STORE,
} from './_zip-format.js';

/** One central directory record, as stored. */
export interface ZipDirectoryEntry {
  name: string;
  versionMadeBy: number;
  flags: number;
  method: number;
  dosTime: number;
  dosDate: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  extraLength: number;
  commentLength: number;
  externalAttributes: number;
  /** Permission bits when the entry was made on UNIX (`versionMadeBy` high byte 3), else undefined. */
  mode: number | undefined;
  localHeaderOffset: number;
}

export interface UnzipResult {
  /** Entry names written, in zip order. */
  files: string[];
  /** Sum of the uncompressed sizes. */
  bytes: number;
}

/** Reads the central directory. Zip64 and multi-disk archives are refused. */
export async function readZipDirectory(zipFile: string): Promise<ZipDirectoryEntry[]> {
  const fh = await open(zipFile, 'r').catch((cause: unknown) => {
    throw new DeployModelError('ZIP_NOT_FOUND', `Cannot open zip "${zipFile}". Check the path.`, { cause, details: { file: zipFile } });
  });
  try {
    const { size } = await fh.stat();
    const tailLength = Math.min(size, END_OF_CENTRAL_DIR_BYTES + 0xffff);
    const tail = Buffer.alloc(tailLength);
    await fh.read(tail, 0, tailLength, size - tailLength);
    let eocd = -1;
    for (let i = tailLength - END_OF_CENTRAL_DIR_BYTES; i >= 0; i--) {
      if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIR_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw corrupt(zipFile, 'no end-of-central-directory record');
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff || tail.readUInt16LE(eocd + 4) !== 0) {
      throw new DeployModelError('ZIP_UNSUPPORTED', `"${zipFile}" is a zip64 or multi-disk archive, which deploy-model does not read.`, {
        details: { file: zipFile },
      });
    }
    const cd = Buffer.alloc(cdSize);
    await fh.read(cd, 0, cdSize, cdOffset);
    const entries: ZipDirectoryEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_HEADER_BYTES > cd.length || cd.readUInt32LE(p) !== CENTRAL_HEADER_SIG) throw corrupt(zipFile, `bad central header #${i}`);
      const versionMadeBy = cd.readUInt16LE(p + 4);
      const flags = cd.readUInt16LE(p + 8);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      const externalAttributes = cd.readUInt32LE(p + 38);
      const nameBytes = cd.subarray(p + CENTRAL_HEADER_BYTES, p + CENTRAL_HEADER_BYTES + nameLength);
      entries.push({
        name: nameBytes.toString(flags & 0x0800 ? 'utf8' : 'latin1'),
        versionMadeBy,
        flags,
        method: cd.readUInt16LE(p + 10),
        dosTime: cd.readUInt16LE(p + 12),
        dosDate: cd.readUInt16LE(p + 14),
        crc: cd.readUInt32LE(p + 16),
        compressedSize: cd.readUInt32LE(p + 20),
        uncompressedSize: cd.readUInt32LE(p + 24),
        extraLength,
        commentLength,
        externalAttributes,
        mode: versionMadeBy >> 8 === 3 ? (externalAttributes >>> 16) & 0o7777 : undefined,
        localHeaderOffset: cd.readUInt32LE(p + 42),
      });
      p += CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/**
 * Extracts `zipFile` into `destDir` the way Lambda lays out a function or a layer: each file at its
 * path with the mode recorded in the zip (0644 when the zip records none), directories created as
 * needed. CRCs and sizes are checked; a path that would land outside `destDir` is refused.
 */
export async function unzip(zipFile: string, destDir: string): Promise<UnzipResult> {
  const entries = await readZipDirectory(zipFile);
  const root = resolve(destDir);
  await mkdir(root, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  const fh = await open(zipFile, 'r');
  try {
    for (const entry of entries) {
      const target = resolve(root, entry.name);
      const rel = relative(root, target);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
        throw new DeployModelError('ZIP_UNSAFE_PATH', `Zip entry "${entry.name}" in "${zipFile}" would be written outside "${destDir}"; refusing to extract it.`, {
          details: { file: zipFile, entry: entry.name },
        });
      }
      if (entry.name.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }
      if (entry.flags & 0x0001) throw unsupported(zipFile, entry.name, 'encrypted');
      if (entry.method !== METHOD_STORE && entry.method !== METHOD_DEFLATE) throw unsupported(zipFile, entry.name, `compression method ${entry.method}`);

      const local = Buffer.alloc(LOCAL_HEADER_BYTES);
      await fh.read(local, 0, LOCAL_HEADER_BYTES, entry.localHeaderOffset);
      if (local.readUInt32LE(0) !== LOCAL_HEADER_SIG) throw corrupt(zipFile, `bad local header for "${entry.name}"`);
      const dataStart = entry.localHeaderOffset + LOCAL_HEADER_BYTES + local.readUInt16LE(26) + local.readUInt16LE(28);

      await mkdir(dirname(target), { recursive: true });
      const mode = entry.mode !== undefined && (entry.mode & 0o777) !== 0 ? entry.mode & 0o777 : 0o644;
      let crc = 0;
      let size = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          done(null, chunk);
        },
      });
      const source = entry.compressedSize === 0
        ? Readable.from([])
        : createReadStream(zipFile, { start: dataStart, end: dataStart + entry.compressedSize - 1, highWaterMark: 1 << 20 });
      const sink = createWriteStream(target, { mode });
      try {
        if (entry.method === METHOD_DEFLATE && entry.compressedSize > 0) await pipeline(source, createInflateRaw(), check, sink);
        else await pipeline(source, check, sink);
      } catch (cause) {
        throw corrupt(zipFile, `"${entry.name}" cannot be inflated (${(cause as Error).message})`, cause);
      }
      // The umask may have cleared bits the zip asked for.
      await chmod(target, mode);
      if (size !== entry.uncompressedSize || crc >>> 0 !== entry.crc >>> 0) {
        throw corrupt(zipFile, `"${entry.name}" does not match its recorded size or CRC`);
      }
      files.push(entry.name);
      bytes += size;
    }
  } finally {
    await fh.close();
  }
  return { files, bytes };
}

function corrupt(file: string, why: string, cause?: unknown): DeployModelError {
  return new DeployModelError('ZIP_CORRUPT', `"${file}" is not a valid zip: ${why}. Rebuild the artifact.`, { cause, details: { file } });
}

function unsupported(file: string, entry: string, what: string): DeployModelError {
  return new DeployModelError('ZIP_UNSUPPORTED', `Entry "${entry}" of "${file}" uses ${what}, which deploy-model cannot extract. Re-zip it with plain deflate.`, {
    details: { file, entry },
  });
}
