/**
 * POSIX ustar headers with fixed metadata, for reproducible archives: mtime 0, uid/gid 0, empty
 * uname/gname, mode 0755 for folders and 0644 for files. A name longer than ustar's 100 bytes is
 * split into prefix and name at a '/', and when that cannot be done (or a file exceeds ustar's
 * 8 GiB size field) a pax extended header carries the full path and size.
 */

export const BLOCK = 512;
/** GNU tar and Python pad archives to 20 blocks; some readers expect it. */
export const RECORD = 20 * BLOCK;

const USTAR_MAX_SIZE = 8 ** 11 - 1;
const encoder = new TextEncoder();

export interface TarEntry {
  /** POSIX path inside the archive; folders end with '/'. */
  path: string;
  type: 'file' | 'dir';
  size: number;
}

/** The header block(s) for an entry: a pax header first when ustar cannot hold it. */
export function entryHeader(entry: TarEntry): Uint8Array {
  const bytes = encoder.encode(entry.path);
  const split = splitName(bytes);
  const needsPax = split === null || entry.size > USTAR_MAX_SIZE;
  const main = ustarHeader({
    name: split?.name ?? bytes.subarray(Math.max(0, bytes.length - 100)),
    prefix: split?.prefix ?? new Uint8Array(0),
    mode: entry.type === 'dir' ? 0o755 : 0o644,
    size: entry.type === 'dir' ? 0 : Math.min(entry.size, USTAR_MAX_SIZE),
    typeflag: entry.type === 'dir' ? '5' : '0',
  });
  if (!needsPax) return main;

  const records = [paxRecord('path', entry.path)];
  if (entry.size > USTAR_MAX_SIZE) records.push(paxRecord('size', String(entry.size)));
  const body = concat(records);
  const paxName = encoder.encode('PaxHeaders/entry');
  const pax = ustarHeader({ name: paxName, prefix: new Uint8Array(0), mode: 0o644, size: body.length, typeflag: 'x' });
  return concat([pax, body, new Uint8Array(padding(body.length)), main]);
}

/** Zero bytes that complete a block after `size` bytes of content. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Two zero blocks end the archive, then zeros up to a whole record. */
export function trailer(bytesSoFar: number): Uint8Array {
  const end = bytesSoFar + 2 * BLOCK;
  return new Uint8Array(2 * BLOCK + ((RECORD - (end % RECORD)) % RECORD));
}

function splitName(bytes: Uint8Array): { name: Uint8Array; prefix: Uint8Array } | null {
  if (bytes.length <= 100) return { name: bytes, prefix: new Uint8Array(0) };
  // The prefix is everything before some '/', at most 155 bytes; the rest at most 100 bytes.
  for (let i = Math.min(155, bytes.length - 1); i > 0; i--) {
    if (bytes[i] === 0x2f && bytes.length - i - 1 <= 100 && bytes.length - i - 1 > 0) {
      return { prefix: bytes.subarray(0, i), name: bytes.subarray(i + 1) };
    }
  }
  return null;
}

interface UstarFields {
  name: Uint8Array;
  prefix: Uint8Array;
  mode: number;
  size: number;
  typeflag: '0' | '5' | 'x';
}

function ustarHeader(f: UstarFields): Uint8Array {
  const h = new Uint8Array(BLOCK);
  h.set(f.name.subarray(0, 100), 0);
  octal(h, 100, 8, f.mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, f.size);
  octal(h, 136, 12, 0); // mtime
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h[156] = f.typeflag.charCodeAt(0);
  h.set(encoder.encode('ustar\u000000'), 257); // magic "ustar\0", version "00"
  // uname (265) and gname (297) stay empty; devmajor/devminor are unused for files and folders.
  octal(h, 329, 8, 0);
  octal(h, 337, 8, 0);
  h.set(f.prefix.subarray(0, 155), 345);
  let sum = 0;
  for (const b of h) sum += b;
  // Six octal digits, NUL, space: the form every tar writes.
  h.set(encoder.encode(`${sum.toString(8).padStart(6, '0')}\u0000 `), 148);
  return h;
}

/** An octal number padded with zeros to width-1 digits, then NUL. */
function octal(h: Uint8Array, offset: number, width: number, value: number): void {
  h.set(encoder.encode(`${value.toString(8).padStart(width - 1, '0')}\u0000`), offset);
}

/** "LEN key=value\n", where LEN counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Uint8Array {
  const body = encoder.encode(` ${key}=${value}\n`).length;
  let len = body + String(body).length;
  if (String(len).length !== String(body).length) len = body + String(len).length;
  return encoder.encode(`${len} ${key}=${value}\n`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
