// The zip records deploy-model writes and reads.
import { DeployModelError } from '../errors.js';

/**
 * The few zip records deploy-model writes and reads (PKWARE APPNOTE 6.3, sections 4.3.7, 4.3.12,
 * 4.3.16). No zip64, no data descriptors, no extra fields: Lambda caps a deployment package at
 * 250 MB unzipped, far below the 4 GiB where zip64 starts.
 */
export const LOCAL_HEADER_SIG = 0x04034b50;
export const CENTRAL_HEADER_SIG = 0x02014b50;
export const END_OF_CENTRAL_DIR_SIG = 0x06054b50;
export const LOCAL_HEADER_BYTES = 30;
export const CENTRAL_HEADER_BYTES = 46;
export const END_OF_CENTRAL_DIR_BYTES = 22;
export const MAX_32 = 0xffffffff;
export const MAX_ENTRIES = 0xffff;

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;

/** General purpose flag bit 11: the name is UTF-8. Set only for non-ASCII names. */
export const FLAG_UTF8 = 0x0800;

/** "Version made by": high byte 3 = UNIX, so readers take the mode from the external attributes. */
export const VERSION_MADE_BY = (3 << 8) | 20;
export const VERSION_NEEDED_DEFLATE = 20;
export const VERSION_NEEDED_STORE = 10;

/**
 * Every entry is stamped 1980-01-01 00:00:00, the first instant a DOS date can hold. DOS times
 * carry no zone, so this is the same bytes on every machine whatever its TZ.
 */
export const DOS_EPOCH_DATE = (0 << 9) | (1 << 5) | 1; // year-1980=0, month=1, day=1
export const DOS_EPOCH_TIME = 0;

const S_IFREG = 0o100000;

/**
 * Two modes only: 0755 when the source has any execute bit, else 0644. The build machine's umask,
 * owner and group never reach the zip. `.node` and `.so` files get no special case: dlopen needs
 * read permission, not execute, and npm ships them 0644.
 */
export function normaliseMode(sourceMode: number | undefined): number {
  return sourceMode !== undefined && (sourceMode & 0o111) !== 0 ? 0o755 : 0o644;
}

export function externalAttributes(mode: number): number {
  return ((S_IFREG | mode) << 16) >>> 0;
}

/** Turns a relative path into the zip's form (POSIX separators) and refuses what could escape. */
export function zipEntryName(path: string): string {
  const name = path.replace(/\\/g, '/');
  const parts = name.split('/');
  if (
    name.length === 0 ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    parts.some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new DeployModelError(
      'ZIP_INVALID_ENTRY',
      `Zip entry path "${path}" is not a plain relative path: entries must be relative, use "/" between ` +
        'non-empty segments and contain no "." or ".." segment. Pass the path relative to the zip root, e.g. "model/model.onnx".',
      { details: { path } },
    );
  }
  return name;
}

export function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

export interface HeaderFields {
  name: Buffer;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
}

export function localHeader(f: HeaderFields): Buffer {
  const b = Buffer.alloc(LOCAL_HEADER_BYTES + f.name.length);
  b.writeUInt32LE(LOCAL_HEADER_SIG, 0);
  b.writeUInt16LE(f.method === METHOD_STORE ? VERSION_NEEDED_STORE : VERSION_NEEDED_DEFLATE, 4);
  b.writeUInt16LE(f.flags, 6);
  b.writeUInt16LE(f.method, 8);
  b.writeUInt16LE(DOS_EPOCH_TIME, 10);
  b.writeUInt16LE(DOS_EPOCH_DATE, 12);
  b.writeUInt32LE(f.crc >>> 0, 14);
  b.writeUInt32LE(f.compressedSize, 18);
  b.writeUInt32LE(f.uncompressedSize, 22);
  b.writeUInt16LE(f.name.length, 26);
  b.writeUInt16LE(0, 28); // no extra field
  f.name.copy(b, LOCAL_HEADER_BYTES);
  return b;
}

/** The crc and sizes, patched into the local header once the data is written. */
export function localHeaderSizes(crc: number, compressedSize: number, uncompressedSize: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32LE(crc >>> 0, 0);
  b.writeUInt32LE(compressedSize, 4);
  b.writeUInt32LE(uncompressedSize, 8);
  return b;
}
export const LOCAL_HEADER_CRC_OFFSET = 14;

export function centralHeader(f: HeaderFields & { mode: number; localHeaderOffset: number }): Buffer {
  const b = Buffer.alloc(CENTRAL_HEADER_BYTES + f.name.length);
  b.writeUInt32LE(CENTRAL_HEADER_SIG, 0);
  b.writeUInt16LE(VERSION_MADE_BY, 4);
  b.writeUInt16LE(f.method === METHOD_STORE ? VERSION_NEEDED_STORE : VERSION_NEEDED_DEFLATE, 6);
  b.writeUInt16LE(f.flags, 8);
  b.writeUInt16LE(f.method, 10);
  b.writeUInt16LE(DOS_EPOCH_TIME, 12);
  b.writeUInt16LE(DOS_EPOCH_DATE, 14);
  b.writeUInt32LE(f.crc >>> 0, 16);
  b.writeUInt32LE(f.compressedSize, 20);
  b.writeUInt32LE(f.uncompressedSize, 24);
  b.writeUInt16LE(f.name.length, 28);
  b.writeUInt16LE(0, 30); // extra
  b.writeUInt16LE(0, 32); // comment
  b.writeUInt16LE(0, 34); // disk
  b.writeUInt16LE(0, 36); // internal attributes
  b.writeUInt32LE(externalAttributes(f.mode), 38);
  b.writeUInt32LE(f.localHeaderOffset, 42);
  f.name.copy(b, CENTRAL_HEADER_BYTES);
  return b;
}

export function endOfCentralDirectory(entries: number, size: number, offset: number): Buffer {
  const b = Buffer.alloc(END_OF_CENTRAL_DIR_BYTES);
  b.writeUInt32LE(END_OF_CENTRAL_DIR_SIG, 0);
  b.writeUInt16LE(0, 4);
  b.writeUInt16LE(0, 6);
  b.writeUInt16LE(entries, 8);
  b.writeUInt16LE(entries, 10);
  b.writeUInt32LE(size, 12);
  b.writeUInt32LE(offset, 16);
  b.writeUInt16LE(0, 20);
  return b;
}
