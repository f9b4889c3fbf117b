/** `deploy-model validate`: every check that needs no cloud, as coded problems. */
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { makeContext, type GlobalOptions } from '../context.js';
import { configOptions, targetOption } from '../common-options.js';

export function registerValidate(program: Command): void {
  targetOption(configOptions(program.command('validate')))
    .description('Load and validate the config and the model, and check what can be checked without a cloud')
    .addHelpText('after', '\nExit 0 when valid, 1 with coded problems otherwise.')
    .action(async (opts: GlobalOptions & { target?: string[] }) => {
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const problems = await cli.toolkit.validate(project, opts.target);
      const valid = problems.length === 0;
      if (cli.json) {
        cli.outJson({ valid, configFile: project.loaded.configFile, model: project.signature.file, targets: Object.keys(project.loaded.config.targets), problems });
      } else if (valid) {
        cli.out(`${cli.style.green('valid')}: ${project.loaded.configFile} (model ${project.signature.file}, targets ${Object.keys(project.loaded.config.targets).join(', ')})`);
      } else {
        const { problemLine } = await import('../../config/format-issues.js');
        cli.out(`${cli.style.red('invalid')}: ${project.loaded.configFile}\n${problems.map((p) => `  - ${problemLine(p)}`).join('\n')}`);
      }
      if (!valid) process.exitCode = EXIT.failure;
    });
}
