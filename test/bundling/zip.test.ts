import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { crc32, crc32Portable } from '../../src/bundling/_crc32.js';
import { DOS_EPOCH_DATE, DOS_EPOCH_TIME } from '../../src/bundling/_zip-format.js';
import {
  readZipDirectory, unzip, writeDeterministicZip, zipDirectory, ZIP_CHUNK_BYTES, type ZipResult,
} from '../../src/bundling/zip.js';

const root = await mkdtemp(join(tmpdir(), 'deploy-model-zip-'));
afterAll(() => rm(root, { recursive: true, force: true }));

/** Compressible but not trivially so, and longer than three zip chunks. */
function bigContent(): Buffer {
  const words = ['tensor', 'layer', 'lambda', 'onnx', 'runtime', 'deploy', 'model', 'zip'];
  const parts: string[] = [];
  let seed = 7;
  let length = 0;
  while (length < 3 * ZIP_CHUNK_BYTES + 12345) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = `${words[seed % words.length]}${seed % 97} `;
    parts.push(w);
    length += w.length;
  }
  return Buffer.concat([Buffer.from(parts.join('')), randomBytesFixed(50_000)]);
}

/** Incompressible bytes, the same on every run. */
function randomBytesFixed(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x12345678;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

let n = 0;
async function makeTree(): Promise<string> {
  const dir = join(root, `tree-${n++}`);
  await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
  await writeFile(join(dir, 'b.txt'), 'hello\n');
  await writeFile(join(dir, 'a.json'), '{"a":1}\n');
  await writeFile(join(dir, 'sub', 'big.bin'), bigContent());
  await writeFile(join(dir, 'sub', 'deeper', 'empty'), '');
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(dir, 'run.sh'), 0o755);
  await chmod(join(dir, 'b.txt'), 0o600);
  return dir;
}

/** Written by Node 20.20 and Node 22.23 alike. */
const PINNED_ZLIB_SHA256 = 'e2e0c00356a1b8fc9755717a2dab7f67287f6b92dc5e22a092a08a2605397184';

const zipOf = (dir: string): Promise<ZipResult> => zipDirectory(dir, join(root, `out-${n++}`, 'x.zip'));

