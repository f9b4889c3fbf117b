// CRC-32 for zip entries, from zlib where Node has it.
import zlib from 'node:zlib';

/**
 * CRC-32 (the zip polynomial). `zlib.crc32` exists from Node 20.15 / 22.2; older Node 20 releases
 * get the table-driven version, which gives the same numbers.
 */
const native: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** Continues `value` (the CRC of the bytes before `data`) over `data`. */
export function crc32(data: Uint8Array, value = 0): number {
  return native ? native(data, value) : crc32Portable(data, value);
}

/** For tests: the portable implementation regardless of the Node version. */
export function crc32Portable(data: Uint8Array, value = 0): number {
  const t = crcTable();
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
