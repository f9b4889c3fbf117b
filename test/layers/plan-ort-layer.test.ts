import { copyFile, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readElf } from '../../layers/_elf.js';
import { defaultOrtPackageDir, ortLayerUnzippedBytes } from '../../layers/build-layer.js';
import { planOrtLayer } from '../../layers/plan-ort-layer.js';

const ortDir = defaultOrtPackageDir();
const commonDir = join(ortDir, '..', 'onnxruntime-common');
const NM = 'nodejs/node_modules';

/** The onnxruntime-common 1.30 modules its index loads (type-helper.js and tensor-utils.js hold only types). */
const COMMON_MODULES = [
  'backend-impl', 'backend', 'env-impl', 'env', 'index', 'inference-session-impl', 'inference-session', 'onnx-model',
  'onnx-value', 'tensor-conversion-impl', 'tensor-conversion', 'tensor-factory-impl', 'tensor-factory',
  'tensor-impl-type-mapping', 'tensor-impl', 'tensor-utils-impl', 'tensor', 'trace', 'version',
];

function expectedFiles(arch: 'x64' | 'arm64'): string[] {
  return [
    ...['cjs', 'esm'].flatMap((flavour) => [
      ...COMMON_MODULES.map((m) => `${NM}/onnxruntime-common/dist/${flavour}/${m}.js`),
      `${NM}/onnxruntime-common/dist/${flavour}/package.json`,
    ]),
    `${NM}/onnxruntime-common/package.json`,
    `${NM}/onnxruntime-node/bin/napi-v6/linux/${arch}/libonnxruntime.so.1`,
    `${NM}/onnxruntime-node/bin/napi-v6/linux/${arch}/onnxruntime_binding.node`,
    ...['backend', 'binding', 'index', 'version'].map((m) => `${NM}/onnxruntime-node/dist/${m}.js`),
    `${NM}/onnxruntime-node/package.json`,
  ].sort();
}

describe('planOrtLayer', () => {
  it('x86_64: exactly the files require() and import of onnxruntime-node load on linux/x64', () => {
    const plan = planOrtLayer(ortDir, 'x86_64');
    expect(plan.map((f) => f.to)).toEqual(expectedFiles('x64'));
    expect(plan).toContainEqual({ from: join(ortDir, 'dist', 'binding.js'), to: `${NM}/onnxruntime-node/dist/binding.js` });
    expect(plan).toContainEqual({ from: join(commonDir, 'dist', 'cjs', 'package.json'), to: `${NM}/onnxruntime-common/dist/cjs/package.json` });
  });

  it('arm64: the arm64 binaries and the same JavaScript', () => {
    const x64 = planOrtLayer(ortDir, 'x86_64').map((f) => f.to);
    const arm = planOrtLayer(ortDir, 'arm64').map((f) => f.to);
    expect(arm).toEqual(expectedFiles('arm64'));
    expect(arm.filter((f) => !f.includes('/bin/'))).toEqual(x64.filter((f) => !f.includes('/bin/')));
    expect(arm.filter((f) => /x64|darwin|win32/.test(f))).toEqual([]);
  });

  it('leaves out types, maps, sources, docs, install scripts and the install-only dependencies', () => {
    const all = [...planOrtLayer(ortDir, 'x86_64'), ...planOrtLayer(ortDir, 'arm64')].map((f) => f.to);
    expect(all.filter((f) => /\.d\.ts$|\.map$|\.ts$|README|\/script\/|\/lib\/|adm-zip|global-agent|\.dll$|\.dylib$/.test(f))).toEqual([]);
  });

  it('the plan is sorted and its sources exist inside the two packages', () => {
    const plan = planOrtLayer(ortDir, 'arm64');
    expect(plan.map((f) => f.to)).toEqual([...plan.map((f) => f.to)].sort());
    for (const f of plan) expect(f.from.startsWith(ortDir) || f.from.startsWith(commonDir)).toBe(true);
  });

  it('ortLayerUnzippedBytes adds up the planned files without zipping (x64 above 40 MB, arm64 above 20 MB)', async () => {
    expect(await ortLayerUnzippedBytes('x86_64')).toBeGreaterThan(40e6);
    expect(await ortLayerUnzippedBytes('arm64')).toBeGreaterThan(20e6);
    expect(await ortLayerUnzippedBytes('arm64')).toBeLessThan(await ortLayerUnzippedBytes('x86_64'));
  });

  it('refuses an architecture Lambda does not have', () => {
    expect(() => planOrtLayer(ortDir, 'ppc64' as 'arm64')).toThrow(expect.objectContaining({ code: 'LAYER_INVALID_ARCHITECTURE' }));
  });
});

