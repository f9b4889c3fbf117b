/** The AWS fake's CloudWatch Logs against the real SDK client, and the logs kit that reads it. */
import {
  CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, FilterLogEventsCommand, GetLogEventsCommand, PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { ConfiguredRetryStrategy } from '@smithy/util-retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudWatchLogLines } from '../../../src/kits/aws/cloudwatch-logs.js';
import type { LogLine } from '../../../src/kits/logs/log-line.js';
import { startAwsFake, type AwsFake } from './index.js';
import { cloudWatchLogsFake } from './logs.js';

// The answers below follow the request and response shapes of the SDK's own model, as
// @aws-sdk/client-cloudwatch-logs 3.1169 documents them (dist-types/models/models_0.d.ts:
// FilterLogEventsRequest, FilterLogEventsResponse, GetLogEventsRequest, GetLogEventsResponse).

const GROUP = '/aws/lambda/adder';
/** 2024-05-01T12:00:00Z: after 2024, so newest-first reads are allowed. */
const T0 = Date.UTC(2024, 4, 1, 12);

let fake: AwsFake;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  fake = await startAwsFake();
  logs = new CloudWatchLogsClient({
    region: fake.region, endpoint: fake.endpoint, credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    retryStrategy: new ConfiguredRetryStrategy(2, () => 10),
  });
  // GIVEN two streams written at interleaved times, one event per second: a0 b1 a2 b3 a4 b5
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
  for (const stream of ['a', 'b']) await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: stream }));
  for (const stream of ['a', 'b']) {
    const events = [0, 1, 2, 3, 4, 5].filter((i) => (i % 2 === 0) === (stream === 'a')).map((i) => ({ timestamp: T0 + i * 1000, message: `${stream}${i}` }));
    await logs.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, logEvents: events }));
  }
});

afterAll(async () => {
  logs?.destroy();
  await fake?.stop();
});

async function filterAll(input: Omit<ConstructorParameters<typeof FilterLogEventsCommand>[0], 'logGroupName'>): Promise<{ pages: string[][] }> {
  const pages: string[][] = [];
  let nextToken: string | undefined;
  do {
    const out = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, ...input, nextToken }));
    pages.push((out.events ?? []).map((e) => e.message!));
    nextToken = out.nextToken;
  } while (nextToken);
  return { pages };
}

describe('FilterLogEvents', () => {
  it('interleaves the streams by time, keeps startTime and endTime inclusive, and names each event\'s stream', async () => {
    const out = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, startTime: T0 + 1000, endTime: T0 + 4000 }));
    expect(out.events!.map((e) => [e.logStreamName, e.message, e.timestamp])).toEqual([
      ['b', 'b1', T0 + 1000], ['a', 'a2', T0 + 2000], ['b', 'b3', T0 + 3000], ['a', 'a4', T0 + 4000],
    ]);
    expect(out.events!.every((e) => typeof e.eventId === 'string' && typeof e.ingestionTime === 'number')).toBe(true);
    expect(out.searchedLogStreams).toEqual([]);
    expect(out.nextToken).toBeUndefined();
  });

  it('pages with nextToken in the direction of the first request: oldest first by default, newest first with startFromHead false', async () => {
    expect((await filterAll({ limit: 4 })).pages).toEqual([['a0', 'b1', 'a2', 'b3'], ['a4', 'b5']]);
    expect((await filterAll({ limit: 4, startTime: T0, startFromHead: false })).pages).toEqual([['b5', 'a4', 'b3', 'a2'], ['b1', 'a0']]);
  });

  it('refuses what the service refuses, with its error types', async () => {
    const refusal = (input: Parameters<typeof filterAll>[0]) => filterAll(input).then(() => 'accepted', (e: Error) => e.name);
    expect(await refusal({ startTime: T0 + 2000, endTime: T0 })).toBe('InvalidParameterException');
    expect(await refusal({ limit: 0 })).toBe('InvalidParameterException');
    expect(await refusal({ limit: 10_001 })).toBe('InvalidParameterException');
    expect(await refusal({ logStreamNames: ['a'], logStreamNamePrefix: 'a' })).toBe('InvalidParameterException');
    // Newest first is supported only from 2024 on.
    expect(await refusal({ startTime: Date.UTC(2023, 11, 31), startFromHead: false })).toBe('InvalidParameterException');
    const badToken = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, nextToken: 'not-a-token' })).catch((e: Error) => e);
    expect(badToken).toMatchObject({ name: 'InvalidParameterException' });
    const missing = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/none' })).catch((e: Error) => e);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
  });
});

