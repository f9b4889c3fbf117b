/**
 * The local target's records in the state folder, and how a process is proved to be one of its
 * daemons before anything signals it: the recorded pid, that pid's start time, and its command line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../../errors.js';

/** The marker in every daemon's command line, followed by the state folder and the key. */
export const DAEMON_MARKER = '--deploy-model-local-daemon';

/** What `<stateDir>/<key>.json` holds while a local deployment's daemon runs. */
export interface DaemonRecord {
  key: string;
  /** The daemon's pid; it leads its own process group, which holds the functions it runs. */
  pid: number;
  /** The pid's start time in clock ticks since boot (/proc/<pid>/stat), so a recycled pid is never taken for it. */
  pidStart?: number;
  /** The stable Function URL base, `http://127.0.0.1:<port>`: kept across deploys. */
  url: string;
  port: number;
  /** The daemon's control socket. */
  socket: string;
  /** ISO time. */
  startedAt: string;
  logFile: string;
}

const isRecord = (r: Partial<DaemonRecord>, key: string): r is DaemonRecord =>
  r.key === key && typeof r.pid === 'number' && typeof r.url === 'string' && typeof r.port === 'number' && typeof r.socket === 'string' && typeof r.logFile === 'string';

export function recordFile(stateDir: string, key: string): string {
  return path.join(stateDir, `${key}.json`);
}

/**
 * The record, or undefined when there is none. A file that exists but is not a record (truncated,
 * empty, garbled, a folder) is an error naming it: treating it as absent would orphan its daemon.
 */
export async function readRecord(stateDir: string, key: string): Promise<DaemonRecord | undefined> {
  const file = recordFile(stateDir, key);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw corrupt(file, key, code === 'EISDIR' ? 'it is a folder' : `it cannot be read (${code ?? (e as Error).message})`, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw corrupt(file, key, text.trim() === '' ? 'it is empty' : `it is not valid JSON (${(e as Error).message})`, e);
  }
  if (typeof parsed !== 'object' || parsed === null || !isRecord(parsed as Partial<DaemonRecord>, key)) {
    throw corrupt(file, key, 'it is not a local deployment record of deploy-model');
  }
  return parsed as DaemonRecord;
}

function corrupt(file: string, key: string, why: string, cause?: unknown): DeployModelError {
  return new DeployModelError('LOCAL_STATE_CORRUPT',
    `The local deployment record ${file} cannot be used: ${why}. Remove it (rm -r '${file}'); a daemon it named, if one still runs, is found by its command line and stopped by \`deploy-model destroy\`.`,
    { cause, details: { file, key } });
}

/** Writes through a temporary file and a rename, so a reader never sees half a record. */
export async function writeRecord(stateDir: string, record: DaemonRecord): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true });
  const file = recordFile(stateDir, record.key);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await fs.rename(tmp, file);
}

export async function removeRecord(stateDir: string, key: string): Promise<void> {
  await fs.rm(recordFile(stateDir, key), { force: true });
}

/** The start time of a process in clock ticks since boot, or undefined where /proc cannot tell. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs the daemon of this state folder and key, and (when recorded) started when it did. */
export function isOurDaemon(pid: number, stateDir: string, key: string, pidStart?: number): boolean {
  const argv = commandLine(pid);
  if (!argv) return false;
  const at = argv.indexOf(DAEMON_MARKER);
  if (at < 0 || argv[at + 1] !== path.resolve(stateDir) || argv[at + 2] !== key) return false;
  return pidStart === undefined || processStartTime(pid) === pidStart;
}

/** Daemons of this state folder and key that run now, found by their command lines (records or not). */
export function findDaemons(stateDir: string, key: string): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  return pids.map(Number).filter((pid) => pid !== process.pid && isOurDaemon(pid, stateDir, key));
}