describe('writeDeterministicZip / zipDirectory', () => {
  let dir: string;
  let first: ZipResult;
  beforeEach(async () => {
    dir = await makeTree();
    first = await zipOf(dir);
  });

  it('gives the same bytes for the same content, whatever the output path', async () => {
    const again = await zipOf(dir);
    expect(again.sha256).toBe(first.sha256);
    expect(again.bytes).toBe(first.bytes);
    expect((await readFile(again.file)).equals(await readFile(first.file))).toBe(true);
    expect(first).toMatchObject({ entries: 5, bytes: (await stat(first.file)).size });
  });

  it('ignores mtimes, and permission bits other than execute', async () => {
    // GIVEN the same tree copied later, with other timestamps and a different read/write mode
    const later = await makeTree();
    await utimes(join(later, 'b.txt'), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    await utimes(join(later, 'sub', 'big.bin'), 1, 1);
    await chmod(join(later, 'a.json'), 0o640);
    // THEN the zip is byte-identical
    expect((await zipOf(later)).sha256).toBe(first.sha256);
  });

  it('changes when one byte changes, or when a file gains the execute bit', async () => {
    const edited = await makeTree();
    const big = await readFile(join(edited, 'sub', 'big.bin'));
    big[2 * ZIP_CHUNK_BYTES + 5] ^= 1;
    await writeFile(join(edited, 'sub', 'big.bin'), big);
    expect((await zipOf(edited)).sha256).not.toBe(first.sha256);

    const executable = await makeTree();
    await chmod(join(executable, 'a.json'), 0o700);
    expect((await zipOf(executable)).sha256).not.toBe(first.sha256);
  });

  it('sorts entries, stamps the DOS epoch, writes no extra fields and records unix modes', async () => {
    const entries = await readZipDirectory(first.file);
    expect(entries.map((e) => e.name)).toEqual(['a.json', 'b.txt', 'run.sh', 'sub/big.bin', 'sub/deeper/empty']);
    for (const e of entries) {
      expect({ name: e.name, time: e.dosTime, date: e.dosDate, extra: e.extraLength, comment: e.commentLength, madeBy: e.versionMadeBy >> 8 })
        .toEqual({ name: e.name, time: 0, date: (1 << 5) | 1, extra: 0, comment: 0, madeBy: 3 });
    }
    expect(Object.fromEntries(entries.map((e) => [e.name, e.mode]))).toEqual({
      'a.json': 0o644, 'b.txt': 0o644, 'run.sh': 0o755, 'sub/big.bin': 0o644, 'sub/deeper/empty': 0o644,
    });
    expect(entries.find((e) => e.name === 'sub/deeper/empty')).toMatchObject({ method: 0, compressedSize: 0, uncompressedSize: 0 });
    expect(entries.find((e) => e.name === 'sub/big.bin')).toMatchObject({ method: 8 });
    expect(first.unzippedBytes).toBe(entries.reduce((s, e) => s + e.uncompressedSize, 0));
    expect([DOS_EPOCH_DATE, DOS_EPOCH_TIME]).toEqual([0x21, 0]);
  });

  it('writes local headers that agree with the central directory (no data descriptors)', async () => {
    const bytes = await readFile(first.file);
    for (const e of await readZipDirectory(first.file)) {
      const h = bytes.subarray(e.localHeaderOffset, e.localHeaderOffset + 30);
      expect(h.readUInt32LE(0)).toBe(0x04034b50);
      expect({
        flags: h.readUInt16LE(6), method: h.readUInt16LE(8), time: h.readUInt16LE(10), date: h.readUInt16LE(12),
        crc: h.readUInt32LE(14), compressed: h.readUInt32LE(18), uncompressed: h.readUInt32LE(22), extra: h.readUInt16LE(28),
      }).toEqual({
        flags: 0, method: e.method, time: 0, date: 0x21, crc: e.crc, compressed: e.compressedSize, uncompressed: e.uncompressedSize, extra: 0,
      });
    }
  });

  it('is a zip other tools read', async (ctx) => {
    let hasUnzip = true;
    try {
      execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    } catch {
      hasUnzip = false;
    }
    if (!hasUnzip) ctx.skip('the unzip command is not installed');
    const out = execFileSync('unzip', ['-tq', first.file], { encoding: 'utf8' });
    expect(out).toMatch(/No errors detected/);
    const listing = execFileSync('zipinfo', [first.file], { encoding: 'utf8' });
    expect(listing).toMatch(/-rwxr-xr-x .* 80-Jan-01 00:00 run\.sh/);
  });

  it('round-trips through unzip with contents and modes', async () => {
    const dest = join(root, `unzipped-${n++}`);
    const result = await unzip(first.file, dest);
    expect(result.files).toEqual(['a.json', 'b.txt', 'run.sh', 'sub/big.bin', 'sub/deeper/empty']);
    expect(result.bytes).toBe(first.unzippedBytes);
    // Buffer.equals: toEqual walks a 3 MB buffer element by element.
    for (const f of result.files) expect((await readFile(join(dest, f))).equals(await readFile(join(dir, f))), f).toBe(true);
    expect((await stat(join(dest, 'run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dest, 'b.txt'))).mode & 0o777).toBe(0o644);
  });
});

describe('entries from memory', () => {
  it('gives the same bytes as the same content read from a file (chunking does not depend on the source)', async () => {
    const content = bigContent();
    const file = join(root, `mem-${n++}.bin`);
    await writeFile(file, content);
    const fromFile = await writeDeterministicZip([{ path: 'x/y.bin', file }], join(root, `m-${n++}.zip`));
    const fromData = await writeDeterministicZip([{ path: 'x/y.bin', data: content }], join(root, `m-${n++}.zip`));
    expect(fromData.sha256).toBe(fromFile.sha256);
  });

  it('writes strings as UTF-8, sets the UTF-8 flag only for non-ASCII names, and takes modes', async () => {
    const zip = await writeDeterministicZip(
      [
        { path: 'bin\\tool', data: 'x', mode: 0o700 },
        { path: 'modèle/notes.txt', data: 'é' },
      ],
      join(root, `m-${n++}.zip`),
    );
    const entries = await readZipDirectory(zip.file);
    expect(entries.map((e) => [e.name, e.flags, e.mode, e.uncompressedSize])).toEqual([
      ['bin/tool', 0, 0o755, 1],
      ['modèle/notes.txt', 0x0800, 0o644, 2],
    ]);
  });

  it('stores entries uncompressed at level 0', async () => {
    const zip = await writeDeterministicZip([{ path: 'a', data: 'aaaaaaaaaaaaaaaaaaaaaaaa' }], join(root, `m-${n++}.zip`), { level: 0 });
    expect((await readZipDirectory(zip.file))[0]).toMatchObject({ method: 0, compressedSize: 24, uncompressedSize: 24 });
    const dest = join(root, `m-${n++}`);
    await unzip(zip.file, dest);
    expect(await readFile(join(dest, 'a'), 'utf8')).toBe('aaaaaaaaaaaaaaaaaaaaaaaa');
  });
});

describe("deflate: 'zlib'", () => {
  // zlib's level 9 follows long match chains: small inputs keep these tests quick.
  const content = () => Buffer.concat([bigContent().subarray(0, 200_000), randomBytesFixed(20_000)]);

  it('round-trips, gives the same bytes every time, and is smaller than fflate', async () => {
    const entries = [{ path: 'big.bin', data: content() }, { path: 'run.sh', data: '#!/bin/sh\n', mode: 0o755 }];
    const zlib = await writeDeterministicZip(entries, join(root, `out-${n++}`, 'z.zip'), { deflate: 'zlib' });
    const again = await writeDeterministicZip(entries, join(root, `out-${n++}`, 'z.zip'), { deflate: 'zlib' });
    const fflate = await writeDeterministicZip(entries, join(root, `out-${n++}`, 'f.zip'));
    expect(again.sha256).toBe(zlib.sha256);
    expect(zlib.sha256).not.toBe(fflate.sha256);
    expect(zlib.bytes).toBeLessThan(fflate.bytes);
    const out = join(root, `unz-${n++}`);
    await unzip(zlib.file, out);
    expect(await readFile(join(out, 'big.bin'))).toEqual(content());
    expect((await stat(join(out, 'run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('is pinned: these bytes, on every machine and Node release', async () => {
    // pako is plain JavaScript: its output cannot follow the zlib build inside Node. A change of
    // this hash means the deflate changed, and with it every layer's asset hash (bump
    // LAYER_BUILDER_VERSION).
    const z = await writeDeterministicZip([{ path: 'big.bin', data: content() }, { path: 'a.txt', data: 'hello\n' }], join(root, `out-${n++}`, 'p.zip'), { deflate: 'zlib' });
    expect(z.sha256).toBe(PINNED_ZLIB_SHA256);
  });

  it("refuses a deflate that is neither 'fflate' nor 'zlib'", async () => {
    await expect(writeDeterministicZip([{ path: 'a', data: 'a' }], join(root, `out-${n++}`, 'x.zip'), { deflate: 'zopfli' as never })).rejects.toMatchObject({ code: 'ZIP_INVALID_DEFLATE' });
  });
});

describe('refusals', () => {
  it.each([['../escape'], ['/etc/passwd'], ['a//b'], ['a/./b'], ['C:/x'], ['']])('refuses the entry path %j', async (path) => {
    await expect(writeDeterministicZip([{ path, data: 'x' }], join(root, `r-${n++}.zip`))).rejects.toMatchObject({ code: 'ZIP_INVALID_ENTRY' });
  });

  it('refuses two entries with one path', async () => {
    await expect(writeDeterministicZip([{ path: 'a/b', data: '1' }, { path: 'a\\b', data: '2' }], join(root, `r-${n++}.zip`)))
      .rejects.toMatchObject({ code: 'ZIP_DUPLICATE_ENTRY' });
  });

  it('refuses a level outside 0-9 and a missing source, leaving no partial file', async () => {
    const out = join(root, `r-${n++}`, 'x.zip');
    await expect(writeDeterministicZip([{ path: 'a', data: '1' }], out, { level: 10 })).rejects.toMatchObject({ code: 'ZIP_INVALID_LEVEL' });
    await expect(writeDeterministicZip([{ path: 'a', file: join(root, 'nope') }], out)).rejects.toMatchObject({ code: 'ZIP_SOURCE_NOT_FOUND' });
    await expect(stat(out)).rejects.toThrow();
  });

  it('unzip refuses entries that would land outside the destination', async () => {
    const evil = join(root, `evil-${n++}.zip`);
    await writeFile(evil, zipSync({ '../evil.txt': new TextEncoder().encode('x') }));
    await expect(unzip(evil, join(root, `dest-${n++}`))).rejects.toMatchObject({ code: 'ZIP_UNSAFE_PATH' });
  });

  it('unzip reports damaged data as ZIP_CORRUPT', async () => {
    const zip = await writeDeterministicZip([{ path: 'big', data: bigContent() }], join(root, `c-${n++}.zip`));
    const bytes = await readFile(zip.file);
    for (let i = 1000; i < 1200; i++) bytes[i] ^= 0xff;
    await writeFile(zip.file, bytes);
    await expect(unzip(zip.file, join(root, `dest-${n++}`))).rejects.toMatchObject({ code: 'ZIP_CORRUPT' });
  });

  it('unzip reads zips written by other tools (no unix modes: files get 0644)', async () => {
    const other = join(root, `other-${n++}.zip`);
    await writeFile(other, zipSync({ 'd/x.txt': new TextEncoder().encode('hi') }));
    const dest = join(root, `dest-${n++}`);
    await unzip(other, dest);
    expect(await readFile(join(dest, 'd/x.txt'), 'utf8')).toBe('hi');
    expect((await stat(join(dest, 'd/x.txt'))).mode & 0o777).toBe(0o644);
  });
});

describe('crc32', () => {
  it('matches the portable table implementation, also across chunk boundaries', () => {
    const data = randomBytes(100_000);
    expect(crc32(data)).toBe(crc32Portable(data));
    expect(crc32(data.subarray(50_000), crc32(data.subarray(0, 50_000)))).toBe(crc32Portable(data));
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});
