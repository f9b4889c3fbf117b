import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bundleHandler, ESM_BANNER, handlerBuildOptions, LAYER_PACKAGES, resolveHandlerEntry,
} from '../../src/bundling/bundle-handler.js';
import { IoHelper, RecordingIoHost } from '../../src/io/io-host.js';
import { packageRoot } from '../../src/package-root.js';
import { REAL_MODELS } from '../_helpers/onnx-models.js';
import { nodeModulesAbove, runNode } from '../layers/_child-node.js';

const FIXTURE = fileURLToPath(new URL('../_fixtures/handler/', import.meta.url));
const ORT_NODE_MODULES = join(packageRoot(), 'node_modules');
const work = await mkdtemp(join(tmpdir(), 'deploy-model-bundle-'));
afterAll(() => rm(work, { recursive: true, force: true }));

describe('handlerBuildOptions', () => {
  it('plans one deterministic ESM file with onnxruntime left to the layer', () => {
    // WHEN
    const options = handlerBuildOptions({
      entry: '/project/handlers/lambda.ts',
      outfile: '/out/function/index.mjs',
      target: 'node20',
      minify: true,
      sourcemap: true,
      workingDir: '/project',
    });

    // THEN
    expect(options).toEqual({
      entryPoints: ['/project/handlers/lambda.ts'],
      outfile: '/out/function/index.mjs',
      absWorkingDir: '/project',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      mainFields: ['module', 'main'],
      external: ['onnxruntime-node', 'onnxruntime-common'],
      plugins: [expect.objectContaining({ name: 'deploy-model:require-from-layer', setup: expect.any(Function) })],
      banner: {
        js: [
          "import { createRequire as __dmCreateRequire } from 'node:module';",
          "import { fileURLToPath as __dmFileURLToPath } from 'node:url';",
          "import { dirname as __dmDirname } from 'node:path';",
          'const require = __dmCreateRequire(import.meta.url);',
          'const __filename = __dmFileURLToPath(import.meta.url);',
          'const __dirname = __dmDirname(__filename);',
        ].join('\n'),
      },
      minify: true,
      sourcemap: true,
      legalComments: 'none',
      charset: 'utf8',
      metafile: false,
      write: true,
      logLevel: 'silent',
    });
  });

  it('defaults to node22, no minification, no source map, paths relative to the package root', () => {
    const options = handlerBuildOptions({ entry: 'h.ts', outfile: 'index.mjs' });
    expect(options).toMatchObject({ target: 'node22', minify: false, sourcemap: false, absWorkingDir: packageRoot(), banner: { js: ESM_BANNER } });
    expect(LAYER_PACKAGES).toEqual(['onnxruntime-node', 'onnxruntime-common']);
  });
});

describe('resolveHandlerEntry', () => {
  it('prefers handlers/lambda-entry.ts, falls back to dist/handlers/lambda-entry.js, and says what it looked for', async () => {
    const root = join(work, 'pkg');
    await mkdir(join(root, 'dist', 'handlers'), { recursive: true });
    await writeFile(join(root, 'dist', 'handlers', 'lambda-entry.js'), 'export const handler = () => 1;');
    expect(resolveHandlerEntry(root)).toBe(join(root, 'dist', 'handlers', 'lambda-entry.js'));
    await mkdir(join(root, 'handlers'), { recursive: true });
    await writeFile(join(root, 'handlers', 'lambda-entry.ts'), 'export const handler = () => 1;');
    expect(resolveHandlerEntry(root)).toBe(join(root, 'handlers', 'lambda-entry.ts'));
    expect(() => resolveHandlerEntry(join(work, 'empty'))).toThrow(expect.objectContaining({ code: 'HANDLER_ENTRY_NOT_FOUND' }));
  });

  it("finds this package's Lambda handler source", () => {
    expect(resolveHandlerEntry()).toBe(join(packageRoot(), 'handlers', 'lambda-entry.ts'));
  });
});

