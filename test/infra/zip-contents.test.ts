import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZipContents } from '../../infra/_zip-contents.js';
import { DeployModelError } from '../../src/errors.js';
import { tempDir, writeZip } from './_fixtures.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => { tmp = tempDir(); });
afterAll(() => tmp.cleanup());

describe('readZipContents', () => {
  it('sums uncompressed sizes of deflated and stored entries without inflating them', () => {
    // GIVEN 1 MiB of zeros (deflates to ~1 KB) and a stored file
    const file = path.join(tmp.dir, 'mixed.zip');
    writeFileSync(file, zipSync({ 'zeros.bin': [new Uint8Array(1024 * 1024), { level: 9 }], 'a.txt': [new TextEncoder().encode('hello'), { level: 0 }] }));

    // WHEN
    const contents = readZipContents(file);

    // THEN
    expect(contents.unzippedBytes).toBe(1024 * 1024 + 5);
    expect(contents.names).toEqual(['zeros.bin', 'a.txt']);
  });

  it('reads an archive with a comment', () => {
    const file = writeZip(tmp.dir, 'plain.zip', { 'x/index.mjs': 'export {}' });
    const withComment = path.join(tmp.dir, 'comment.zip');
    const bytes = readFileSync(file);
    // Rewrite the end record's comment length and append a comment.
    const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    bytes.writeUInt16LE(11, eocd + 20);
    writeFileSync(withComment, Buffer.concat([bytes, Buffer.from('hello there')]));
    expect(readZipContents(withComment).names).toEqual(['x/index.mjs']);
  });

  it('names the file and the fix when it is not a zip', () => {
    const file = path.join(tmp.dir, 'not.zip');
    writeFileSync(file, 'just text');
    expect(() => readZipContents(file)).toThrowError(DeployModelError);
    expect(() => readZipContents(file)).toThrowError(/not a readable zip archive/);
    expect(() => readZipContents(path.join(tmp.dir, 'missing.zip'))).toThrowError(/Cannot open zip/);
  });
});
