/**
 * One side of bench/synth.ts in a fresh process: `ours` (synthLambdaTarget, with or without
 * cdk-nag) or `hand` (the hand-written app); `warm` runs both alternately in this one process.
 * Prints one JSON line of milliseconds, wall and CPU (this process, all threads).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [side, argsJson] = process.argv.slice(2);
const args = JSON.parse(argsJson) as { functionZip: string; layerZip: string; modelPath: string; modelBytes: number; rounds?: number };
const out = mkdtempSync(join(tmpdir(), 'deploy-model-bench-synth-out-'));

async function ours(nag: boolean): Promise<() => void> {
  const [{ configSchema }, { synthLambdaTarget }] = await Promise.all([import('../../src/config/schema.js'), import('../../src/targets/aws-lambda/synth.js')]);
  const config = configSchema.parse({ name: 'bench', model: { path: args.modelPath }, targets: { lambda: { type: 'aws-lambda', region: 'eu-west-1', memoryMb: 1024 } } });
  const target = config.targets.lambda as Parameters<typeof synthLambdaTarget>[0]['target'];
  let n = 0;
  return () => {
    const r = synthLambdaTarget({ config, targetName: 'lambda', target, stage: 'dev', artifacts: { functionZip: args.functionZip, layerZip: args.layerZip, modelBytes: args.modelBytes }, outdir: join(out, `ours-${n++}`), nag });
    if (r.nagFindings.length) throw new Error(`cdk-nag findings: ${r.nagFindings.map((f) => f.ruleId).join(', ')}`);
  };
}

async function hand(): Promise<() => void> {
  const { synthHandWrittenApp } = await import('../cdk/hand-written-app.js');
  let n = 0;
  return () => { synthHandWrittenApp({ functionZip: args.functionZip, layerZip: args.layerZip, outdir: join(out, `hand-${n++}`), modelName: 'bench' }); };
}

try {
  if (side === 'warm') {
    const runs = { ours: [] as number[], oursNoNag: [] as number[], hand: [] as number[] };
    const fns = { ours: await ours(true), oursNoNag: await ours(false), hand: await hand() };
    for (const f of Object.values(fns)) f();
    for (let r = 0; r < (args.rounds ?? 10); r++) {
      for (const k of (r % 2 ? ['hand', 'ours', 'oursNoNag'] : ['ours', 'oursNoNag', 'hand']) as (keyof typeof runs)[]) {
        const t = performance.now();
        fns[k]();
        runs[k].push(performance.now() - t);
      }
    }
    process.stdout.write(`${JSON.stringify(runs)}\n`);
  } else {
    const cpu = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
    const [t0, c0] = [performance.now(), cpu()];
    const synth = side === 'hand' ? await hand() : await ours(side === 'ours');
    const [t1, c1] = [performance.now(), cpu()];
    synth();
    const [t2, c2] = [performance.now(), cpu()];
    process.stdout.write(`${JSON.stringify({ start: t0, imports: t1 - t0, synth: t2 - t1, total: t2, cpuImports: c1 - c0, cpuSynth: c2 - c1, cpuTotal: c2 })}\n`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
