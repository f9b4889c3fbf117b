/** The AWS fake's CloudWatch Logs: the log groups its functions and endpoints write to, and the API that reads them. */
import { createHash, randomBytes } from 'node:crypto';
import type { FakeContext } from './_context.js';
import { jsonErrorReply, parseJsonBody, type AwsServiceModule } from './_service.js';
import { AwsError, type WireReply } from './_wire.js';
import type { FakeState } from './state.js';

/** One event of a log stream, as CloudWatch Logs keeps it. */
export interface FakeLogEvent {
  readonly timestamp: number;
  readonly ingestionTime: number;
  readonly message: string;
  readonly eventId: string;
}

export interface FakeLogStream {
  readonly name: string;
  readonly created: number;
  readonly events: FakeLogEvent[];
}

export interface FakeLogGroup {
  readonly name: string;
  readonly created: number;
  /** In creation order. */
  readonly streams: Map<string, FakeLogStream>;
}

/** FilterLogEvents answers at most this many events a page (its `limit` default and maximum). */
const PAGE_LIMIT = 10_000;

/**
 * The log groups of one AWS fake, where the fake's Lambda runner and SageMaker containers write
 * what they print. A group exists once written to or created, or while a stack holds an
 * `AWS::Logs::LogGroup` of that name (CloudFormation makes it empty).
 */
export class CloudWatchLogsFake {
  readonly groups = new Map<string, FakeLogGroup>();
  private nextEventId = 0;

  constructor(private readonly state: FakeState) {}

  /** Appends one event (a line; Lambda's end with a newline), creating the group and stream as the service does for its writers. */
  put(groupName: string, streamName: string, message: string, timestamp = Date.now()): FakeLogEvent {
    const group = this.group(groupName) ?? this.createGroup(groupName);
    let stream = group.streams.get(streamName);
    if (!stream) group.streams.set(streamName, (stream = { name: streamName, created: Date.now(), events: [] }));
    const event = { timestamp, ingestionTime: Date.now(), message, eventId: String(++this.nextEventId).padStart(56, '0') };
    stream.events.push(event);
    return event;
  }

  /** The group of that name, if it exists (see the class comment). */
  group(name: string): FakeLogGroup | undefined {
    const found = this.groups.get(name);
    if (found) return found;
    // A stack's log group exists from its creation on, empty, without the fake's writers having touched it.
    for (const stack of this.state.cloudformation.stacks.values()) {
      if (stack.status === 'DELETE_COMPLETE') continue;
      for (const r of stack.resources.values()) {
        if (r.type === 'AWS::Logs::LogGroup' && r.physicalId === name && !r.status.startsWith('DELETE')) return this.createGroup(name);
      }
    }
    return undefined;
  }

  createGroup(name: string): FakeLogGroup {
    const group = { name, created: Date.now(), streams: new Map<string, FakeLogStream>() };
    this.groups.set(name, group);
    return group;
  }

  /** Every event of a group, oldest first (streams interleaved by time), as FilterLogEvents sees them. */
  events(groupName: string): Array<FakeLogEvent & { logStreamName: string }> {
    const group = this.group(groupName);
    if (!group) return [];
    return [...group.streams.values()]
      .flatMap((s) => s.events.map((e) => ({ ...e, logStreamName: s.name })))
      .sort((a, b) => a.timestamp - b.timestamp || a.eventId.localeCompare(b.eventId));
  }
}

const fakes = new WeakMap<FakeState, CloudWatchLogsFake>();

/** The CloudWatch Logs part of one AWS fake: `cloudWatchLogsFake(fake.state)`. */
export function cloudWatchLogsFake(state: FakeState): CloudWatchLogsFake {
  let fake = fakes.get(state);
  if (!fake) fakes.set(state, (fake = new CloudWatchLogsFake(state)));
  return fake;
}

