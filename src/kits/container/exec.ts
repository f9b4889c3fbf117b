/** Runs image-builder commands without a shell, streaming their lines to the IoHost (shared by the container and aws-lambda targets). */
import { spawn } from 'node:child_process';
import { DeployModelError } from '../../errors.js';
import type { IoHelper } from '../../io/io-host.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the process's stdin, then closed (passwords go here, never on argv). */
  stdin?: string;
  /** Killed (SIGKILL) after this long. @default 600000 */
  timeoutMs?: number;
  /** Each output line, as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  env?: NodeJS.ProcessEnv;
}

/** Runs a program without a shell and collects its output; never throws on a non-zero exit. */
export function exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [program, ...args] = argv;
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(program as string, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    } catch (e) {
      resolve({ code: 127, stdout: '', stderr: (e as Error).message });
      return;
    }
    const out: Record<'stdout' | 'stderr', string[]> = { stdout: [], stderr: [] };
    const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      out[stream].push(text);
      if (!options.onLine) return;
      const lines = (pending[stream] + text).split(/\r?\n|\r/);
      pending[stream] = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) options.onLine(line, stream);
    };
    child.stdout.on('data', onData('stdout'));
    child.stderr.on('data', onData('stderr'));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    timer.unref();
    let settled = false;
    const finish = (code: number, extra = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const stream of ['stdout', 'stderr'] as const) {
        if (options.onLine && pending[stream].trim()) options.onLine(pending[stream], stream);
      }
      resolve({ code, stdout: out.stdout.join(''), stderr: out.stderr.join('') + extra });
    };
    child.on('error', (e) => finish(127, (e as Error).message));
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
    child.stdin.on('error', () => { /* the program may exit before reading stdin */ });
    child.stdin.end(options.stdin ?? '');
  });
}

/** The last `n` non-empty lines of a command's output, for error messages. */
export function tail(text: string, n = 15): string {
  return text.split(/\r?\n/).filter((l) => l.trim()).slice(-n).join('\n');
}

/**
 * Runs a builder command, streaming its lines to the IoHost (`DM_CONTAINER_OUTPUT` at debug level,
 * build steps as `DM_CONTAINER_STEP` at info), and throws `CONTAINER_COMMAND_FAILED` on a non-zero
 * exit with the end of its output.
 */
export async function runOrThrow(argv: readonly string[], what: string, options: ExecOptions & { io?: IoHelper } = {}): Promise<ExecResult> {
  const { io, ...execOptions } = options;
  const result = await exec(argv, {
    ...execOptions,
    onLine: (line, stream) => {
      options.onLine?.(line, stream);
      if (!io) return;
      if (isStepLine(line)) io.info('DM_CONTAINER_STEP', line.trim(), { command: argv[0], stream });
      else io.debug('DM_CONTAINER_OUTPUT', line, { command: argv[0], stream });
    },
  });
  if (result.code !== 0) {
    const output = tail(`${result.stdout}\n${result.stderr}`);
    throw new DeployModelError('CONTAINER_COMMAND_FAILED', `${what} failed: \`${argv.slice(0, 3).join(' ')} ...\` exited with ${result.code}.${output ? `\n${output}` : ''}`, {
      details: { argv: [...argv], code: result.code },
    });
  }
  return result;
}

/** Build step lines: podman/buildah `STEP 3/9: COPY ...`, docker classic `Step 3/9 :`, BuildKit `#7 [2/4] COPY`. */
function isStepLine(line: string): boolean {
  return /^(STEP \d+\/\d+|Step \d+\/\d+|#\d+ \[[^\]]*\d+\/\d+\])/.test(line.trim());
}
