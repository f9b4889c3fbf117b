/** What an image ships: saved as a docker-archive, its layers read for the native files and their ELF machine. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeployModelError } from '../../errors.js';
import { runOrThrow } from './_exec.js';
import type { Builder, Platform } from './builders.js';
import { elfMachine, elfReport, isNativeFileName, type ElfReport, type NativeFile } from './elf-machine.js';

/** Saves one image as a docker-archive tar (uncompressed layers) with the builder. */
export function planSave(builder: Builder, ref: string, file: string): string[] {
  if (builder.name === 'buildah') return ['buildah', 'push', ref, `docker-archive:${file}:${ref}`];
  if (builder.name === 'podman') return ['podman', 'save', '--format', 'docker-archive', '--output', file, ref];
  return ['docker', 'save', '--output', file, ref];
}

interface TarEntry {
  path: string;
  type: string;
  /** Offset of the data in the file. */
  offset: number;
  size: number;
}

/** Reads tar headers (ustar, pax `path`, GNU long names) from `fd` between `start` and `end`, skipping data. */
function* tarEntries(fd: number, start: number, end: number): Generator<TarEntry> {
  let at = start;
  let longName: string | undefined;
  const header = Buffer.alloc(512);
  while (at + 512 <= end) {
    if (readSync(fd, header, 0, 512, at) !== 512) return;
    if (header.every((b) => b === 0)) return;
    const str = (from: number, len: number) => header.toString('utf8', from, from + len).replace(/\0.*$/s, '');
    const size = tarSize(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 48);
    const prefix = str(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    const offset = at + 512;
    at = offset + Math.ceil(size / 512) * 512;
    if (type === 'L' || type === 'x') {
      const data = Buffer.alloc(size);
      readSync(fd, data, 0, size, offset);
      longName = type === 'L' ? data.toString('utf8').replace(/\0.*$/s, '') : /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      continue;
    }
    if (type === 'g') continue;
    longName = undefined;
    yield { path: name.replace(/^\.?\//, ''), type, offset, size };
  }
}

/** A tar size field: octal text, or base-256 when its first byte has the high bit set. */
function tarSize(field: Buffer): number {
  if (field[0]! & 0x80) return Number(field.subarray(1).reduce((n, b) => n * 256n + BigInt(b), 0n));
  return parseInt(field.toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
}

/**
 * The native files an image ships (the last layer that writes a path wins; whiteouts remove it),
 * each with its ELF machine, read from a docker-archive: `manifest.json` names the layers in order.
 */
export function nativeFilesOfArchive(file: string): NativeFile[] {
  const fd = openSync(file, 'r');
  try {
    const { size } = fstatSync(fd);
    const outer = [...tarEntries(fd, 0, size)];
    const manifestEntry = outer.find((e) => e.path === 'manifest.json');
    if (!manifestEntry) throw new DeployModelError('CONTAINER_INSPECT_FAILED', `${file} is not a docker-archive: it has no manifest.json.`, { kind: 'internal' });
    const manifestBytes = Buffer.alloc(manifestEntry.size);
    readSync(fd, manifestBytes, 0, manifestEntry.size, manifestEntry.offset);
    const layers = (JSON.parse(manifestBytes.toString('utf8')) as Array<{ Layers: string[] }>)[0]?.Layers ?? [];
    const found = new Map<string, NativeFile>();
    for (const layer of layers) {
      const entry = outer.find((e) => e.path === layer);
      if (!entry) continue;
      for (const e of tarEntries(fd, entry.offset, entry.offset + entry.size)) {
        const base = e.path.split('/').pop() ?? '';
        if (base.startsWith('.wh.')) {
          const dir = e.path.slice(0, e.path.length - base.length);
          if (base === '.wh..wh..opq') for (const k of [...found.keys()]) { if (k.startsWith(dir)) found.delete(k); }
          else found.delete(dir + base.slice(4));
          continue;
        }
        if ((e.type !== '0' && e.type !== '\0') || !isNativeFileName(e.path) || e.size < 20) continue;
        const head = Buffer.alloc(20);
        readSync(fd, head, 0, 20, e.offset);
        const machine = elfMachine(head);
        if (machine !== undefined) found.set(e.path, { path: `/${e.path}`, machine });
      }
    }
    return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  } finally {
    closeSync(fd);
  }
}

/** Saves the image and reports the machine of every native file it ships against the platform. */
export async function inspectImageNativeFiles(builder: Builder, ref: string, platform: Platform): Promise<ElfReport> {
  const dir = await mkdtemp(join(tmpdir(), 'deploy-model-image-'));
  try {
    const file = join(dir, 'image.tar');
    await runOrThrow(planSave(builder, ref, file), `Saving ${ref} to read its files`, { timeoutMs: 10 * 60_000 });
    return elfReport(platform, nativeFilesOfArchive(file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
