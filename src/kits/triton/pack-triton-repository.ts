// Packs a Triton model repository into a reproducible model.tar.gz.
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Gzip } from 'fflate';
import { DeployModelError } from '../../errors.js';
import { entryHeader, padding, trailer, type TarEntry } from './_tar.js';

/** Files are read and compressed in blocks of this size, so memory stays flat for large models. */
const CHUNK = 1024 * 1024;

export interface PackedRepository {
  file: string;
  bytes: number;
  sha256: string;
  /** Archive paths in order. */
  entries: string[];
}

/**
 * Packs a model repository folder into a reproducible `model.tar.gz`: the same files give the
 * same bytes, hence the same sha256 and the same CDK asset hash, on any machine.
 *
 * The archive holds the repository's contents at its root (`<model>/config.pbtxt`,
 * `<model>/1/model.onnx`), which is what SageMaker's Triton images expect: SageMaker extracts the
 * archive into /opt/ml/model, the image's `serve` script starts Triton with
 * `--model-repository=/opt/ml/model --load-model=$SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`, and refuses
 * to start when config.pbtxt lies directly in /opt/ml/model. So the SageMaker Model must set
 * `SAGEMAKER_TRITON_DEFAULT_MODEL_NAME` to the model's folder name (without it, the script only
 * guesses when the archive holds exactly one folder).
 *
 * Entries come depth first, names sorted by their bytes, folders before their contents; mtime 0, uid/gid 0, empty owner
 * names, mode 0755 for folders and 0644 for files. Gzip comes from fflate, pinned by the lockfile,
 * rather than the zlib Node was built with, whose output may change between Node releases; its
 * header has mtime 0, no file name and a fixed OS byte. Level 9.
 */
export async function packTritonRepository(repoDir: string, outFile: string): Promise<PackedRepository> {
  const root = resolve(repoDir);
  const out = resolve(outFile);
  const entries = await listEntries(root, out);
  await mkdir(dirname(out), { recursive: true });

  // Written beside the target and renamed, so a failed pack never leaves a half archive behind.
  const tmp = `${out}.partial`;
  const fh = await open(tmp, 'w');
  const hash = createHash('sha256');
  let bytes = 0;
  let pending: Uint8Array[] = [];
  const gzip = new Gzip({ level: 9, mtime: 0 }, (chunk) => { pending.push(chunk); });
  const flush = async () => {
    for (const chunk of pending) {
      hash.update(chunk);
      bytes += chunk.length;
      await fh.write(chunk);
    }
    pending = [];
  };
  // Tar bytes go to gzip in fixed-size blocks whatever the file boundaries, so the compressor
  // sees the same pushes for the same content.
  const block = new Uint8Array(CHUNK);
  let filled = 0;
  let tarBytes = 0;
  const write = async (data: Uint8Array) => {
    tarBytes += data.length;
    let at = 0;
    while (at < data.length) {
      const n = Math.min(CHUNK - filled, data.length - at);
      block.set(data.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === CHUNK) {
        gzip.push(block.slice());
        filled = 0;
        await flush();
      }
    }
  };

  try {
    for (const entry of entries) {
      await write(entryHeader(entry));
      if (entry.type === 'file') {
        await copyFileInto(join(root, entry.path), entry.size, write);
        await write(new Uint8Array(padding(entry.size)));
      }
    }
    await write(trailer(tarBytes));
    gzip.push(block.slice(0, filled), true);
    await flush();
    await fh.close();
    await rename(tmp, out);
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  return { file: out, bytes, sha256: hash.digest('hex'), entries: entries.map((e) => e.path) };
}

async function copyFileInto(file: string, size: number, write: (data: Uint8Array) => Promise<void>): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(CHUNK);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, size - done), done);
      if (bytesRead === 0) throw new DeployModelError('TRITON_PACK_CHANGED', `${file} became shorter while it was being packed. Re-run the build.`, { details: { file } });
      await write(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** Every folder and file under `root`, depth first, names in byte order (independent of locale and file system). */
async function listEntries(root: string, exclude: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const walk = async (dir: string, prefix: string) => {
    const names = (await readdir(dir)).sort(compareBytes);
    for (const name of names) {
      const full = join(dir, name);
      if (full === exclude || full === `${exclude}.partial`) continue;
      const info = await lstat(full);
      if (info.isDirectory()) {
        entries.push({ path: `${prefix}${name}/`, type: 'dir', size: 0 });
        await walk(full, `${prefix}${name}/`);
      } else if (info.isFile()) {
        entries.push({ path: `${prefix}${name}`, type: 'file', size: info.size });
      } else {
        throw new DeployModelError('TRITON_PACK_UNSUPPORTED_FILE',
          `${full} is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file or folder'}; the model archive holds only files and folders. Replace it with a copy of the file.`,
          { details: { file: full } });
      }
    }
  };
  try {
    await walk(root, '');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && entries.length === 0) {
      throw new DeployModelError('TRITON_PACK_NOT_FOUND', `Model repository ${root} does not exist. Build it first with buildTritonRepository.`, { cause: e, details: { dir: root } });
    }
    throw e;
  }
  return entries;
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