/** A stream name as Lambda gives each execution environment: `2024/05/01/[<version>]<32 hex>`. */
export function lambdaLogStreamName(version: string, now = new Date()): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '/')}/[${version}]${randomBytes(16).toString('hex')}`;
}

/** A stream name as SageMaker gives each instance of a variant: `<variant>/i-<17 hex>`. */
export function sageMakerLogStreamName(variant: string, seed: string): string {
  return `${variant}/i-${createHash('sha256').update(seed).digest('hex').slice(0, 17)}`;
}

type Params = Record<string, any>;

function reply(value: unknown): WireReply {
  return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(value) };
}

const missingGroup = () => new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');

function groupNameOf(p: Params): string {
  if (p.logGroupName !== undefined && p.logGroupIdentifier !== undefined) {
    throw new AwsError('InvalidParameterException', 'LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  const identifier = p.logGroupName ?? p.logGroupIdentifier;
  if (typeof identifier !== 'string' || identifier === '') {
    throw new AwsError('InvalidParameterException', 'Either LogGroup name or LogGroup ARN must be provided.');
  }
  // An identifier may be the group's ARN: arn:aws:logs:<region>:<account>:log-group:<name>[:*]
  return /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:(.+?)(:\*)?$/.exec(identifier)?.[1] ?? identifier;
}

/**
 * The terms of a filter pattern that the fake understands: words and "quoted phrases", all of
 * which an event must contain (CloudWatch's unstructured-log patterns). JSON and space-delimited
 * patterns are refused rather than misread.
 */
function matcher(pattern: unknown): (message: string) => boolean {
  if (pattern === undefined || pattern === '') return () => true;
  const text = String(pattern);
  if (/^\s*[{[]/.test(text) || /[?-]\S/.test(text)) {
    throw new AwsError('InvalidParameterException', `The fake understands only plain terms and quoted phrases in filter patterns, not: ${text}`);
  }
  const terms = [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
  return (message) => terms.every((t) => message.includes(t));
}

/** `startFromHead: false` is refused for a startTime before this (FilterLogEventsRequest.startFromHead's note). */
const NEWEST_FIRST_FROM = Date.UTC(2024, 0, 1);

/** A Coral-style constraint error, as the JSON protocols answer a value out of the model's range. */
function limitOf(value: unknown): number {
  if (value === undefined) return PAGE_LIMIT;
  const limit = Number(value);
  if (Number.isInteger(limit) && limit >= 1 && limit <= PAGE_LIMIT) return limit;
  const rule = limit < 1 ? 'greater than or equal to 1' : `less than or equal to ${PAGE_LIMIT}`;
  throw new AwsError('InvalidParameterException', `1 validation error detected: Value '${String(value)}' at 'limit' failed to satisfy constraint: Member must have value ${rule}`);
}

/** Opaque to the client; here the direction, the page's start in the matched events, and the query it belongs to. */
function filterToken(direction: 'f' | 'b', offset: number, query: string): string {
  return Buffer.from(JSON.stringify({ direction, offset, query })).toString('base64url');
}

/**
 * FilterLogEvents as the SDK's model documents it (FilterLogEventsRequest/Response): events of
 * every stream interleaved by time; `startTime` inclusive and `endTime` inclusive ("events with a
 * timestamp later than this time are not returned"); `startFromHead` (default true) sets the
 * order on the first request and the token keeps it; false is refused for a startTime before
 * 2024; `limit` 1 to 10,000 (the default); `nextToken` only while more events remain;
 * `searchedLogStreams` always empty (no longer supported since 2020).
 */
function filterLogEvents(fake: CloudWatchLogsFake, p: Params): WireReply {
  const name = groupNameOf(p);
  if (!fake.group(name)) throw missingGroup();
  if (p.logStreamNames !== undefined && p.logStreamNamePrefix !== undefined) {
    throw new AwsError('InvalidParameterException', 'Cannot specify both LogStreamNames and LogStreamNamePrefix');
  }
  const start = p.startTime === undefined ? -Infinity : Number(p.startTime);
  const end = p.endTime === undefined ? Infinity : Number(p.endTime);
  if (start > end) throw new AwsError('InvalidParameterException', 'End time must be greater than or equal to start time');
  const limit = limitOf(p.limit);
  const streams = p.logStreamNames as string[] | undefined;
  if (streams !== undefined && (streams.length < 1 || streams.length > 100)) {
    throw new AwsError('InvalidParameterException', `1 validation error detected: Value '[${streams.join(', ')}]' at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1`);
  }
  const prefix = p.logStreamNamePrefix as string | undefined;
  const matches = matcher(p.filterPattern);
  // Everything but the token and the limit: a token is good for the query it came from only.
  const query = JSON.stringify([name, p.startTime, p.endTime, streams, prefix, p.filterPattern]);
  let direction: 'f' | 'b' = p.startFromHead === false ? 'b' : 'f';
  let offset = 0;
  if (p.nextToken !== undefined) {
    let token: { direction?: unknown; offset?: unknown; query?: unknown } | undefined;
    try {
      token = JSON.parse(Buffer.from(String(p.nextToken), 'base64url').toString('utf8')) as typeof token;
    } catch {
      token = undefined;
    }
    if (!token || (token.direction !== 'f' && token.direction !== 'b') || !Number.isInteger(token.offset) || (token.offset as number) < 0 || token.query !== query) {
      throw new AwsError('InvalidParameterException', 'The specified nextToken is not valid.');
    }
    // The token's direction wins over startFromHead.
    direction = token.direction;
    offset = token.offset as number;
  } else if (direction === 'b' && start < NEWEST_FIRST_FROM) {
    throw new AwsError('InvalidParameterException', 'startFromHead set to false is supported only when startTime is on or after Jan 1, 2024 00:00:00 UTC.');
  }
  const all = fake.events(name).filter((e) => e.timestamp >= start && e.timestamp <= end
    && (!streams || streams.includes(e.logStreamName)) && (!prefix || e.logStreamName.startsWith(prefix)) && matches(e.message));
  if (direction === 'b') all.reverse();
  const page = all.slice(offset, offset + limit);
  const more = offset + limit < all.length;
  return reply({
    events: page.map((e) => ({ logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: e.eventId })),
    searchedLogStreams: [],
    ...(more ? { nextToken: filterToken(direction, offset + limit, query) } : {}),
  });
}

/** GetLogEvents' tokens: `f/` or `b/`, a 56-digit position in the stream, `/s`, like the service's. */
function streamToken(direction: 'f' | 'b', position: number): string {
  return `${direction}/${String(position).padStart(56, '0')}/s`;
}

/** How many bytes CloudWatch Logs counts for an event: its UTF-8 message plus 26. */
const eventBytes = (e: FakeLogEvent): number => Buffer.byteLength(e.message) + 26;
/** GetLogEvents without a limit answers as many events as fit in 1 MB, at most 10,000. */
const RESPONSE_BYTES = 1_048_576;

/**
 * GetLogEvents as the SDK's model documents it (GetLogEventsRequest/Response): one stream;
 * `startTime` inclusive, `endTime` exclusive; `startFromHead` defaults to false, so a first
 * request answers the newest events (oldest first within the page); `limit` 1 to 10,000, by
 * default what fits in 1 MB; `nextForwardToken` and `nextBackwardToken` always set, and at the
 * end of the stream in that direction each is the token passed in.
 */
function getLogEvents(fake: CloudWatchLogsFake, p: Params): WireReply {
  const group = fake.group(groupNameOf(p));
  if (p.logStreamName === undefined || p.logStreamName === null) {
    throw new AwsError('InvalidParameterException', "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null");
  }
  if (!group) throw missingGroup();
  const stream = group.streams.get(String(p.logStreamName));
  if (!stream) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
  const start = p.startTime === undefined ? -Infinity : Number(p.startTime);
  const end = p.endTime === undefined ? Infinity : Number(p.endTime);
  const events = stream.events.filter((e) => e.timestamp >= start && e.timestamp < end);
  const limit = p.limit === undefined ? undefined : limitOf(p.limit);
  /** The most events from `from` on (forward) or before `from` (backward) that the limit or 1 MB allows. */
  const take = (from: number, forward: boolean): [number, number] => {
    let count = 0;
    let bytes = 0;
    const max = limit ?? PAGE_LIMIT;
    while (count < max) {
      const e = forward ? events[from + count] : events[from - count - 1];
      if (!e || (limit === undefined && bytes + eventBytes(e) > RESPONSE_BYTES)) break;
      bytes += eventBytes(e);
      count += 1;
    }
    return forward ? [from, from + count] : [from - count, from];
  };
  let range: [number, number];
  let token: { direction: 'f' | 'b'; text: string } | undefined;
  if (p.nextToken !== undefined) {
    const m = /^([fb])\/(\d{56})\/s$/.exec(String(p.nextToken));
    if (!m || Number(m[2]) > events.length) throw new AwsError('InvalidParameterException', 'The specified nextToken is not valid.');
    token = { direction: m[1] as 'f' | 'b', text: String(p.nextToken) };
    range = take(Number(m[2]), token.direction === 'f');
  } else {
    range = p.startFromHead === true ? take(0, true) : take(events.length, false);
  }
  const [from, to] = range;
  const page = events.slice(from, to);
  // At the end of the stream in the token's direction, that token comes back unchanged.
  const forward = token?.direction === 'f' && page.length === 0 ? token.text : streamToken('f', to);
  const backward = token?.direction === 'b' && page.length === 0 ? token.text : streamToken('b', from);
  return reply({ events: page.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })), nextForwardToken: forward, nextBackwardToken: backward });
}

const HANDLERS: Record<string, (fake: CloudWatchLogsFake, p: Params, ctx: FakeContext) => WireReply> = {
  FilterLogEvents: filterLogEvents,
  GetLogEvents: getLogEvents,
  DescribeLogGroups(fake, p, ctx) {
    const prefix = String(p.logGroupNamePrefix ?? '');
    const groups = [...fake.groups.values()].filter((g) => g.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
    return reply({ logGroups: groups.map((g) => ({ logGroupName: g.name, creationTime: g.created, arn: `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${g.name}:*`, storedBytes: 0 })) });
  },
  DescribeLogStreams(fake, p) {
    const group = fake.group(groupNameOf(p));
    if (!group) throw missingGroup();
    const streams = [...group.streams.values()].map((s) => ({
      logStreamName: s.name, creationTime: s.created, firstEventTimestamp: s.events[0]?.timestamp, lastEventTimestamp: s.events.at(-1)?.timestamp,
    }));
    if (p.orderBy === 'LastEventTime') streams.sort((a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0));
    else streams.sort((a, b) => a.logStreamName.localeCompare(b.logStreamName));
    if (p.descending) streams.reverse();
    return reply({ logStreams: streams });
  },
  CreateLogGroup(fake, p) {
    const name = String(p.logGroupName ?? '');
    if (fake.group(name)) throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
    fake.createGroup(name);
    return reply({});
  },
  CreateLogStream(fake, p) {
    const group = fake.group(String(p.logGroupName ?? ''));
    if (!group) throw missingGroup();
    const name = String(p.logStreamName ?? '');
    if (group.streams.has(name)) throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    group.streams.set(name, { name, created: Date.now(), events: [] });
    return reply({});
  },
  PutLogEvents(fake, p) {
    const group = fake.group(String(p.logGroupName ?? ''));
    if (!group) throw missingGroup();
    if (!group.streams.has(String(p.logStreamName))) throw new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
    for (const e of (p.logEvents as Array<{ timestamp: number; message: string }> | undefined) ?? []) fake.put(group.name, String(p.logStreamName), e.message, Number(e.timestamp));
    return reply({});
  },
  DeleteLogGroup(fake, p) {
    const name = String(p.logGroupName ?? '');
    if (!fake.group(name)) throw missingGroup();
    fake.groups.delete(name);
    return reply({});
  },
};

/**
 * CloudWatch Logs (JSON 1.1, `x-amz-target: Logs_20140328.<Action>`, signed as `logs`): FilterLogEvents
 * (paged with `nextToken` in either direction, `startTime`/`endTime`, stream names or prefix,
 * plain-term filter patterns), GetLogEvents (forward and backward tokens, the 1 MB page), DescribeLogGroups, DescribeLogStreams, and the writes a test needs.
 * What the fake's functions and containers print is in `cloudWatchLogsFake(fake.state)`.
 */
export const cloudWatchLogs: AwsServiceModule = {
  name: 'logs',
  signingNames: ['logs'],
  targetPrefixes: ['Logs_20140328'],
  parse(req) {
    const target = String(req.headers['x-amz-target'] ?? '');
    return { action: target.slice(target.indexOf('.') + 1), params: parseJsonBody(req) };
  },
  async handle(call, _req, ctx) {
    const handler = HANDLERS[call.action];
    if (!handler) throw new AwsError('UnknownOperationException', `The fake does not implement CloudWatch Logs ${call.action}`);
    return handler(cloudWatchLogsFake(ctx.state), call.params as Params, ctx);
  },
  errorReply: jsonErrorReply,
  throttlingError: () => new AwsError('ThrottlingException', 'Rate exceeded'),
};
