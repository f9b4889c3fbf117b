/** A log group's events, read with CloudWatch Logs FilterLogEvents, once or followed. */
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { DeployModelError } from '../../errors.js';
import { logsPollMs, pause, type LogLine, type LogsOptions } from '../logs/log-line.js';
import { accessDenied, awsReason, isAccessDenied, isCredentialsError, isThrottling, noCredentials, throttled } from './aws-errors.js';
import { overrideNote } from './endpoint-override.js';

export interface CloudWatchLogsOptions extends LogsOptions {
  readonly region: string;
  readonly logGroupName: string;
  /**
   * What a missing log group means: an error to throw, or undefined to read it as empty (a follow
   * then waits for the group to appear).
   * @default - read as empty
   */
  readonly missingGroup?: () => Error | undefined;
  /**
   * How often a follow asks for new events.
   * @default logsPollMs(2000): FilterLogEvents allows 5 calls a second per account and region
   */
  readonly pollMs?: number;
  /** @default - a client for `region` with the SDK's credential chain and endpoint variables */
  readonly client?: CloudWatchLogsClient;
}

/** FilterLogEvents asks for events of a name that is not a log group of this account and region. */
const isMissingGroup = (e: unknown): boolean => (e as Error)?.name === 'ResourceNotFoundException';

/**
 * Yields the group's events from `since` on, oldest first (FilterLogEvents interleaves the
 * streams by time), each as a line whose source is its log stream; with `follow`, asks again every
 * `pollMs` from the newest event's time, skipping the events already seen, until `signal` aborts.
 */
export async function* cloudWatchLogLines(options: CloudWatchLogsOptions): AsyncGenerator<LogLine> {
  const client = options.client ?? new CloudWatchLogsClient({ region: options.region });
  let from = options.since?.getTime() ?? 0;
  /** The events of the newest millisecond seen: the next poll starts at that millisecond again. */
  let seen = new Set<string>();
  try {
    for (let first = true; first || (await pause(options.pollMs ?? logsPollMs(2000), options.signal)); first = false) {
      for await (const events of pages(client, options, from)) {
        for (const e of events) {
          const id = e.eventId ?? `${e.logStreamName}/${e.timestamp}/${e.message}`;
          const time = e.timestamp ?? from;
          if (time === from && seen.has(id)) continue;
          if (time > from) {
            from = time;
            seen = new Set();
          }
          seen.add(id);
          yield { time: new Date(time), message: (e.message ?? '').replace(/\r?\n$/, ''), ...(e.logStreamName ? { source: e.logStreamName } : {}) };
        }
        if (options.signal?.aborted) return;
      }
      if (!options.follow) return;
    }
  } finally {
    if (!options.client) client.destroy();
  }
}

/** Every page of FilterLogEvents from `from` on; a missing group is an empty read unless `missingGroup` says otherwise. */
async function* pages(client: CloudWatchLogsClient, options: CloudWatchLogsOptions, from: number): AsyncGenerator<FilteredLogEvent[]> {
  let nextToken: string | undefined;
  do {
    let out;
    try {
      out = await client.send(new FilterLogEventsCommand({ logGroupName: options.logGroupName, startTime: from, nextToken }), { abortSignal: options.signal });
    } catch (e) {
      if (options.signal?.aborted) return;
      if (isMissingGroup(e)) {
        const error = options.missingGroup?.();
        if (error) throw error;
        return;
      }
      throw logsError(e, options.region, options.logGroupName);
    }
    yield out.events ?? [];
    nextToken = out.nextToken;
  } while (nextToken && !options.signal?.aborted);
}

function logsError(e: unknown, region: string, logGroupName: string): DeployModelError {
  const action = `read log group ${logGroupName}`;
  if (isCredentialsError(e)) return noCredentials(region, action, e);
  if (isAccessDenied(e)) return accessDenied(region, action, e);
  if (isThrottling(e)) return throttled('CloudWatch Logs', region, action, e);
  return new DeployModelError('AWS_LOGS_READ_FAILED',
    `Could not ${action} in ${region}: ${awsReason(e)}.${overrideNote('CloudWatch Logs')} Fix: check the network, and that the credentials may call logs:FilterLogEvents on the group; \`aws logs tail ${logGroupName} --region ${region}\` reads the same events.`,
    { cause: e, details: { region, logGroupName } });
}
