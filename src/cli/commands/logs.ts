/** `deploy-model logs`: a deployed target's logs, once or followed until Ctrl-C. */
import type { Command } from 'commander';
import { parseSince } from '../../kits/logs/parse-since.js';
import type { LogLine } from '../../kits/logs/log-line.js';
import { configOptions } from '../common-options.js';
import { makeContext, type GlobalOptions } from '../context.js';
import type { Style } from '../style.js';

type Opts = GlobalOptions & { target: string; since: string; follow?: boolean };

/** `<time>  <source>  <message>`: the time in UTC as ISO 8601, the source when the platform gives one. */
export function renderLogLine(line: LogLine, style: Style): string {
  return [style.dim(line.time.toISOString()), ...(line.source ? [style.cyan(line.source)] : []), line.message].join('  ');
}

/** One JSON object a line (JSON Lines), so a follow can be piped into `jq` line by line. */
export function logLineJson(line: LogLine): string {
  return JSON.stringify({ time: line.time.toISOString(), ...(line.source ? { source: line.source } : {}), message: line.message });
}

export function registerLogs(program: Command): void {
  configOptions(program.command('logs'))
    .description("Print a deployed target's logs (what its function, server or containers wrote), oldest first; --follow keeps printing new lines until Ctrl-C")
    .requiredOption('-t, --target <name>', 'the target whose logs to print')
    .option('--since <when>', 'from when: a duration back from now (30s, 10m, 2h, 1d, 1w) or an ISO 8601 time (2024-05-01T12:00:00Z)', '1h')
    .option('-f, --follow', 'keep printing new lines as they are written, until Ctrl-C (exits 0)')
    .addHelpText('after', `
Each line is printed as: TIME (UTC, ISO 8601)  SOURCE  MESSAGE; with --json, one JSON object a line:
{"time": "...", "source": "...", "message": "..."}.
Where the lines come from:
  local         the local deployment's log: its daemon's lines and its function's output (START, END, REPORT)
  aws-lambda    CloudWatch Logs: the function's log group (stack output LogGroupName), one stream per environment
  aws-sagemaker CloudWatch Logs: /aws/sagemaker/Endpoints/<endpoint>, one stream per instance
  web           host 'local': the local web server's log; other hosts serve static files (says where their logs are)
  gcp-vertex    Cloud Logging: the endpoint's entries (entries:list), one source per deployed model
  azure-ml      each deployment's inference-server log (getLogs, its last 5000 lines), one source per deployment
  container     not read: where the image runs (kubectl logs, docker logs)
  react-native  not read: on the device (adb logcat, Xcode)
Those answer TARGET_ACTION_UNAVAILABLE (exit 2), saying where the logs are and giving the commands that
read them there. A target with nothing deployed to read answers NOT_DEPLOYED (exit 1).
Examples:
  deploy-model logs --target local --since 10m
  deploy-model logs --target lambda --follow
  deploy-model logs --target lambda --since 2024-05-01T08:00:00Z --json | jq -r .message`)
    .action(async (opts: Opts) => {
      // The option first: a typo fails before the config and the model are read.
      const since = parseSince(opts.since);
      const cli = makeContext(opts);
      const project = await cli.toolkit.load({ configFile: opts.config, stage: opts.stage });
      const controller = new AbortController();
      let interrupted = false;
      const stop = () => {
        // A second Ctrl-C does not wait for the read in flight.
        if (interrupted) process.exit(130);
        interrupted = true;
        controller.abort();
      };
      // A closed pipe (`| head`) ends the read like Ctrl-C does.
      const onPipeError = (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') stop(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      process.stdout.on('error', onPipeError);
      try {
        for await (const line of cli.toolkit.logs(project, opts.target, { since, follow: Boolean(opts.follow), signal: controller.signal })) {
          if (controller.signal.aborted) break;
          process.stdout.write(`${cli.json ? logLineJson(line) : renderLogLine(line, cli.style)}\n`);
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        process.stdout.off('error', onPipeError);
      }
      // Stopped by the user: a clean end, even if a client still holds a socket open for a moment.
      if (interrupted) setTimeout(() => process.exit(0), 2000).unref();
    });
}