describe('planOrtLayer on a damaged package', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  /** A copy of onnxruntime-node's JavaScript, with onnxruntime-common beside it and only the linux/x64 binding. */
  async function fakePackage(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'deploy-model-fake-ort-'));
    dirs.push(root);
    const pkg = join(root, 'node_modules', 'onnxruntime-node');
    await mkdir(join(pkg, 'bin', 'napi-v6', 'linux', 'x64'), { recursive: true });
    await copyFile(join(ortDir, 'package.json'), join(pkg, 'package.json'));
    await cp(join(ortDir, 'dist'), join(pkg, 'dist'), { recursive: true });
    await symlink(commonDir, join(root, 'node_modules', 'onnxruntime-common'));
    for (const f of ['onnxruntime_binding.node', 'libonnxruntime.so.1']) {
      await symlink(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', f), join(pkg, 'bin', 'napi-v6', 'linux', 'x64', f));
    }
    return pkg;
  }

  it('names the missing binding when the package lacks the architecture', async () => {
    const pkg = await fakePackage();
    expect(planOrtLayer(pkg, 'x86_64').map((f) => f.to)).toEqual(expectedFiles('x64'));
    expect(() => planOrtLayer(pkg, 'arm64')).toThrow(expect.objectContaining({
      code: 'LAYER_FILE_MISSING',
      message: expect.stringContaining('napi-v6/linux/arm64/onnxruntime_binding.node'),
    }));
  });

  it('refuses a binding built for the other architecture', async () => {
    const pkg = await fakePackage();
    await mkdir(join(pkg, 'bin', 'napi-v6', 'linux', 'arm64'), { recursive: true });
    await symlink(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'), join(pkg, 'bin', 'napi-v6', 'linux', 'arm64', 'onnxruntime_binding.node'));
    expect(() => planOrtLayer(pkg, 'arm64')).toThrow(expect.objectContaining({ code: 'LAYER_BINARY_WRONG_ARCH' }));
  });

  it('leaves out provider libraries an install downloaded beside the binding (CUDA, TensorRT)', async () => {
    const pkg = await fakePackage();
    const bin = join(pkg, 'bin', 'napi-v6', 'linux', 'x64');
    for (const f of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) await copyFile(join(ortDir, 'package.json'), join(bin, f));
    expect(planOrtLayer(pkg, 'x86_64').map((f) => f.to)).toEqual(expectedFiles('x64'));
  });

  it('reports a missing dependency', async () => {
    const pkg = await fakePackage();
    await rm(join(pkg, '..', 'onnxruntime-common'));
    expect(() => planOrtLayer(pkg, 'x86_64')).toThrow(expect.objectContaining({ code: 'LAYER_DEPENDENCY_MISSING' }));
  });
});

describe('readElf', () => {
  it('reads the machine, the needed libraries and the runpath of the binding', () => {
    const x64 = readElf(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'));
    expect(x64.machine).toBe(62);
    expect(x64.needed).toContain('libonnxruntime.so.1');
    expect(x64.runpath.some((p) => p.startsWith('$ORIGIN'))).toBe(true);
    expect(readElf(join(ortDir, 'bin', 'napi-v6', 'linux', 'arm64', 'libonnxruntime.so.1')).machine).toBe(183);
  });

  it('refuses a file that is not ELF', () => {
    expect(() => readElf(join(ortDir, 'package.json'))).toThrow(expect.objectContaining({ code: 'LAYER_BINARY_INVALID' }));
  });
});
