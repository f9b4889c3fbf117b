/**
 * 5. `deploy-model synth` of the aws-lambda target (synthLambdaTarget, the stack with cdk-nag as
 * the CLI runs it, and without) vs a hand-written aws-cdk-lib app with the same resources
 * (bench/cdk/hand-written-app.ts). Both get the same prebuilt function and layer zips, and both
 * synthesise with aws-cdk-lib's built-in CloudFormation validation off (deploy-model's default).
 *
 * Cold: a fresh process per synth (module loading included, as on a laptop or in CI), the sides
 * alternating. Warm: repeated synths in one process. Then, for scale, one whole
 * `deploy-model synth --target lambda` (config load, model inspection, handler bundle, cached layer).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildOrtLayer } from '../layers/build-layer.js';
import { buildFunctionArtifact } from '../src/bundling/build-function-artifact.js';
import { inspectModel } from '../src/model/inspect-model.js';
import { BENCH_MODELS } from './_lib/models.js';
import { median, ms, QUICK, ratio, table } from './_lib/stats.js';

const ROUNDS = QUICK ? 2 : 5;
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./_lib/synth-child.ts', import.meta.url));

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-synth-'));
try {
  const model = BENCH_MODELS.small;
  const signature = await inspectModel(model.path);
  const fn = await buildFunctionArtifact({ modelPath: model.path, signature, outDir: join(work, 'function') });
  // The layer goes into the cache the CLI run below reads, so that run reuses it as a second deploy would.
  const layer = await buildOrtLayer({ architecture: 'x86_64', outDir: join(work, 'layer'), cacheDir: join(work, 'cache', 'deploy-model', 'layers') });
  const args = JSON.stringify({ functionZip: fn.zip.file, layerZip: layer.zip.file, modelPath: model.path, modelBytes: signature.bytes, rounds: QUICK ? 4 : 10 });

  const fresh = async (side: 'ours' | 'oursNoNag' | 'hand') => {
    const t0 = performance.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', child, side, args], { cwd: root, maxBuffer: 1 << 24 });
    return { wall: performance.now() - t0, ...(JSON.parse(stdout) as { imports: number; synth: number; total: number }) };
  };
  // Warm tsx's transform cache so neither side pays for compiling TypeScript.
  await fresh('ours');
  await fresh('hand');
  const cold = { ours: [] as Awaited<ReturnType<typeof fresh>>[], oursNoNag: [] as Awaited<ReturnType<typeof fresh>>[], hand: [] as Awaited<ReturnType<typeof fresh>>[] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of (r % 2 ? ['hand', 'oursNoNag', 'ours'] : ['ours', 'oursNoNag', 'hand']) as (keyof typeof cold)[]) cold[side].push(await fresh(side));
  }
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, 'warm', args], { cwd: root, maxBuffer: 1 << 24 });
  const warm = JSON.parse(stdout) as Record<'ours' | 'oursNoNag' | 'hand', number[]>;

  const m = (side: keyof typeof cold, k: 'wall' | 'imports' | 'synth') => median(cold[side].map((x) => x[k]));
  console.log(`Synth of the aws-lambda stack, ${ROUNDS} alternating fresh processes per side and ${warm.ours.length} warm synths, medians\n`);
  console.log(table([
    ['', 'process wall', 'imports', 'synth', 'warm synth'],
    ['deploy-model (synthLambdaTarget + cdk-nag)', ms(m('ours', 'wall'), 0), ms(m('ours', 'imports'), 0), ms(m('ours', 'synth'), 0), ms(median(warm.ours), 1)],
    ['deploy-model without cdk-nag', ms(m('oursNoNag', 'wall'), 0), ms(m('oursNoNag', 'imports'), 0), ms(m('oursNoNag', 'synth'), 0), ms(median(warm.oursNoNag), 1)],
    ['hand-written aws-cdk-lib app', ms(m('hand', 'wall'), 0), ms(m('hand', 'imports'), 0), ms(m('hand', 'synth'), 0), ms(median(warm.hand), 1)],
  ]));

  // The whole command, once, for scale.
  const project = join(work, 'project');
  await mkdir(project, { recursive: true });
  await writeFile(join(project, 'deploy-model.config.mjs'), `export default ${JSON.stringify({ name: 'bench', model: { path: model.path }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1' } } })};\n`);
  const t0 = performance.now();
  await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'synth', '--config', join(project, 'deploy-model.config.mjs'), '--target', 'lambda', '--json'], {
    cwd: root, maxBuffer: 1 << 24, env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), CI: '1' },
  });
  console.log(`\nwhole \`deploy-model synth --target lambda\` (config, inspect, bundle, cached layer, synth, cdk-nag): ${ms(performance.now() - t0, 0)}`);
  console.log(`\nratio deploy-model/hand-written: cold process ${ratio(m('ours', 'wall') / m('hand', 'wall'))}, synth step ${ratio(m('ours', 'synth') / m('hand', 'synth'))} (${ratio(m('oursNoNag', 'synth') / m('hand', 'synth'))} without cdk-nag), warm ${ratio(median(warm.ours) / median(warm.hand))}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
