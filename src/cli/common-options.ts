// The options every command or every config-loading command takes.
import type { Command } from 'commander';

/** Output options every command takes. */
export function outputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'machine-readable output on stdout')
    .option('--ci', 'CI mode: no colours, no prompts (also when CI is set)')
    .option('--verbose', 'show debug messages and message codes')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)');
}

/** Options of commands that load the config. */
export function configOptions(cmd: Command): Command {
  return outputOptions(cmd)
    .option('-c, --config <path>', 'config file (default: deploy-model.config.{ts,mts,js,mjs} here or above)')
    .option('-s, --stage <stage>', 'stage passed to a config function and used in resource names', 'dev');
}

/** Repeatable --target. */
export function targetOption(cmd: Command, what = 'targets to act on (repeatable; default: all)'): Command {
  return cmd.option('-t, --target <name>', what, (value: string, prev: string[] = []) => [...prev, ...value.split(',').map((v) => v.trim()).filter(Boolean)]);
}
