import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordingIoHost, IoHelper } from '../../../src/io/io-host.js';
import { parsePbtxt } from '../../../src/kits/triton/_pbtxt-parse.js';
import {
  buildTritonRepository, engineCacheLocation, packTritonRepository, planTritonConfig, tritonOptionsSchema,
  type TritonHost, type TritonOptionsInput,
} from '../../../src/kits/triton/index.js';
import { MODELS, signatureOf, type ModelKey } from './_models.js';

const work = mkdtempSync(join(tmpdir(), 'triton-repo-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

async function build(key: ModelKey, outDir: string, opts: TritonOptionsInput = {}, host: TritonHost = 'aws-sagemaker', table?: string, io?: IoHelper) {
  const signature = await signatureOf(key);
  const options = tritonOptionsSchema.parse(opts);
  const modelName = key.replace('_', '-');
  const config = planTritonConfig({ signature, modelName, host, options });
  const cache = engineCacheLocation(host, modelName, options);
  return buildTritonRepository({ signature, config, outDir, engineCacheDir: cache.repositoryDir, int8CalibrationTable: table, io });
}

describe('buildTritonRepository', () => {
  it('writes config.pbtxt, a copy of the model as 1/model.onnx and the engine cache folder', async () => {
    // GIVEN the real cls model
    const out = join(work, 'layout');
    const io = new RecordingIoHost();

    // WHEN its repository is built for SageMaker
    const repo = await build('cls', out, {}, 'aws-sagemaker', undefined, new IoHelper(io));

    // THEN the layout is what Triton reads, and the model is byte-identical to the source
    expect(repo.files).toEqual(['cls/1/model.onnx', 'cls/config.pbtxt']);
    expect(await sha256(join(out, 'cls/1/model.onnx'))).toBe((await signatureOf('cls')).sha256);
    expect((await stat(join(out, 'cls/trt_engine_cache'))).isDirectory()).toBe(true);
    const config = parsePbtxt(await readFile(join(out, 'cls/config.pbtxt'), 'utf8'));
    expect(config.name).toBe('cls');
    expect(io.codes()).toEqual(['DM_TRITON_REPOSITORY']);
  });

  it('ships the INT8 calibration table into the engine cache folder, where the TensorRT provider reads it', async () => {
    const out = join(work, 'int8');
    const table = join(work, 'calibration.flatbuffers');
    await writeFile(table, 'TRT-8601-EntropyCalibration2\nx: 3c010a14\n');
    const repo = await build('cls', out, { precision: 'int8', int8Calibration: { table } }, 'container', table);
    expect(repo.files).toContain('cls/trt_engine_cache/calibration.flatbuffers');
    const params = parsePbtxt(await readFile(join(out, 'cls/config.pbtxt'), 'utf8')).optimization!.execution_accelerators!.gpu_execution_accelerator![0].parameters!;
    expect(params.trt_engine_cache_path).toBe('/models/cls/trt_engine_cache');
    expect(params.int8_calibration_table_name).toBe('calibration.flatbuffers');
  });

  it('warns when the table cannot be shipped because the cache lies outside the repository', async () => {
    const io = new RecordingIoHost();
    const table = join(work, 'outside.table');
    await writeFile(table, 'x');
    const repo = await build('cls', join(work, 'outside'), { precision: 'int8', int8Calibration: { table }, engineCachePath: '/mnt/engines' }, 'gcp-vertex', table, new IoHelper(io));
    expect(repo.files).toEqual(['cls/1/model.onnx', 'cls/config.pbtxt']);
    expect(io.codes()).toEqual(['DM_TRITON_INT8_TABLE_NOT_SHIPPED', 'DM_TRITON_REPOSITORY']);
  });

  it('copies external data files next to model.onnx and replaces what an earlier build left', async () => {
    // GIVEN a model whose weights live in external files (the builder copies, it does not parse)
    const src = join(work, 'ext-src');
    await mkdir(join(src, 'weights'), { recursive: true });
    await writeFile(join(src, 'model.onnx'), await readFile(MODELS.hello_deepa));
    await writeFile(join(src, 'weights/w0.bin'), Buffer.alloc(1000, 7));
    const signature = { ...(await signatureOf('hello_deepa')), file: join(src, 'model.onnx'), externalData: ['weights/w0.bin'] };
    const config = planTritonConfig({ signature, modelName: 'ext', host: 'container', options: tritonOptionsSchema.parse({ engine: 'onnxruntime' }) });
    const out = join(work, 'ext');
    await mkdir(join(out, 'ext/1'), { recursive: true });
    await writeFile(join(out, 'ext/1/stale.bin'), 'old');

    // WHEN built
    const repo = await buildTritonRepository({ signature, config, outDir: out });

    // THEN external data keeps its relative path, and the stale file is gone
    expect(repo.files).toEqual(['ext/1/model.onnx', 'ext/1/weights/w0.bin', 'ext/config.pbtxt']);
    await expect(stat(join(out, 'ext/1/stale.bin'))).rejects.toThrow();
  });

  it('refuses external data paths that leave the model folder', async () => {
    const signature = { ...(await signatureOf('hello_deepa')), externalData: ['../../etc/passwd'] };
    const config = planTritonConfig({ signature, modelName: 'evil', host: 'container', options: tritonOptionsSchema.parse({}) });
    await expect(buildTritonRepository({ signature, config, outDir: join(work, 'evil') })).rejects.toMatchObject({ code: 'TRITON_REPOSITORY_PATH' });
  });
});

describe('packTritonRepository', () => {
  it('packs the same content into the same bytes, whatever the build time or file times', async () => {
    // GIVEN the same model built twice, at different times, with different file mtimes
    const a = await build('cls', join(work, 'cls-a'));
    await new Promise((r) => setTimeout(r, 1100));
    const b = await build('cls', join(work, 'cls-b'));
    await utimes(join(b.modelDir, 'config.pbtxt'), new Date('2001-02-03'), new Date('2001-02-03'));

    // WHEN each is packed
    const packedA = await packTritonRepository(a.root, join(work, 'cls-a.tar.gz'));
    const packedB = await packTritonRepository(b.root, join(work, 'cls-b.tar.gz'));

    // THEN the archives are identical, and the reported hash is the file's
    expect(packedA.sha256).toBe(packedB.sha256);
    expect(await sha256(packedA.file)).toBe(packedA.sha256);
    expect(packedA.bytes).toBe((await stat(packedA.file)).size);
    expect(packedA.entries).toEqual(['cls/', 'cls/1/', 'cls/1/model.onnx', 'cls/config.pbtxt', 'cls/trt_engine_cache/']);
  });

  it('changes the hash when the content changes', async () => {
    const repo = await build('cls', join(work, 'cls-change'));
    const before = await packTritonRepository(repo.root, join(work, 'cls-1.tar.gz'));
    await writeFile(join(repo.modelDir, 'config.pbtxt'), `${await readFile(join(repo.modelDir, 'config.pbtxt'), 'utf8')}# edited\n`);
    const after = await packTritonRepository(repo.root, join(work, 'cls-2.tar.gz'));
    expect(after.sha256).not.toBe(before.sha256);
  });

  it('is read by the system tar with the repository at the root, zero owners and times, fixed modes', async () => {
    const repo = await build('silero', join(work, 'silero-tar'), { warmup: false });
    const packed = await packTritonRepository(repo.root, join(work, 'silero.tar.gz'));

    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', packed.file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const rows = listing.trim().split('\n').map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[5])).toEqual(['silero/', 'silero/1/', 'silero/1/model.onnx', 'silero/config.pbtxt', 'silero/trt_engine_cache/']);
    expect(rows.map((r) => r[0])).toEqual(['drwxr-xr-x', 'drwxr-xr-x', '-rw-r--r--', '-rw-r--r--', 'drwxr-xr-x']);
    for (const r of rows) {
      expect(r[1]).toBe('0/0');
      expect(`${r[3]} ${r[4]}`).toBe('1970-01-01 00:00:00');
    }

    const extracted = join(work, 'silero-extracted');
    await mkdir(extracted);
    execFileSync('tar', ['-xzf', packed.file, '-C', extracted]);
    expect(await sha256(join(extracted, 'silero/1/model.onnx'))).toBe((await signatureOf('silero')).sha256);
    expect(await readFile(join(extracted, 'silero/config.pbtxt'), 'utf8')).toBe(await readFile(join(repo.modelDir, 'config.pbtxt'), 'utf8'));
  });

  it('writes a gzip header without name or time, and a tar that ends on a 10 KiB record', async () => {
    const repo = await build('hello_deepa', join(work, 'gz'));
    const packed = await packTritonRepository(repo.root, join(work, 'gz.tar.gz'));
    const gz = await readFile(packed.file);
    expect([...gz.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]); // magic, deflate, no FNAME/FCOMMENT/FEXTRA
    expect(gz.readUInt32LE(4)).toBe(0); // MTIME
    expect(gz[9]).toBe(3); // OS: Unix, whatever machine packed it
    expect(gunzipSync(gz).length % 10240).toBe(0);
  });

  it('keeps names longer than ustar fields (prefix split and pax), as the system tar reads them', async () => {
    const root = join(work, 'long');
    const deep = `${'d'.repeat(90)}/${'e'.repeat(60)}`;
    const longFile = `${'f'.repeat(120)}.bin`;
    await mkdir(join(root, 'm', deep), { recursive: true });
    await writeFile(join(root, 'm', deep, 'weights.bin'), 'prefix split');
    await writeFile(join(root, 'm', longFile), 'needs pax');
    const packed = await packTritonRepository(root, join(work, 'long.tar.gz'));

    const listed = execFileSync('tar', ['-tzf', packed.file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(packed.entries);
    expect(listed).toContain(`m/${deep}/weights.bin`);
    expect(listed).toContain(`m/${longFile}`);
    const extracted = join(work, 'long-extracted');
    await mkdir(extracted);
    execFileSync('tar', ['-xzf', packed.file, '-C', extracted]);
    expect(await readFile(join(extracted, 'm', longFile), 'utf8')).toBe('needs pax');
    expect(await readFile(join(extracted, 'm', deep, 'weights.bin'), 'utf8')).toBe('prefix split');
  });

  it('refuses symbolic links, whose target would not travel with the archive', async () => {
    const root = join(work, 'links');
    await mkdir(join(root, 'm/1'), { recursive: true });
    await symlink(MODELS.cls, join(root, 'm/1/model.onnx'));
    await expect(packTritonRepository(root, join(work, 'links.tar.gz'))).rejects.toMatchObject({ code: 'TRITON_PACK_UNSUPPORTED_FILE' });
    await expect(stat(join(work, 'links.tar.gz.partial'))).rejects.toThrow();
  });

  it('excludes the archive itself when it is written inside the folder it packs', async () => {
    const repo = await build('hello_deepa', join(work, 'self'));
    const first = await packTritonRepository(repo.root, join(repo.root, 'model.tar.gz'));
    const second = await packTritonRepository(repo.root, join(repo.root, 'model.tar.gz'));
    expect(second.sha256).toBe(first.sha256);
    expect(second.entries).not.toContain('model.tar.gz');
  });
});
