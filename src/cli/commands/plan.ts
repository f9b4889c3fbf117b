/** `deploy-model plan` and `deploy-model diff`: what a deploy would do, and what it would change. */
import type { Command } from 'commander';
import { DeployModelError, EXIT, isDeployModelError } from '../../errors.js';
import type { TargetChange } from '../../targets/driver.js';
import type { DiffReport } from '../../toolkit/toolkit.js';
import { configOptions, targetOption } from '../common-options.js';
import { makeContext, type GlobalOptions } from '../context.js';
import type { Style } from '../style.js';

type Opts = GlobalOptions & { target?: string[] };

const SIGN: Record<TargetChange['action'], string> = { create: '+', update: '~', replace: '±', delete: '-' };

/** One target's changes, one line each, disruptive ones marked. */
export function renderDiff(report: DiffReport, style: Style): string {
  const head = `${style.cyan(report.name)} (${report.type})`;
  if (!report.supported) return `${head}: ${style.dim(`not compared: ${report.reason}`)}`;
  if (report.unchanged) return `${head}: ${style.green('no changes')}`;
  const lines = report.changes.map((c) => {
    const line = `  ${SIGN[c.action]} ${c.action.padEnd(7)} ${c.resource}: ${c.detail}`;
    return c.disruptive ? style.red(`${line}  (replaces or deletes something that serves)`) : line;
  });
  return [`${head}: ${report.changes.length} change${report.changes.length === 1 ? '' : 's'}`, ...lines, ...(report.text ? ['', report.text.trimEnd()] : [])].join('\n');
}

export function registerPlan(program: Command): void {
  targetOption(configOptions(program.command('plan')))
    .description('Show what a deploy would build and create for each target: every resolved value, no cloud, no build')
    .addHelpText('after', '\nExamples:\n  deploy-model plan --target lambda\n  deploy-model plan --json > plan.json')
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const plans = await cli.toolkit.plan(project, opts.target);
      if (cli.json) return cli.outJson({ targets: Object.values(plans) });
      const { stringify } = await import('yaml');
      cli.out(Object.values(plans).map((p) => `${cli.style.cyan(p.targetName)} (${p.type})\n${indent(stringify(p, { lineWidth: 0 }))}`).join('\n'));
    });

  targetOption(configOptions(program.command('diff')))
    .description('Compare what a deploy would do with what is deployed now (builds, reads the deployment, changes nothing)')
    .addHelpText('after', '\nExit 0 when nothing would change, 1 when something would, 2 on an error (as `cdk diff --fail`).')
    .action(async (opts: Opts) => {
      const cli = makeContext(opts);
      let reports: DiffReport[];
      try {
        const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
        reports = await cli.toolkit.diff(project, opts.target);
      } catch (e) {
        // Exit 1 says "something would change" (CI accepts it), so a diff that could not be made must not exit 1.
        if (isDeployModelError(e) && e.kind === 'user') throw new DeployModelError(e.code, e.message, { kind: 'usage', cause: e.cause ?? e, details: e.details });
        throw e;
      }
      if (cli.json) cli.outJson({ targets: reports });
      else cli.out(reports.map((r) => renderDiff(r, cli.style)).join('\n'));
      process.exitCode = reports.every((r) => r.supported && r.unchanged) ? EXIT.ok : EXIT.failure;
    });
}

function indent(text: string): string {
  return text.trimEnd().split('\n').map((l) => `  ${l}`).join('\n');
}