describe('GetLogEvents', () => {
  it('answers the newest events first by default, oldest first within the page, with both tokens', async () => {
    const out = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'a', limit: 2 }));
    expect(out.events!.map((e) => e.message)).toEqual(['a2', 'a4']);
    expect(out.nextForwardToken).toMatch(/^f\/\d{56}\/s$/);
    expect(out.nextBackwardToken).toMatch(/^b\/\d{56}\/s$/);

    // WHEN it pages backward THEN it reaches the stream's start, and there the token comes back unchanged
    const back = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'a', limit: 2, nextToken: out.nextBackwardToken }));
    expect(back.events!.map((e) => e.message)).toEqual(['a0']);
    const start = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'a', nextToken: back.nextBackwardToken }));
    expect(start.events).toEqual([]);
    expect(start.nextBackwardToken).toBe(back.nextBackwardToken);
  });

  it('reads forward from the head, endTime exclusive, and at the end of the stream gives back the forward token it was given', async () => {
    const head = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'b', startFromHead: true, endTime: T0 + 5000 }));
    expect(head.events!.map((e) => e.message)).toEqual(['b1', 'b3']);
    const end = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'b', startFromHead: true, endTime: T0 + 5000, nextToken: head.nextForwardToken }));
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(head.nextForwardToken);
  });

  it('refuses a missing stream and a missing group', async () => {
    const stream = await logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'c' })).catch((e: Error) => e);
    expect(stream).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    const group = await logs.send(new GetLogEventsCommand({ logGroupName: '/none', logStreamName: 'a' })).catch((e: Error) => e);
    expect(group).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
  });
});

describe('cloudWatchLogLines, the reader behind `deploy-model logs`', () => {
  it('reads every page from since on, oldest first, each line named after its stream', async () => {
    const lines: LogLine[] = [];
    for await (const line of cloudWatchLogLines({ region: fake.region, logGroupName: GROUP, since: new Date(T0 + 3000), client: logs })) lines.push(line);
    expect(lines.map((l) => [l.time.getTime(), l.source, l.message])).toEqual([[T0 + 3000, 'b', 'b3'], [T0 + 4000, 'a', 'a4'], [T0 + 5000, 'b', 'b5']]);
  });

  it('follows: prints each new event once, also one written in the millisecond it last saw, and ends quietly when stopped', async () => {
    // GIVEN a group with one event
    const group = '/aws/sagemaker/Endpoints/follow';
    const written = cloudWatchLogsFake(fake.state);
    const first = written.put(group, 'AllTraffic/i-1', 'ready', T0);
    const controller = new AbortController();
    const seen: string[] = [];
    // WHEN it follows, and two events arrive, one in the same millisecond as the first
    const reading = (async () => {
      for await (const line of cloudWatchLogLines({ region: fake.region, logGroupName: group, since: new Date(T0), follow: true, pollMs: 20, signal: controller.signal, client: logs })) {
        seen.push(line.message);
        if (seen.length === 1) {
          written.put(group, 'AllTraffic/i-1', 'same millisecond', first.timestamp);
          written.put(group, 'AllTraffic/i-2', 'later', T0 + 1);
        }
        if (seen.length === 3) controller.abort();
      }
    })();
    await reading;
    // THEN each line came once, in order, and the stop raised nothing
    expect(seen).toEqual(['ready', 'same millisecond', 'later']);
  });

  it('reads a missing group as empty, or throws the error the caller gives for it', async () => {
    const lines: LogLine[] = [];
    for await (const line of cloudWatchLogLines({ region: fake.region, logGroupName: '/aws/lambda/never', client: logs })) lines.push(line);
    expect(lines).toEqual([]);
    const read = async () => { for await (const _ of cloudWatchLogLines({ region: fake.region, logGroupName: '/aws/lambda/never', client: logs, missingGroup: () => new Error('nothing deployed') })) { /* none */ } };
    await expect(read()).rejects.toThrow('nothing deployed');
  });
});
