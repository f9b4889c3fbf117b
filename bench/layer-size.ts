/**
 * 3. The built onnxruntime-node layer's zip vs the minimum: the zip of only the files needed at
 * run time.
 *
 * "Needed" is observed, not listed: a fresh process requires onnxruntime-node from the full npm
 * package, creates a session and runs it, then reports every module it loaded (require.cache),
 * every native library mapped into it (/proc/self/maps), and the package.json files Node read
 * to resolve them (each package's root and the nearest one above each loaded file). The
 * minimum is those files zipped by Info-ZIP `zip -9` (or, where zip is absent, the smaller of
 * zlib and fflate at level 9 per file). arm64 cannot run here: its minimum is the same files with
 * the arm64 binaries in place of the x64 ones.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { deflateSync as fflateDeflate } from 'fflate';
import { buildOrtLayer, defaultOrtPackageDir, LAYER_DEFLATE, LAYER_NODE_MODULES, type LayerArchitecture } from '../layers/build-layer.js';
import { writeDeterministicZip } from '../src/bundling/zip.js';
import { BENCH_MODELS } from './_lib/models.js';
import { mb, table } from './_lib/stats.js';

// Close to 1, so three decimals.
const ratio = (v: number) => `${v.toFixed(3)}x`;

const TRACER = `'use strict';
const fs = require('node:fs');
const ort = require('onnxruntime-node');
(async () => {
  const s = await ort.InferenceSession.create(process.env.BENCH_MODEL);
  const shape = JSON.parse(process.env.BENCH_SHAPE);
  await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)), shape) });
  const mapped = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5]).filter((p) => p && p.startsWith('/'));
  process.stdout.write(JSON.stringify({ modules: Object.keys(require.cache), mapped: [...new Set(mapped)] }));
})();
`;

/** The package folders a file belongs to, innermost last: …/node_modules/<pkg>. */
function packageRoot(file: string): string | undefined {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const name = parts[at + 1]?.startsWith('@') ? 2 : 1;
  return parts.slice(0, at + 1 + name).join(sep);
}

/** Every package.json Node consults for `file`: the nearest one above it, and its package's root one. */
function packageJsons(file: string, root: string): string[] {
  const out = [join(root, 'package.json')];
  for (let d = dirname(file); d.startsWith(root); d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) { out.push(pj); break; }
    if (d === root) break;
  }
  return out;
}

async function traceNeeded(): Promise<{ files: Map<string, string>; realNodeModules: string }> {
  const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-trace-'));
  try {
    const tracer = join(work, 'trace.cjs');
    await writeFile(tracer, TRACER);
    const ortDir = defaultOrtPackageDir();
    const nodeModules = dirname(ortDir);
    const out = execFileSync(process.execPath, [tracer], {
      env: { PATH: process.env.PATH ?? '', NODE_PATH: nodeModules, BENCH_MODEL: BENCH_MODELS.small.path, BENCH_SHAPE: JSON.stringify(BENCH_MODELS.small.shape) },
      encoding: 'utf8',
    });
    const { modules, mapped } = JSON.parse(out) as { modules: string[]; mapped: string[] };
    const files = new Map<string, string>(); // path in the layer -> file
    for (const file of [...modules, ...mapped]) {
      const root = packageRoot(file);
      if (!root || !file.startsWith(nodeModules)) continue;
      for (const f of [file, ...packageJsons(file, root)]) files.set(`${LAYER_NODE_MODULES}/${relative(nodeModules, f).split(sep).join('/')}`, f);
    }
    return { files, realNodeModules: nodeModules };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function zipMinimum(files: Map<string, string>): Promise<{ bytes: number; how: string }> {
  const haveZip = spawnSync('zip', ['-v'], { stdio: 'ignore' }).status === 0;
  if (haveZip) {
    const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-min-'));
    try {
      for (const [to, from] of files) {
        await mkdir(dirname(join(work, 'stage', to)), { recursive: true });
        await copyFile(from, join(work, 'stage', to));
      }
      execFileSync('zip', ['-9', '-X', '-q', '-r', join(work, 'min.zip'), 'nodejs'], { cwd: join(work, 'stage') });
      return { bytes: (await stat(join(work, 'min.zip'))).size, how: 'Info-ZIP zip -9' };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  // A minimal zip: local header (30) + central header (46) + name twice per entry, and the 22-byte end record.
  let bytes = 22;
  for (const [to, from] of files) {
    const data = await readFile(from);
    const best = Math.min(data.length, deflateRawSync(data, { level: 9, memLevel: 9 }).length, fflateDeflate(data, { level: 9 }).length);
    bytes += 30 + 46 + 2 * Buffer.byteLength(to) + best;
  }
  return { bytes, how: 'min(zlib, fflate) level 9 per file' };
}

const { files: x64Files } = await traceNeeded();
const rows: (string | number)[][] = [['architecture', 'layer files', 'layer zip', 'needed files', 'minimum zip', 'ratio', 'needed files, layer zip writer', 'ratio']];
const ratios: string[] = [];
const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-layer-'));
try {
  for (const architecture of ['x86_64', 'arm64'] as LayerArchitecture[]) {
    const started = performance.now();
    const layer = await buildOrtLayer({ architecture, outDir: join(work, architecture) });
    const buildMs = performance.now() - started;
    const needed = new Map<string, string>();
    for (const [to, from] of x64Files) {
      const arch = architecture === 'arm64' ? (p: string) => p.replace('/linux/x64/', '/linux/arm64/') : (p: string) => p;
      needed.set(arch(to), arch(from));
    }
    const min = await zipMinimum(needed);
    // The same files through the layer's own zip writer: what the file selection alone costs.
    const sameWriter = await writeDeterministicZip([...needed].map(([path, file]) => ({ path, file })), join(work, `${architecture}-needed.zip`), { deflate: LAYER_DEFLATE });
    const extra = layer.files.filter((f) => !needed.has(f));
    rows.push([architecture, layer.files.length, mb(layer.zip.bytes), needed.size, mb(min.bytes), ratio(layer.zip.bytes / min.bytes), mb(sameWriter.bytes), ratio(layer.zip.bytes / sameWriter.bytes)]);
    ratios.push(`${architecture} ${ratio(layer.zip.bytes / min.bytes)}`);
    let extraBytes = 0;
    for (const f of extra) extraBytes += (await stat(join(dirname(defaultOrtPackageDir()), f.slice(LAYER_NODE_MODULES.length + 1)))).size;
    console.log(`${architecture}: layer built in ${(buildMs / 1000).toFixed(1)} s; minimum by ${min.how}; ${extra.length} layer files not loaded at run time (${(extraBytes / 1e3).toFixed(0)} kB unzipped): ${extra.map((f) => f.replace(`${LAYER_NODE_MODULES}/`, '')).join(', ') || 'none'}`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
console.log(`\n${table(rows)}`);
console.log(`\nThe first ratio is against Info-ZIP's zip -9 of the needed files; the second isolates the file selection (the layer's own zip writer, deflate "${LAYER_DEFLATE}" level 9, on both sides).`);
console.log(`\nratio layer/minimum: ${ratios.join('; ')}`);
