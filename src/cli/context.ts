/** What every command gets: the toolkit (loaded only when a command runs), the console, the output mode. */
import { DeployModelError } from '../errors.js';
import type { Toolkit } from '../toolkit/toolkit.js';
import { CliIoHost } from './cli-io-host.js';
import { colorEnabled, makeStyle, type Style } from './style.js';

/** Options every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  ci?: boolean;
  verbose?: boolean;
  color?: boolean;
  config?: string;
  stage?: string;
}

export interface CliContext {
  toolkit: Toolkit;
  host: CliIoHost;
  style: Style;
  json: boolean;
  ci: boolean;
  /** Result text on stdout. */
  out(text: string): void;
  /** Result JSON on stdout. */
  outJson(value: unknown): void;
  /** Progress on stderr (not in --json mode). */
  note(text: string): void;
}

let toolkitClass: typeof Toolkit | undefined;

/**
 * Imports the toolkit, and through it the config schema and every target's planner. main.ts
 * runs it before a command's action (commander's preAction hook), so that `--help`, `--version`
 * and usage errors load none of it, and `makeContext` stays synchronous for every command.
 */
export async function loadToolkit(): Promise<void> {
  toolkitClass ??= (await import('../toolkit/toolkit.js')).Toolkit;
}

export function makeContext(opts: GlobalOptions): CliContext {
  const ci = Boolean(opts.ci ?? (process.env.CI && process.env.CI !== 'false'));
  const json = Boolean(opts.json);
  const style = makeStyle(!ci && colorEnabled(process.stderr, opts.color));
  const host = new CliIoHost({ style, verbose: Boolean(opts.verbose), json, nonInteractive: ci || json });
  let toolkit: Toolkit | undefined;
  return {
    get toolkit() {
      if (!toolkitClass) {
        throw new DeployModelError('CLI_TOOLKIT_NOT_LOADED', 'A command used the toolkit before loadToolkit() ran. Register commands on the program from createProgram(), whose preAction hook loads it.', { kind: 'internal' });
      }
      return (toolkit ??= new toolkitClass({ ioHost: host }));
    },
    host, style, json, ci,
    out: (text) => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`); },
    outJson: (value) => { process.stdout.write(`${JSON.stringify(value, null, 2)}\n`); },
    note: (text) => { if (!json) process.stderr.write(text.endsWith('\n') ? text : `${text}\n`); },
  };
}
