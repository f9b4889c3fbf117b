import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { layoutFunction } from '../../src/lambda-emulator/layout-function.js';
import { REPO, fixture, greetingLayerZip, tempDir, zipFixture } from './_support.js';

describe('layoutFunction', () => {
  it('unzips the code into task/, merges layers into opt/ in order and writes a runnable bootstrap', async () => {
    // GIVEN function code as a zip, a zip layer (with an executable) and a folder layer that overrides a file
    const dir = await tempDir();
    const codeZip = await zipFixture('echo', dir);
    const layer1 = await greetingLayerZip(dir, [
      { path: 'shared.txt', data: 'first layer' },
      { path: 'bin/tool', data: '#!/bin/sh\necho tool\n', mode: 0o755 },
    ]);
    const layer2 = path.join(dir, 'layer2');
    await mkdir(layer2, { recursive: true });
    await writeFile(path.join(layer2, 'shared.txt'), 'second layer');

    // WHEN it is laid out
    const layout = await layoutFunction({ codeZip, layers: [layer1, layer2], workDir: path.join(dir, 'fn') });

    // THEN the folders are where Lambda puts them
    expect(layout.taskRoot).toBe(path.join(dir, 'fn', 'task'));
    expect(await readFile(path.join(layout.taskRoot, 'index.mjs'), 'utf8')).toContain('export const handler');
    expect(existsSync(path.join(layout.optDir, 'nodejs/node_modules/layer-greeting/index.js'))).toBe(true);
    expect(await readFile(path.join(layout.optDir, 'shared.txt'), 'utf8')).toBe('second layer');
    expect((await stat(path.join(layout.optDir, 'bin/tool'))).mode & 0o111).not.toBe(0);
    // AND the bootstrap is plain JavaScript that node accepts without a loader
    expect(layout.bootstrap).toBe(path.join(layout.runtimeDir, 'bootstrap.mjs'));
    expect(() => execFileSync(process.execPath, ['--check', layout.bootstrap])).not.toThrow();
    expect(await readFile(layout.bootstrap, 'utf8')).toContain('/invocation/next');
  });

  it('copies a code folder and replaces an earlier layout', async () => {
    const dir = await tempDir();
    const workDir = path.join(dir, 'fn');
    await layoutFunction({ codeDir: fixture('echo'), workDir });
    await writeFile(path.join(workDir, 'task', 'stale.txt'), 'left over');

    const layout = await layoutFunction({ codeDir: fixture('sleeps'), workDir });

    expect(existsSync(path.join(layout.taskRoot, 'stale.txt'))).toBe(false);
    expect(await readFile(path.join(layout.taskRoot, 'index.mjs'), 'utf8')).toContain('sleeps');
  });

  it('refuses a work folder below a node_modules, where the handler could load packages Lambda lacks', async () => {
    await expect(layoutFunction({ codeDir: fixture('echo'), workDir: path.join(REPO, 'test', 'local', 'never-created') }))
      .rejects.toMatchObject({ code: 'LOCAL_WORKDIR_UNSAFE' });
  });

  it('names missing code and the fix', async () => {
    const dir = await tempDir();
    await expect(layoutFunction({ codeZip: path.join(dir, 'nope.zip'), workDir: path.join(dir, 'fn') }))
      .rejects.toMatchObject({ code: 'LOCAL_CODE_NOT_FOUND', message: expect.stringContaining('nope.zip') });
    await expect(layoutFunction({ workDir: path.join(dir, 'fn') }))
      .rejects.toMatchObject({ code: 'LOCAL_CODE_MISSING' });
  });
});
