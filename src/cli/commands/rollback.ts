/** `deploy-model rollback`: puts back the version each named target served before its last deploy. */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DeployModelError, EXIT } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions, targetOption } from '../common-options.js';
import { renderTable } from '../render-table.js';
import { renderJunit } from '../render-junit.js';

type Opts = GlobalOptions & { target?: string[]; junit?: string };

export function registerRollback(program: Command): void {
  targetOption(configOptions(program.command('rollback')), 'the targets to roll back (repeatable; required)')
    .description('Put back the version each target served before its last deploy, then smoke-test it')
    .addHelpText('after', `
aws-lambda moves its live alias back to the version the stack records as served before the last
promotion. The other target types retire the previous version when a new one is promoted, so they
say so (TARGET_ACTION_UNAVAILABLE): deploy the earlier model or config again. A target with nothing
to go back to fails with ROLLBACK_NO_PREVIOUS; a second rollback does not go forward again.
Examples:
  deploy-model rollback --target lambda
  deploy-model rollback --target lambda --ci --json`)
    .option('--junit <file>', 'also write the smoke results of the restored versions as a JUnit XML report')
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      if (!opts.target?.length) {
        throw new DeployModelError('ROLLBACK_TARGET_REQUIRED', 'deploy-model rollback needs --target NAME: a rollback moves traffic, so it names the targets it moves. Repeat --target (or give a comma-separated list) for several.', { kind: 'usage' });
      }
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const reports = await cli.toolkit.rollback(project, opts.target);
      if (opts.junit) {
        await writeFile(opts.junit, renderJunit({ targets: reports.map((r) => ({ name: r.name, type: r.type, status: r.status === 'rolled-back' && r.smoke?.status === 'passed' ? 'passed' : 'failed', checks: r.smoke?.checks ?? [], ...(r.error ? { error: r.error } : {}), durationMs: r.durationMs })) }, 'deploy-model.rollback'));
      }
      if (cli.json) cli.outJson({ targets: reports });
      else {
        const table = renderTable(['TARGET', 'TYPE', 'STATUS', 'FROM', 'TO', 'SMOKE', 'ENDPOINT'], reports.map((r) => [
          r.name, r.type, r.status === 'rolled-back' ? cli.style.green('rolled back') : cli.style.red('failed'),
          r.from ?? '-', r.to ?? '-', r.smoke ? (r.smoke.status === 'passed' ? cli.style.green('passed') : cli.style.red('failed')) : '-', r.endpoint ?? '-',
        ]));
        const notes = reports.flatMap((r) => [
          ...(r.error ? ['', cli.style.red(`${r.name}: ${r.error.code}: ${r.error.message}`)] : []),
          ...(r.smoke && r.smoke.status !== 'passed' ? ['', cli.style.red(`${r.name}: version ${r.to} serves again, but its smoke test failed`), ...r.smoke.checks.filter((c) => !c.passed).map((c) => `  - ${c.name}: ${c.message}`)] : []),
        ]);
        cli.out([table, ...notes].join('\n'));
      }
      if (reports.some((r) => r.status !== 'rolled-back' || r.smoke?.status !== 'passed')) process.exitCode = EXIT.failure;
    });
}
