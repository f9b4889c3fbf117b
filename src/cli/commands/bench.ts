import path from 'node:path';
import type { Command } from 'commander';
import { DeployModelError, EXIT } from '../../errors.js';
import { benchTarget, defaultBenchDir, writeBenchReport } from '../../bench/bench-target.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions } from '../common-options.js';
import { renderTable } from '../render-table.js';

type Opts = GlobalOptions & { target?: string; concurrency: string; duration: string; out?: string };

export function registerBench(program: Command): void {
  configOptions(program.command('bench'))
    .description('Load-test a deployed target: throughput and p50/p90/p99 latency per concurrency, with a report (JSON and an HTML latency histogram)')
    .option('-t, --target <name>', 'the target to load (default: the first local target, or the only target)')
    .option('--concurrency <list>', 'requests in flight, a comma list', '1,8,32')
    .option('-d, --duration <seconds>', 'seconds of load per concurrency', '10')
    .option('-o, --out <dir>', 'where the report goes (default: .deploy-model/bench/<stage>/<target> beside the config)')
    .addHelpText('after', `
The request is the smoke test's (smoke.input). Deploy first: deploy-model deploy --target NAME.
Examples:
  deploy-model bench                                   the local target, concurrency 1, 8, 32, 10 s each
  deploy-model bench --target lambda --concurrency 4 --duration 30`)
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const targets = Object.entries(project.loaded.config.targets);
      const name = opts.target ?? targets.find(([, t]) => t.type === 'local')?.[0] ?? (targets.length === 1 ? targets[0][0] : undefined);
      if (!name) {
        throw new DeployModelError('BENCH_TARGET_REQUIRED', `${project.loaded.configFile} has several targets and none of type 'local'; pass --target with one of: ${targets.map(([n]) => n).join(', ')}.`, { kind: 'usage' });
      }
      const concurrency = opts.concurrency.split(',').map((c) => Number(c.trim()));
      const report = await benchTarget(cli.toolkit, project, name, { concurrency, durationSeconds: Number(opts.duration) });
      const files = await writeBenchReport(report, opts.out ? path.resolve(opts.out) : defaultBenchDir(project, name));
      if (cli.json) {
        cli.outJson({ ...report, runs: report.runs.map(({ latencies: _, ...r }) => r), files });
      } else {
        cli.out(renderTable(['CONCURRENCY', 'OK', 'FAILED', 'REQ/S', 'P50 MS', 'P90 MS', 'P99 MS'], report.runs.map((r) => [
          String(r.concurrency), String(r.ok), String(Object.values(r.failed).reduce((a, b) => a + b, 0)), String(r.throughput),
          String(r.latencyMs.p50), String(r.latencyMs.p90), String(r.latencyMs.p99),
        ])));
        cli.note(`\nReport: ${path.relative(process.cwd(), files.html)} (latency histogram), ${path.relative(process.cwd(), files.json)}`);
      }
      if (report.runs.some((r) => r.ok === 0)) process.exitCode = EXIT.failure;
    });
}
