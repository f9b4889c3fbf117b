// The one place that prints errors and exits.
import { CommanderError, type Command } from 'commander';
import { DeployModelError, EXIT, exitCodeFor, isDeployModelError } from '../errors.js';
import { colorEnabled, makeStyle } from './style.js';

/** The one place that prints errors and exits. */
export async function runMain(program: Command, argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exit(EXIT.ok);
      // commander already printed the usage error on stderr
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'USAGE', message: e.message } }, null, 2)}\n`);
      process.exit(EXIT.usage);
    }
    const code = exitCodeFor(e);
    const ci = argv.includes('--ci') || Boolean(process.env.CI && process.env.CI !== 'false');
    const style = makeStyle(!ci && colorEnabled(process.stderr, argv.includes('--no-color') ? false : undefined));
    if (json) {
      const body = isDeployModelError(e) ? (e as DeployModelError).toJSON() : { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
      process.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
    }
    if (isDeployModelError(e)) {
      process.stderr.write(`${style.red(`error ${e.code}`)}: ${e.message}\n`);
      if (process.env.DEPLOY_MODEL_DEBUG && e.cause) process.stderr.write(`${String((e.cause as Error)?.stack ?? e.cause)}\n`);
    } else {
      process.stderr.write(`${style.red('internal error')}: ${(e as Error)?.stack ?? String(e)}\nThis is a bug in deploy-model; please report it with the command you ran.\n`);
    }
    process.exit(code);
  }
}
