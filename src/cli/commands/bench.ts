/** `deploy-model bench`: load-tests a deployed target and writes the report. */
import path from 'node:path';
import type { Command } from 'commander';
import { DeployModelError, EXIT } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions } from '../common-options.js';
import { renderBenchReport } from '../render-bench.js';

type Opts = GlobalOptions & { target?: string; concurrency: string; duration: string; out?: string };

export function registerBench(program: Command): void {
  configOptions(program.command('bench'))
    .description('Load-test a deployed target: throughput, p50/p90/p99 latency and a latency histogram per concurrency, with the machine, the versions and the settings; a JSON and an HTML report')
    .option('-t, --target <name>', 'the target to load (default: the first local target, or the only target)')
    .option('--concurrency <list>', 'requests in flight, a comma list', '1,8,32')
    .option('-d, --duration <seconds>', 'seconds of load per concurrency', '10')
    .option('-o, --out <dir>', 'where the report goes (default: .deploy-model/bench/<stage>/<target> beside the config)')
    .addHelpText('after', `
The request is the smoke test's (smoke.input). Deploy first: deploy-model deploy --target NAME.
The machine is the one sending the load (for the local target, also the one serving it).
Examples:
  deploy-model bench                                   the local target, concurrency 1, 8, 32, 10 s each
  deploy-model bench --target lambda --concurrency 4 --duration 30`)
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const { benchTarget, defaultBenchDir, writeBenchReport } = await import('../../bench/bench-target.js');
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const targets = Object.entries(project.loaded.config.targets);
      const name = opts.target ?? targets.find(([, t]) => t.type === 'local')?.[0] ?? (targets.length === 1 ? targets[0][0] : undefined);
      if (!name) {
        throw new DeployModelError('BENCH_TARGET_REQUIRED', `${project.loaded.configFile} has several targets and none of type 'local'; pass --target with one of: ${targets.map(([n]) => n).join(', ')}.`, { kind: 'usage' });
      }
      const report = await benchTarget(cli.toolkit, project, name, { concurrency: parseConcurrency(opts.concurrency), durationSeconds: parseDuration(opts.duration) });
      const files = await writeBenchReport(report, opts.out ? path.resolve(opts.out) : defaultBenchDir(project, name));
      if (cli.json) {
        cli.outJson({ ...report, runs: report.runs.map(({ latencies: _, ...r }) => r), files });
      } else {
        cli.out(renderBenchReport(report));
        cli.note(`\nReport: ${path.relative(process.cwd(), files.html)} (latency histogram), ${path.relative(process.cwd(), files.json)}`);
      }
      if (report.runs.some((r) => r.ok === 0)) process.exitCode = EXIT.failure;
    });
}

/** `--concurrency 1,8,32`; an item that is not a whole number is named (the toolkit checks the range). */
function parseConcurrency(list: string): number[] {
  return list.split(',').map((item) => {
    if (!/^\s*\d+\s*$/.test(item)) {
      throw new DeployModelError('BENCH_CONCURRENCY_INVALID', `--concurrency ${list}: '${item}' is not a whole number. Pass whole numbers from 1 to 1024 separated by commas, such as 1,8,32.`, { kind: 'usage', details: { concurrency: list } });
    }
    return Number(item);
  });
}

/** `--duration 10`: seconds, a number. */
function parseDuration(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds)) {
    throw new DeployModelError('BENCH_DURATION_INVALID', `--duration ${text} is not a number of seconds. Pass seconds from 0 to 3600, e.g. --duration 10.`, { kind: 'usage', details: { duration: text } });
  }
  return seconds;
}
