/**
 * 5. `deploy-model synth` of the aws-lambda target (synthLambdaTarget, the stack with cdk-nag as
 * the CLI runs it, and without) vs a hand-written aws-cdk-lib app with the same resources
 * (bench/cdk/hand-written-app.ts). Both get the same prebuilt function and layer zips, and both
 * synthesise with aws-cdk-lib's built-in CloudFormation validation off (deploy-model's default).
 *
 * Cold: a fresh process per synth (module loading included, as on a laptop or in CI), the sides
 * alternating. Warm: repeated synths in one process. Then, for scale, one whole
 * `deploy-model synth --target lambda` (config load, model inspection, handler bundle, cached layer).
 *
 * `npx tsx bench/synth.ts --against DIR` also runs deploy-model's side from another copy of the
 * sources (DIR holds its src/, infra/, layers/, handlers/, bench/ and package.json, with
 * node_modules linked), e.g. the tree before a change, in the same alternating rounds.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
const againstAt = process.argv.indexOf('--against');
const against = againstAt > 0 ? resolve(process.argv[againstAt + 1] ?? '') : undefined;

const work = await mkdtemp(join(tmpdir(), 'deploy-model-bench-synth-'));
try {
  const model = BENCH_MODELS.small;
  const signature = await inspectModel(model.path);
  const fn = await buildFunctionArtifact({ modelPath: model.path, signature, outDir: join(work, 'function') });
  // The layer goes into the cache the CLI run below reads, so that run reuses it as a second deploy would.
  const layer = await buildOrtLayer({ architecture: 'x86_64', outDir: join(work, 'layer'), cacheDir: join(work, 'cache', 'deploy-model', 'layers') });
  const args = JSON.stringify({ functionZip: fn.zip.file, layerZip: layer.zip.file, modelPath: model.path, modelBytes: signature.bytes, rounds: QUICK ? 4 : 10 });

  type Side = 'ours' | 'oursNoNag' | 'hand' | 'against' | 'againstNoNag';
  const fresh = async (side: Side) => {
    const t0 = performance.now();
    const [dir, as] = side.startsWith('against') ? [against!, side === 'against' ? 'ours' : 'oursNoNag'] : [root, side];
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(dir, 'bench/_lib/synth-child.ts'), as, args], { cwd: dir, maxBuffer: 1 << 24 });
    return { wall: performance.now() - t0, ...(JSON.parse(stdout) as { imports: number; synth: number; total: number; cpuImports: number; cpuSynth: number; cpuTotal: number }) };
  };
  const sides: Side[] = ['ours', 'oursNoNag', 'hand', ...(against ? ['against', 'againstNoNag'] as const : [])];
  // Warm tsx's transform cache so no side pays for compiling TypeScript (and cdk-nag's cache, as a second synth finds it).
  for (const side of sides) await fresh(side);
  const cold = Object.fromEntries(sides.map((s) => [s, [] as Awaited<ReturnType<typeof fresh>>[]])) as Record<Side, Awaited<ReturnType<typeof fresh>>[]>;
  for (let r = 0; r < ROUNDS; r++) {
    for (const side of r % 2 ? [...sides].reverse() : sides) cold[side].push(await fresh(side));
  }
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, 'warm', args], { cwd: root, maxBuffer: 1 << 24 });
  const warm = JSON.parse(stdout) as Record<'ours' | 'oursNoNag' | 'hand', number[]>;

  const m = (side: Side, k: 'wall' | 'imports' | 'synth' | 'cpuImports' | 'cpuSynth' | 'cpuTotal') => median(cold[side].map((x) => x[k]));
  const warmAgainst = against ? JSON.parse((await run(process.execPath, ['--import', 'tsx', join(against, 'bench/_lib/synth-child.ts'), 'warm', args], { cwd: against, maxBuffer: 1 << 24 })).stdout) as Record<'ours' | 'oursNoNag', number[]> : undefined;
  console.log(`Synth of the aws-lambda stack, ${ROUNDS} alternating fresh processes per side and ${warm.ours.length} warm synths, medians\n`);
  const row = (label: string, side: Side, warmTimes: number[]) => [
    label, ms(m(side, 'wall'), 0), ms(m(side, 'imports'), 0), ms(m(side, 'synth'), 0), ms(m(side, 'cpuSynth'), 0), ms(median(warmTimes), 1),
  ];
  console.log(table([
    ['', 'process wall', 'imports', 'synth', 'synth CPU', 'warm synth'],
    row('deploy-model (synthLambdaTarget + cdk-nag)', 'ours', warm.ours),
    row('deploy-model without cdk-nag', 'oursNoNag', warm.oursNoNag),
    row('hand-written aws-cdk-lib app', 'hand', warm.hand),
    ...(warmAgainst ? [row('--against: deploy-model (with cdk-nag)', 'against', warmAgainst.ours), row('--against: without cdk-nag', 'againstNoNag', warmAgainst.oursNoNag)] : []),
  ]));
  const stepRatios = (a: Side, b: Side) => `synth step ${ratio(m(a, 'synth') / m('hand', 'synth'))} wall, ${ratio(m(a, 'cpuSynth') / m('hand', 'cpuSynth'))} CPU (${ratio(m(b, 'cpuSynth') / m('hand', 'cpuSynth'))} CPU without cdk-nag)`;
  if (against) console.log(`\n--against ${against} / hand-written: ${stepRatios('against', 'againstNoNag')}; warm ${ratio(median(warmAgainst!.ours) / median(warm.hand))}`);

  // The whole command, for scale: once to fill the caches (handler bundle, layer, cdk-nag), then warm, alternating.
  const project = join(work, 'project');
  await mkdir(project, { recursive: true });
  await writeFile(join(project, 'deploy-model.config.mjs'), `export default ${JSON.stringify({ name: 'bench', model: { path: model.path }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1' } } })};\n`);
  const whole = async (dir: string) => {
    const t0 = performance.now();
    await run(process.execPath, ['--import', 'tsx', join(dir, 'src/cli/main.ts'), 'synth', '--config', join(project, 'deploy-model.config.mjs'), '--target', 'lambda', '--json'], {
      cwd: dir, maxBuffer: 1 << 24, env: { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), CI: '1' },
    });
    return performance.now() - t0;
  };
  const dirs = [root, ...(against ? [against] : [])];
  for (const dir of dirs) await whole(dir);
  const wholeTimes = dirs.map(() => [] as number[]);
  for (let r = 0; r < (QUICK ? 2 : 3); r++) for (const i of r % 2 ? [...dirs.keys()].reverse() : dirs.keys()) wholeTimes[i].push(await whole(dirs[i]));
  console.log(`\nwhole \`deploy-model synth --target lambda\`, warm caches (config, inspect, cached bundle and layer, synth, cdk-nag), median: ${ms(median(wholeTimes[0]), 0)}${against ? `; --against: ${ms(median(wholeTimes[1]), 0)}` : ''}`);
  console.log(`\nratio deploy-model/hand-written: cold process ${ratio(m('ours', 'wall') / m('hand', 'wall'))}, ${stepRatios('ours', 'oursNoNag')}, warm ${ratio(median(warm.ours) / median(warm.hand))}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
