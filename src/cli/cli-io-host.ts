// The CLI's IoHost: renders the library's coded messages on stderr.
import type { IoHost, IoMessage } from '../io/io-host.js';
import type { Style } from './style.js';

export interface CliIoHostOptions {
  style: Style;
  /** Show debug messages. */
  verbose: boolean;
  /** Machine output on stdout: progress is kept off stdout and only warnings and errors reach stderr. */
  json: boolean;
  /** Answer questions with their default (CI, no TTY). */
  nonInteractive: boolean;
  write?: (text: string) => void;
}

/** Renders the library's coded messages on stderr; stdout is kept for results. */
export class CliIoHost implements IoHost {
  private readonly write: (text: string) => void;
  /** The warnings about each target, for the --json report (which a CI step reads instead of stderr). */
  private readonly warnings = new Map<string, Array<{ code: string; message: string }>>();
  constructor(private readonly options: CliIoHostOptions) {
    this.write = options.write ?? ((text) => process.stderr.write(text));
  }

  notify(msg: IoMessage): void {
    const { style, verbose, json } = this.options;
    if (msg.level === 'warn' && msg.target) {
      const list = this.warnings.get(msg.target) ?? [];
      if (!list.some((w) => w.code === msg.code && w.message === msg.message)) list.push({ code: msg.code, message: msg.message });
      this.warnings.set(msg.target, list);
    }
    if (msg.level === 'result') return;
    if ((msg.level === 'debug' || msg.level === 'trace') && !verbose) return;
    if (json && (msg.level === 'info') && !verbose) return;
    // A target's failure is the report's to show (its table and footer); saying it here too doubles it.
    if (msg.code === 'DM_TARGET_FAILED' && !verbose) return;
    const target = msg.target ? style.cyan(`[${msg.target}] `) : '';
    const text = msg.level === 'error' ? style.red(msg.message) : msg.level === 'warn' ? style.yellow(msg.message) : msg.level === 'debug' ? style.dim(msg.message) : msg.message;
    const code = verbose ? style.dim(` (${msg.code})`) : '';
    this.write(`${target}${text}${code}\n`);
  }

  /** Each report entry with the warnings said about its target (`warnings`, when there were any). */
  withWarnings<T extends { name: string }>(targets: T[]): Array<T & { warnings?: Array<{ code: string; message: string }> }> {
    return targets.map((t) => {
      const warnings = this.warnings.get(t.name);
      return warnings?.length ? { ...t, warnings } : t;
    });
  }

  async confirm(question: string, defaultAnswer: boolean): Promise<boolean> {
    if (this.options.nonInteractive || !process.stdin.isTTY) return defaultAnswer;
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = (await rl.question(`${question} ${defaultAnswer ? '[Y/n]' : '[y/N]'} `)).trim().toLowerCase();
      return answer === '' ? defaultAnswer : answer === 'y' || answer === 'yes';
    } finally {
      rl.close();
    }
  }
}
