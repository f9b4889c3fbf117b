/**
 * `npm run bench`: every benchmark, one after the other, each in its own process (so one's heap,
 * threads and child processes cannot skew the next). Each prints its figures and its ratio as its
 * last line; the summary repeats those lines. `BENCH_QUICK=1` shortens every one of them;
 * `npm run bench -- server cold-start` runs only those; `npm run bench -- gpu-triton` runs the GPU
 * benchmark, which is never part of the default set.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QUICK } from './_lib/stats.js';

const ALL = ['handler', 'local', 'cold-start', 'cold-start-by-size', 'layer-size', 'server', 'synth', 'cli-start', 'web'];
// Run only when named: needs an NVIDIA GPU and tritonserver (test/gpu/README.md).
const ON_REQUEST = ['gpu-triton'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const unknown = chosen.filter((b) => !ALL.includes(b) && !ON_REQUEST.includes(b));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${[...ALL, ...ON_REQUEST].join(', ')}`);
  process.exit(2);
}

function runOne(name: string): Promise<{ last: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(`./${name}.ts`, import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      out += d.toString();
    });
    child.on('exit', (code) => resolve({ last: out.trim().split('\n').pop() ?? '', code }));
  });
}

const started = performance.now();
const results: { name: string; last: string; code: number | null; seconds: number }[] = [];
console.log(`deploy-model benchmarks${QUICK ? ' (BENCH_QUICK)' : ''}, node ${process.version}, ${new Date().toISOString()}\n`);
for (const name of chosen) {
  console.log(`\n=== ${name} ===\n`);
  const t0 = performance.now();
  const r = await runOne(name);
  results.push({ name, ...r, seconds: (performance.now() - t0) / 1000 });
}
console.log(`\n=== summary (${((performance.now() - started) / 60_000).toFixed(1)} min) ===\n`);
for (const r of results) console.log(`${r.name} (${r.seconds.toFixed(0)} s): ${r.code === 0 ? r.last : `FAILED (exit ${r.code})`}`);
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
