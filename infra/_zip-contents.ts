// Reads the sizes in a zip's central directory without inflating it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DeployModelError } from '../src/errors.js';

export interface ZipContents {
  /** Sum of the entries' uncompressed sizes: what Lambda counts against its 250 MB limit. */
  unzippedBytes: number;
  /** Entry names in archive order. */
  names: string[];
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

/**
 * Reads only the central directory of a zip (the tail of the file), so measuring a 200 MB archive
 * costs a few kilobytes of I/O and no inflation. Handles zip64 sizes and counts.
 */
export function readZipContents(file: string): ZipContents {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new DeployModelError('ZIP_NOT_FOUND', `Cannot open zip ${file}: ${(e as Error).message}. Build the artifact first or pass the path of an existing .zip file.`, { cause: e, details: { file } });
  }
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, EOCD_MIN + MAX_COMMENT + 20);
    const tail = read(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) { eocd = i; break; }
    }
    if (eocd < 0) throw notAZip(file, 'no end-of-central-directory record');

    let entries: number = tail.readUInt16LE(eocd + 10);
    let cdSize: number = tail.readUInt32LE(eocd + 12);
    let cdOffset: number = tail.readUInt32LE(eocd + 16);
    if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR_SIG) throw notAZip(file, 'zip64 locator missing');
      const z64 = read(fd, Number(tail.readBigUInt64LE(loc + 8)), 56);
      if (z64.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw notAZip(file, 'zip64 end record missing');
      entries = Number(z64.readBigUInt64LE(32));
      cdSize = Number(z64.readBigUInt64LE(40));
      cdOffset = Number(z64.readBigUInt64LE(48));
    }
    if (cdOffset + cdSize > size) throw notAZip(file, 'central directory past the end of the file');

    const cd = read(fd, cdOffset, cdSize);
    const names: string[] = [];
    let unzippedBytes = 0;
    let p = 0;
    for (let n = 0; n < entries; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) throw notAZip(file, `bad central directory entry ${n}`);
      let uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      names.push(cd.toString('utf8', p + 46, p + 46 + nameLen));
      if (uncompressed === 0xffffffff) uncompressed = zip64Uncompressed(cd, p + 46 + nameLen, extraLen) ?? uncompressed;
      unzippedBytes += uncompressed;
      p += 46 + nameLen + extraLen + commentLen;
    }
    return { unzippedBytes, names };
  } finally {
    closeSync(fd);
  }
}

/** The zip64 extended-information extra field (id 1) starts with the uncompressed size. */
function zip64Uncompressed(buf: Buffer, start: number, len: number): number | undefined {
  for (let q = start; q + 4 <= start + len;) {
    const id = buf.readUInt16LE(q);
    const size = buf.readUInt16LE(q + 2);
    if (id === 0x0001 && size >= 8) return Number(buf.readBigUInt64LE(q + 4));
    q += 4 + size;
  }
  return undefined;
}

function read(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

function notAZip(file: string, why: string): DeployModelError {
  return new DeployModelError('ZIP_INVALID', `${file} is not a readable zip archive (${why}). Rebuild the artifact; Lambda code and layers must be .zip files.`, { details: { file } });
}
