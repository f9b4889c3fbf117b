import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'fflate';

/**
 * Extracts a model.tar.gz the way SageMaker does before the container starts (into what becomes
 * /opt/ml/model). Reads ustar with pax `path`/`size` records and GNU long names; refuses entries
 * that would leave the folder. Written apart from the project's packer so that it checks it.
 */
export async function extractModelArchive(archive: Uint8Array, dir: string): Promise<string[]> {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(archive);
  } catch (e) {
    throw new Error(`not a gzip archive (${(e as Error).message})`);
  }
  const files: string[] = [];
  const text = new TextDecoder();
  const field = (block: Uint8Array, at: number, len: number) => text.decode(block.subarray(at, at + len)).replace(/\0.*$/s, '');
  const octal = (block: Uint8Array, at: number, len: number) => parseInt(field(block, at, len).trim() || '0', 8);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    if (field(header, 257, 5) !== 'ustar') throw new Error(`entry at byte ${at} is not a ustar header`);
    const type = String.fromCharCode(header[156] || 0x30);
    const size = pax.size !== undefined ? Number(pax.size) : octal(header, 124, 12);
    const body = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = Object.fromEntries(text.decode(body).split('\n').filter(Boolean).map((r) => {
        const kv = r.slice(r.indexOf(' ') + 1);
        return [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
      }));
      continue;
    }
    if (type === 'L') {
      longName = text.decode(body).replace(/\0.*$/s, '');
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    pax = {};
    longName = undefined;
    const target = path.resolve(dir, name);
    if (target !== path.resolve(dir) && !target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`entry ${name} would leave the model folder`);
    if (type === '5') {
      await mkdir(target, { recursive: true });
    } else if (type === '0') {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, body);
      files.push(name);
    } else {
      throw new Error(`entry ${name} has tar type '${type}'; a model archive holds files and folders only`);
    }
  }
  return files;
}
