// The deploy and smoke commands.
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions, targetOption } from '../common-options.js';
import { writeFile } from 'node:fs/promises';
import { renderReport } from '../render-report.js';
import { renderJunit } from '../render-junit.js';
import { renderDiff } from './plan.js';

type Opts = GlobalOptions & { target?: string[]; junit?: string; yes?: boolean };

export function registerDeploy(program: Command): void {
  targetOption(configOptions(program.command('deploy')))
    .description('Build, deploy, smoke-test before traffic moves, and print one table (targets in parallel)')
    .addHelpText('after', `
A failed smoke test leaves the previous version serving and exits 1. In a terminal, a deploy that
would replace or delete something that serves shows the diff and asks first (--yes, --ci skip it).
Examples:
  deploy-model deploy                      all targets
  deploy-model deploy --target local       the local target: runs on this machine, no cloud
  deploy-model deploy --ci --json          CI: JSON report on stdout, exit code per result`)
    .option('--junit <file>', 'also write the smoke results as a JUnit XML report (for CI)')
    .option('-y, --yes', 'do not ask before a deploy that replaces or deletes something that serves')
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      // In a terminal, a change that replaces or deletes a serving resource is shown and asked about first.
      const ask = !opts.yes && !cli.ci && !cli.json && process.stdin.isTTY;
      // Ctrl-C: stop at the next safe point and take the new version back; a second Ctrl-C exits at once.
      const interrupt = new AbortController();
      process.once('SIGINT', () => {
        cli.note('\nStopping at the next safe point; the new version is taken back (Ctrl-C again to quit at once).');
        interrupt.abort();
        process.once('SIGINT', () => process.exit(130));
      });
      const report = await cli.toolkit.deploy(project, opts.target, {
        signal: interrupt.signal,
        ...(ask ? {
        confirmDisruptive: async (target, diff) => {
          cli.note(renderDiff({ name: target, type: project.loaded.config.targets[target]!.type, supported: true, ...diff }, cli.style));
          return cli.host.confirm(`Deploy ${target} anyway?`, false);
        },
      } : {}),
      });
      if (opts.junit) await writeFile(opts.junit, renderJunit(report));
      if (cli.json) cli.outJson({ ...report, targets: cli.host.withWarnings(report.targets) });
      else {
        cli.out(renderReport(report, cli.style));
        // Served from this machine by a background process: the local target, and web on host 'local'.
        const background = (name: string) => {
          const target = project.loaded.config.targets[name];
          return target?.type === 'local' || (target?.type === 'web' && target.host === 'local');
        };
        const local = report.targets.filter((t) => background(t.name) && t.status === 'passed');
        if (local.length) {
          const where = `${opts.config ? ` --config ${opts.config}` : ''}${opts.stage && opts.stage !== 'dev' ? ` --stage ${opts.stage}` : ''}`;
          cli.note(`\nThe local deployment keeps running in the background. Stop it with: npx deploy-model destroy${where} --target ${local.map((t) => t.name).join(',')}`);
        }
      }
      if (report.targets.some((t) => t.status !== 'passed')) process.exitCode = EXIT.failure;
    });

  targetOption(configOptions(program.command('smoke')))
    .description('Smoke-test what is deployed now, with inputs from the signature or smoke.input')
    .option('--junit <file>', 'also write the results as a JUnit XML report (for CI)')
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const report = await cli.toolkit.smoke(project, opts.target);
      if (opts.junit) await writeFile(opts.junit, renderJunit(report));
      if (cli.json) cli.outJson(report);
      else cli.out(renderReport(report, cli.style));
      if (report.targets.some((t) => t.status !== 'passed')) process.exitCode = EXIT.failure;
    });
}
