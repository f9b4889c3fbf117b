import { closeSync, openSync, readSync } from 'node:fs';
import { DeployModelError } from '../src/errors.js';

/** ELF e_machine values for the two Lambda architectures. */
export const ELF_MACHINE = { x64: 62, arm64: 183 } as const;

export interface ElfInfo {
  /** e_machine: 62 x86-64, 183 AArch64. */
  machine: number;
  /** DT_NEEDED: the shared libraries the loader opens before this one runs. */
  needed: string[];
  /** DT_RUNPATH and DT_RPATH entries, e.g. `$ORIGIN`. */
  runpath: string[];
}

const SHT_DYNAMIC = 6;
const DT_NEEDED = 1;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/**
 * Reads the machine and the dynamic dependencies of a 64-bit little-endian ELF shared object
 * (all that Lambda runs). Only the headers and the dynamic section are read, not the whole file.
 */
export function readElf(file: string): ElfInfo {
  const fd = openSync(file, 'r');
  try {
    const read = (position: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      const n = readSync(fd, b, 0, length, position);
      if (n !== length) throw notElf(file, 'it is truncated');
      return b;
    };
    const h = read(0, 64);
    if (h.readUInt32BE(0) !== 0x7f454c46) throw notElf(file, 'it has no ELF magic');
    if (h[4] !== 2 || h[5] !== 1) throw notElf(file, 'it is not a 64-bit little-endian ELF file');
    const machine = h.readUInt16LE(18);
    const shoff = Number(h.readBigUInt64LE(40));
    const shentsize = h.readUInt16LE(58);
    const shnum = h.readUInt16LE(60);
    const sections = read(shoff, shentsize * shnum);
    const section = (i: number) => ({
      type: sections.readUInt32LE(i * shentsize + 4),
      offset: Number(sections.readBigUInt64LE(i * shentsize + 24)),
      size: Number(sections.readBigUInt64LE(i * shentsize + 32)),
      link: sections.readUInt32LE(i * shentsize + 40),
    });
    const needed: string[] = [];
    const runpath: string[] = [];
    for (let i = 0; i < shnum; i++) {
      const s = section(i);
      if (s.type !== SHT_DYNAMIC) continue;
      const dyn = read(s.offset, s.size);
      const strtab = section(s.link);
      const strings = read(strtab.offset, strtab.size);
      const str = (at: number) => strings.toString('utf8', at, strings.indexOf(0, at));
      for (let p = 0; p + 16 <= dyn.length; p += 16) {
        const tag = Number(dyn.readBigInt64LE(p));
        if (tag === 0) break;
        const val = Number(dyn.readBigUInt64LE(p + 8));
        if (tag === DT_NEEDED) needed.push(str(val));
        else if (tag === DT_RUNPATH || tag === DT_RPATH) runpath.push(...str(val).split(':').filter(Boolean));
      }
    }
    return { machine, needed, runpath };
  } finally {
    closeSync(fd);
  }
}

function notElf(file: string, why: string): DeployModelError {
  return new DeployModelError('LAYER_BINARY_INVALID', `"${file}" cannot be read as a Linux shared object: ${why}. Reinstall onnxruntime-node.`, {
    details: { file },
  });
}
