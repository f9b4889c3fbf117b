/**
 * 6. CLI start-up: the built CLI (`bin/deploy-model.js`, as `npx deploy-model` runs it) for
 * `--version`, `--help`, `validate` and `plan` vs a bare `node -e 0`, each a fresh process, the
 * cases alternating round by round. Per case: the modules the process loads (counted once, with
 * a loader hook, bench/_lib/module-log.mjs), the wall time from spawn to exit and the CPU time the
 * process used (medians). `validate` and `plan` read a config with a local and an aws-lambda
 * target on the 0.6 MB model.
 *
 * `npx tsx bench/cli-start.ts --against DIR` also runs another copy of the package (DIR holds its
 * bin/, dist/ and package.json, e.g. a build of an earlier commit) in the same rounds, so a change
 * is measured side by side. Needs dist/: run `npm run build` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_MODELS } from './_lib/models.js';
import { median, ms, QUICK, ratio, table } from './_lib/stats.js';

const ROUNDS = QUICK ? 5 : 15;
const root = fileURLToPath(new URL('..', import.meta.url));
const moduleLog = fileURLToPath(new URL('./_lib/module-log.mjs', import.meta.url));
const againstAt = process.argv.indexOf('--against');
const against = againstAt > 0 ? resolve(process.argv[againstAt + 1] ?? '') : undefined;

for (const dir of [root, ...(against ? [against] : [])]) {
  if (!existsSync(join(dir, 'dist/src/cli/main.js'))) {
    console.error(`${dir}: dist/src/cli/main.js is missing; run \`npm run build\` there first.`);
    process.exit(2);
  }
}

const work = mkdtempSync(join(tmpdir(), 'deploy-model-bench-cli-'));
const config = join(work, 'deploy-model.config.mjs');
writeFileSync(config, `export default ${JSON.stringify({
  name: 'bench', model: { path: BENCH_MODELS.small.path },
  targets: { local: { type: 'local' }, lambda: { type: 'aws-lambda', region: 'eu-west-1' } },
})};\n`);

const CASES: Record<string, string[]> = {
  '--version': ['--version'],
  '--help': ['--help'],
  validate: ['validate', '--config', config],
  plan: ['plan', '--config', config, '--json'],
};

// The CPU time of waited-for children, from /proc (Linux): fields 16 and 17 of /proc/self/stat, in clock ticks.
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS;
}

interface Side { label: string; argv: string[] }
const env = { ...process.env, NO_COLOR: '1', CI: '1', XDG_CACHE_HOME: join(work, 'cache') };

function once(argv: string[], extraEnv: Record<string, string> = {}): { wall: number; cpu: number } {
  const c0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: work, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}\n${r.stderr}`);
  return { wall, cpu: childrenCpuMs() - c0 };
}

function countModules(argv: string[]): number {
  const log = join(work, 'modules.txt');
  rmSync(log, { force: true });
  once(['--import', moduleLog, ...argv], { DEPLOY_MODEL_MODULE_LOG: log });
  return new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean)).size;
}

try {
  const sides: Side[] = [{ label: 'bare node -e 0', argv: ['-e', '0'] }];
  const packages = [{ tag: 'this tree', dir: root }, ...(against ? [{ tag: 'against', dir: against }] : [])];
  for (const [name, args] of Object.entries(CASES)) {
    for (const p of packages) sides.push({ label: `${name}${against ? ` (${p.tag})` : ''}`, argv: [join(p.dir, 'bin/deploy-model.js'), ...args] });
  }
  const modules = sides.map((s) => (s.argv[0] === '-e' ? 0 : countModules(s.argv)));
  // Warm the file cache, then alternate: every side once per round, the order reversed every other round.
  for (const s of sides) once(s.argv);
  const runs = sides.map(() => [] as { wall: number; cpu: number }[]);
  for (let r = 0; r < ROUNDS; r++) {
    const order = sides.map((_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) runs[i].push(once(sides[i].argv));
  }
  const wall = runs.map((rs) => median(rs.map((x) => x.wall)));
  const cpu = runs.map((rs) => rs.reduce((a, x) => a + x.cpu, 0) / rs.length);
  console.log(`CLI start-up, ${ROUNDS} alternating rounds of fresh processes; wall: median, CPU: mean (${TICK_MS} ms ticks)\n`);
  console.log(table([
    ['', 'modules', 'wall', 'CPU', 'wall / bare', 'CPU / bare'],
    ...sides.map((s, i) => [s.label, i === 0 ? '-' : String(modules[i]), ms(wall[i], 0), ms(cpu[i], 0), ratio(wall[i] / wall[0]), ratio(cpu[i] / cpu[0])]),
  ]));
  const ours = sides.map((s, i) => i).filter((i) => i > 0 && (!against || sides[i].label.endsWith('(this tree)')));
  const line = ours.map((i) => `${sides[i].label.replace(' (this tree)', '')} ${ratio(wall[i] / wall[0])} (${ms(wall[i], 0)}, ${modules[i]} modules)`).join(', ');
  if (against) {
    const vs = ours.map((i) => `${sides[i].label.replace(' (this tree)', '')} ${ratio(wall[i] / wall[i + 1])}`).join(', ');
    console.log(`\nwall, this tree / --against: ${vs}`);
  }
  console.log(`\nratio deploy-model/bare node, wall: ${line}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
