/**
 * Logs kept in files on this machine (the local daemon's, the local web server's): lines that
 * start with an ISO time, a rotated older file beside the live one, and a follow that reads what
 * is appended, across a rotation or a restart that truncates the file.
 */
import { open, stat } from 'node:fs/promises';
import type { LogLine, LogsOptions } from './log-line.js';
import { logsPollMs, pause } from './log-line.js';

/** A line's time at its start: `2024-05-01T12:00:00.000Z` followed by a space or a tab. */
const STAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)[ \t](.*)$/;

/** Splits what follows a line's time into its source and message; undefined keeps the text whole with no source. */
export type LineParser = (text: string) => { source?: string; message: string } | undefined;

export interface LogFilesOptions extends LogsOptions {
  /** The live file, appended to while the deployment runs. */
  file: string;
  /** Where the writer moves the live file when it rotates it (`<file>.1`). @default - no rotation */
  rotated?: string;
  /** Files read once, before the others, with no follow (a crash output). @default - none */
  extra?: readonly string[];
  parse?: LineParser;
  /** How often a follow looks for new lines. @default logsPollMs(500) */
  pollMs?: number;
}

interface Position { ino: number; offset: number; partial: string }

/**
 * Reads `rotated`, then `file`, then `extra`, and yields the lines written at or after `since`;
 * with `follow`, goes on yielding what is appended to `file` until `signal` aborts. A line with
 * no time of its own takes the time of the line before it (or, first in its file, the file's
 * modification time). Missing files are read as empty.
 */
export async function* readLogFiles(options: LogFilesOptions): AsyncGenerator<LogLine> {
  const { since, signal } = options;
  const keep = (line: LogLine) => !since || line.time.getTime() >= since.getTime();
  const parse = options.parse ?? (() => undefined);
  for (const file of options.rotated ? [options.rotated] : []) {
    for (const line of await readWhole(file, parse)) if (keep(line)) yield line;
  }
  const live = await readFrom(options.file, undefined, parse);
  for (const line of live.lines) if (keep(line)) yield line;
  for (const file of options.extra ?? []) {
    for (const line of await readWhole(file, parse)) if (keep(line)) yield line;
  }
  if (!options.follow) return;
  let position = live.position;
  const pollMs = options.pollMs ?? logsPollMs(500);
  while (await pause(pollMs, signal)) {
    const next = await readFrom(options.file, position, parse, options.rotated);
    position = next.position;
    for (const line of next.lines) if (keep(line)) yield line;
  }
}

/** Every line of a file, or none when it does not exist. */
async function readWhole(file: string, parse: LineParser): Promise<LogLine[]> {
  return (await readFrom(file, undefined, parse)).lines;
}

/**
 * The complete lines of `file` after `from` (the whole file when undefined). When the live file
 * is another file than before (rotated: its old self now at `rotated`), the rest of the old one
 * is read first; when it shrank (truncated by a restart), it is read from its start.
 */
async function readFrom(file: string, from: Position | undefined, parse: LineParser, rotated?: string): Promise<{ lines: LogLine[]; position: Position | undefined }> {
  const info = await stat(file).catch(() => undefined);
  const lines: LogLine[] = [];
  let start = from;
  if (from && (!info || info.ino !== from.ino)) {
    // Rotated: finish the old file where the writer moved it, then start the new one.
    const old = rotated ? await stat(rotated).catch(() => undefined) : undefined;
    if (rotated && old?.ino === from.ino) lines.push(...(await readChunk(rotated, from, old.mtime, parse)).lines);
    start = undefined;
  } else if (from && info && info.size < from.offset) {
    start = undefined;
  }
  if (!info) return { lines, position: start };
  const chunk = await readChunk(file, start ?? { ino: info.ino, offset: 0, partial: '' }, info.mtime, parse);
  lines.push(...chunk.lines);
  return { lines, position: { ...chunk.position, ino: info.ino } };
}

async function readChunk(file: string, from: Position, mtime: Date, parse: LineParser): Promise<{ lines: LogLine[]; position: Position }> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return { lines: [], position: from };
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, size - from.offset);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = length > 0 ? await handle.read(buffer, 0, length, from.offset) : { bytesRead: 0 };
    const text = from.partial + buffer.subarray(0, bytesRead).toString('utf8');
    const parts = text.split('\n');
    const partial = parts.pop() ?? '';
    return { lines: parseLines(parts, mtime, parse), position: { ino: from.ino, offset: from.offset + bytesRead, partial } };
  } finally {
    await handle.close();
  }
}

/**
 * Gives each line its time: its own, else the line before's; lines before the first time take
 * that first time, and a text with no time at all takes `fallback` (the file's modification time).
 */
export function parseLines(texts: readonly string[], fallback: Date, parse: LineParser = () => undefined): LogLine[] {
  const out: LogLine[] = [];
  const first = texts.map((t) => STAMPED.exec(t)?.[1]).find((t) => t !== undefined);
  let time: Date = first ? new Date(first) : fallback;
  for (const raw of texts) {
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    const m = STAMPED.exec(text);
    if (m) time = new Date(m[1]!);
    const rest = m ? m[2]! : text;
    const parsed = parse(rest);
    out.push({ time, message: parsed?.message ?? rest, ...(parsed?.source ? { source: parsed.source } : {}) });
  }
  return out;
}
