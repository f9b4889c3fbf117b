// The log lines and LogResult of a local invocation, as Lambda writes them.
import type { InvokeResult } from './types.js';

/** Lambda's `LogResult` carries the last 4 KB of an invocation's log. */
const LOG_TAIL_BYTES = 4096;

export interface ReportFields {
  requestId: string;
  durationMs: number;
  /** Init run before the request (reported apart); an init inside it is part of `durationMs`. */
  initMs?: number;
  memoryMb: number;
  maxMemoryUsedMb?: number;
  status?: string;
  errorType?: string;
}

/** Lambda's REPORT line: tab-separated fields, the optional ones only when they apply. */
export function reportLine(r: ReportFields): string {
  return [
    `REPORT RequestId: ${r.requestId}`,
    `Duration: ${r.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.ceil(r.durationMs + (r.initMs ?? 0))} ms`,
    `Memory Size: ${r.memoryMb} MB`,
    ...(r.maxMemoryUsedMb !== undefined ? [`Max Memory Used: ${r.maxMemoryUsedMb} MB`] : []),
    ...(r.initMs !== undefined ? [`Init Duration: ${r.initMs.toFixed(2)} ms`] : []),
    ...(r.status ? [`Status: ${r.status}`] : []),
    ...(r.errorType ? [`Error Type: ${r.errorType}`] : []),
  ].join('\t');
}

/** What an invocation returns: the body as posted (and parsed when JSON) and its log's tail. */
export function invokeResult(fields: {
  requestId: string; body: Buffer; failed: boolean; lines: string[]; version: string; started: number;
  maxMemoryUsedMb?: number; initMs?: number;
}): InvokeResult {
  let payload: unknown = null;
  try {
    payload = fields.body.length > 0 ? JSON.parse(fields.body.toString('utf8')) : null;
  } catch {
    payload = null;
  }
  const log = Buffer.from(fields.lines.map((l) => `${l}\n`).join(''), 'utf8');
  return {
    requestId: fields.requestId,
    payload,
    rawPayload: fields.body,
    ...(fields.failed ? { functionError: 'Unhandled' as const } : {}),
    logs: log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString('utf8'),
    executedVersion: fields.version,
    durationMs: performance.now() - fields.started,
    ...(fields.maxMemoryUsedMb !== undefined ? { maxMemoryUsedMb: fields.maxMemoryUsedMb } : {}),
    ...(fields.initMs !== undefined ? { initDurationMs: Math.round(fields.initMs) } : {}),
  };
}
