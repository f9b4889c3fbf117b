import { Toolkit } from '../toolkit/toolkit.js';
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

export function makeContext(opts: GlobalOptions): CliContext {
  const ci = Boolean(opts.ci ?? (process.env.CI && process.env.CI !== 'false'));
  const json = Boolean(opts.json);
  const style = makeStyle(!ci && colorEnabled(process.stderr, opts.color));
  const host = new CliIoHost({ style, verbose: Boolean(opts.verbose), json, nonInteractive: ci || json });
  return {
    toolkit: new Toolkit({ ioHost: host }),
    host, style, json, ci,
    out: (text) => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`); },
    outJson: (value) => { process.stdout.write(`${JSON.stringify(value, null, 2)}\n`); },
    note: (text) => { if (!json) process.stderr.write(text.endsWith('\n') ? text : `${text}\n`); },
  };
}