describe('bundleHandler', () => {
  it('bundles the same sources to the same bytes', async () => {
    const a = await bundleHandler({ entry: join(FIXTURE, 'index.ts'), outfile: join(work, 'a', 'index.mjs') });
    const b = await bundleHandler({ entry: join(FIXTURE, 'index.ts'), outfile: join(work, 'b', 'index.mjs'), minify: false });
    expect((await readFile(a.file)).equals(await readFile(b.file))).toBe(true);
    expect(a).toMatchObject({ bytes: (await readFile(a.file)).length, warnings: [] });
    const text = await readFile(a.file, 'utf8');
    // onnxruntime stays out of the bundle and is loaded through require(), which honours NODE_PATH
    expect(text).not.toMatch(/from ["']onnxruntime-node["']/);
    expect(text).toContain('__require("onnxruntime-node")');
    expect(text.startsWith(ESM_BANNER)).toBe(true);
    expect(text).not.toContain(work);
  });

  it('runs in a fresh node outside the project, onnxruntime-node found only through NODE_PATH', async () => {
    // GIVEN the bundle and a model laid out as in the function zip, in a folder with no node_modules above
    const task = await mkdtemp(join(tmpdir(), 'deploy-model-bundle-task-'));
    expect(nodeModulesAbove(task)).toBeUndefined();
    const host = new RecordingIoHost();
    const bundle = await bundleHandler({ entry: join(FIXTURE, 'index.ts'), outfile: join(task, 'index.mjs'), io: new IoHelper(host) });
    await mkdir(join(task, 'model'));
    await copyFile(REAL_MODELS.cls, join(task, 'model', 'model.onnx'));
    await writeFile(join(task, 'model', 'signature.json'), JSON.stringify({ file: 'model/model.onnx', inputs: [{ name: 'x', dtype: 'float32' }] }));

    // WHEN a child node imports index.mjs and calls the handler
    const script = `import(${JSON.stringify(pathToFileURL(bundle.file).href)}).then(async (m) => console.log(JSON.stringify(await m.handler({ dims: [1, 3, 48, 192], fill: 0.25 }))))`
      + '.catch((e) => { console.error(e); process.exit(1); });';
    const run = await runNode(['-e', script], { cwd: task, env: { NODE_PATH: ORT_NODE_MODULES, LAMBDA_TASK_ROOT: task } });

    // THEN it ran the model, CommonJS code found require and __dirname, and ORT came via NODE_PATH
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ input: 'x', outputDims: [1, 2], bundleDir: task, pathSep: '/' });
    expect(out.ortResolvedFrom).toBe(join(ORT_NODE_MODULES, 'onnxruntime-node', 'dist', 'index.js'));
    expect((out.outputValues as number[]).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    expect(host.codes()).toEqual(['DM_BUNDLE_HANDLER']);
    expect(host.messages[0].data).toMatchObject({ bytes: bundle.bytes, file: bundle.file });
    await rm(task, { recursive: true, force: true });
  });

  it('writes a linked source map when asked', async () => {
    const out = join(work, 'map', 'index.mjs');
    const bundle = await bundleHandler({ entry: join(FIXTURE, 'index.ts'), outfile: out, sourcemap: true });
    expect(bundle.map).toBe(`${out}.map`);
    expect(await readFile(out, 'utf8')).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    const map = JSON.parse(await readFile(`${out}.map`, 'utf8')) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith('test/_fixtures/handler/index.ts'))).toBe(true);
  });

  it("bundles this package's Lambda handler", async () => {
    const bundle = await bundleHandler({ outfile: join(work, 'real', 'index.mjs') });
    expect(bundle.warnings).toEqual([]);
    const text = await readFile(bundle.file, 'utf8');
    expect(text).not.toMatch(/from ["']onnxruntime-(node|common)["']/);
    expect(text).toMatch(/export\s*\{[^}]*\bhandler\b/);
  });

  it('reports a syntax error with the file and line', async () => {
    await expect(bundleHandler({ entry: join(FIXTURE, 'broken.ts'), outfile: join(work, 'broken', 'index.mjs') })).rejects.toMatchObject({
      code: 'BUNDLE_FAILED',
      message: expect.stringMatching(/test\/_fixtures\/handler\/broken\.ts:3/),
    });
  });
});
