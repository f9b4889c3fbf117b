import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeployModelError } from '../errors.js';
import type { LocalFunctionSpec } from './types.js';

/** A local function spec that survives JSON: everything but the log callback. */
export type DetachedSpec = Omit<LocalFunctionSpec, 'log'>;

/** What `<stateDir>/<key>.json` holds for a running local deployment. */
export interface DeploymentRecord {
  key: string;
  /** The daemon's pid; it leads its own process group, which holds the execution environment. */
  pid: number;
  url: string;
  port: number;
  /** ISO time. */
  startedAt: string;
  functionName: string;
  logFile: string;
  spec: DetachedSpec;
  /** The deployed version as the target names it (the function zip's content hash). */
  version?: string;
  /** The init error the function reported at start, if any (the first request will answer it). */
  initError?: string;
}

export interface DeploymentStatus extends DeploymentRecord {
  state: 'running' | 'stale';
  /** Why a record is stale: the process is gone or does not answer. */
  staleReason?: string;
}

/** Messages between startDetached and the daemon, over the IPC channel. */
export type DaemonRequest = { type: 'start'; spec: DetachedSpec };
export type DaemonReply =
  | { type: 'ready'; url: string; port: number; initError?: string }
  | { type: 'failed'; error: { code?: string; message: string } };

const HEALTH_TIMEOUT_MS = 2000;
const LOG_TAIL_LINES = 30;

/**
 * Starts a local function in a detached daemon (its own process group, output to
 * `<stateDir>/<key>.log`) that outlives this process, waits until it serves or fails, and records
 * it in `<stateDir>/<key>.json`. A deployment already running under `key` is stopped first.
 */
export async function startDetached(spec: DetachedSpec, stateDir: string, key: string, options: { version?: string } = {}): Promise<DeploymentRecord> {
  assertKey(key);
  await fs.mkdir(stateDir, { recursive: true });
  if (await readRecord(stateDir, key)) await stopDeployment(stateDir, key);

  const logFile = path.join(path.resolve(stateDir), `${key}.log`);
  const fd = openSync(logFile, 'w');
  const { args } = daemonCommand();
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    cwd: path.resolve(stateDir),
    env: process.env,
  });
  closeSync(fd);

  const readyWithinMs = Math.max(10, spec.timeoutSeconds) * 1000 + 60_000;
  const reply = await new Promise<DaemonReply | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null } | { type: 'timeout' }>((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'timeout' }), readyWithinMs);
    child.once('message', (m: DaemonReply) => { clearTimeout(timer); resolve(m); });
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ type: 'exit', code, signal }); });
    child.once('error', (error) => { clearTimeout(timer); resolve({ type: 'failed', error: { message: error.message } }); });
    child.send({ type: 'start', spec } satisfies DaemonRequest);
  });

  if (reply.type !== 'ready') {
    if (child.pid !== undefined) {
      killGroup(child.pid, 'SIGKILL');
      await waitGroupGone(child.pid, 2000);
    }
    const why = reply.type === 'failed' ? reply.error.message
      : reply.type === 'exit' ? `the daemon exited (${reply.signal ?? `code ${reply.code}`}) before it was ready`
        : `it was not ready within ${readyWithinMs / 1000} s`;
    throw new DeployModelError('LOCAL_DEPLOYMENT_FAILED', `The local deployment ${key} of ${spec.functionName} did not start: ${why}. Last lines of ${logFile}:\n${await logTail(logFile)}`, {
      details: { key, logFile, code: reply.type === 'failed' ? reply.error.code : undefined },
    });
  }

  const record: DeploymentRecord = {
    key,
    pid: child.pid as number,
    url: reply.url,
    port: reply.port,
    startedAt: new Date().toISOString(),
    functionName: spec.functionName,
    logFile,
    spec,
    ...(options.version ? { version: options.version } : {}),
    ...(reply.initError ? { initError: reply.initError } : {}),
  };
  await writeRecord(stateDir, record);
  child.disconnect();
  child.unref();
  return record;
}

/**
 * The record of a deployment that runs and answers, or undefined. A record whose process is gone
 * or does not answer is stale: it is removed (and a hung daemon killed) and reported to `onStale`.
 */
export async function findDeployment(stateDir: string, key: string, options: { onStale?: (status: DeploymentStatus) => void } = {}): Promise<DeploymentRecord | undefined> {
  const record = await readRecord(stateDir, key);
  if (!record) return undefined;
  const status = await probe(record);
  if (status.state === 'running') return record;
  await cleanStale(stateDir, record);
  options.onStale?.(status);
  return undefined;
}

/** Every recorded deployment with its state; stale records are cleaned as they are found. */
export async function listDeployments(stateDir: string): Promise<DeploymentStatus[]> {
  let names: string[];
  try {
    names = await fs.readdir(stateDir);
  } catch {
    return [];
  }
  const records = (await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readRecord(stateDir, n.slice(0, -5)))))
    .filter((r): r is DeploymentRecord => r !== undefined);
  const statuses = await Promise.all(records.map(probe));
  for (const s of statuses) if (s.state === 'stale') await cleanStale(stateDir, s);
  return statuses.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * Stops a deployment: SIGTERM to its process group, SIGKILL after `graceMs`, then the record goes.
 * Returns whether a process was running.
 */
export async function stopDeployment(stateDir: string, key: string, options: { graceMs?: number } = {}): Promise<boolean> {
  const record = await readRecord(stateDir, key);
  if (!record) return false;
  let wasRunning = false;
  if (isAlive(record.pid) && isOurDaemon(record.pid)) {
    wasRunning = true;
    killGroup(record.pid, 'SIGTERM');
    if (!(await waitGroupGone(record.pid, options.graceMs ?? 5000))) {
      killGroup(record.pid, 'SIGKILL');
      await waitGroupGone(record.pid, 2000);
    }
  }
  await fs.rm(recordFile(stateDir, key), { force: true });
  return wasRunning;
}

/** Moves a record (and its log) to another key, e.g. a candidate promoted after its smoke test. */
export async function renameDeployment(stateDir: string, from: string, to: string): Promise<DeploymentRecord> {
  assertKey(to);
  const record = await readRecord(stateDir, from);
  if (!record) {
    throw new DeployModelError('LOCAL_DEPLOYMENT_NOT_FOUND', `There is no local deployment ${from} in ${stateDir} to rename to ${to}. Start it first.`, {
      details: { stateDir, from, to },
    });
  }
  const logFile = path.join(path.resolve(stateDir), `${to}.log`);
  // The daemon keeps writing through its open descriptor, whatever the file is called.
  await fs.rename(record.logFile, logFile).catch(() => undefined);
  const renamed: DeploymentRecord = { ...record, key: to, logFile };
  await writeRecord(stateDir, renamed);
  await fs.rm(recordFile(stateDir, from), { force: true });
  return renamed;
}

// ---- internals ----

function daemonCommand(): { args: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const daemon = path.join(path.dirname(here), `_daemon${ext}`);
  if (ext !== '.ts') return { args: [daemon] };
  // Running from source (tests): the daemon is TypeScript too, so it needs the tsx loader.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { args: ['--import', tsx, daemon] };
}

function assertKey(key: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) {
    throw new DeployModelError('LOCAL_DEPLOYMENT_KEY_INVALID', `Deployment key "${key}" must be letters, digits, dots, hyphens and underscores, so it can name files in the state folder.`, {
      details: { key },
      kind: 'internal',
    });
  }
}

function recordFile(stateDir: string, key: string): string {
  return path.join(stateDir, `${key}.json`);
}

async function readRecord(stateDir: string, key: string): Promise<DeploymentRecord | undefined> {
  let text: string;
  try {
    text = await fs.readFile(recordFile(stateDir, key), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as Partial<DeploymentRecord>;
    if (typeof r.pid === 'number' && typeof r.url === 'string' && r.key === key && typeof r.functionName === 'string') return r as DeploymentRecord;
  } catch {
    // Not one of ours (or half written by a crash): treated as absent.
  }
  return undefined;
}

async function writeRecord(stateDir: string, record: DeploymentRecord): Promise<void> {
  const file = recordFile(stateDir, record.key);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(record, null, 2) + '\n');
  await fs.rename(tmp, file);
}

async function probe(record: DeploymentRecord): Promise<DeploymentStatus> {
  if (!isAlive(record.pid)) return { ...record, state: 'stale', staleReason: `process ${record.pid} is gone` };
  if (!isOurDaemon(record.pid)) return { ...record, state: 'stale', staleReason: `process ${record.pid} is no longer the deploy-model daemon` };
  try {
    const res = await fetch(`${record.url}/2015-03-31/functions/${encodeURIComponent(record.functionName)}/configuration`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json()) as { FunctionName?: unknown };
    if (res.ok && body.FunctionName === record.functionName) return { ...record, state: 'running' };
    return { ...record, state: 'stale', staleReason: `${record.url} answered ${res.status} for another function` };
  } catch (error) {
    return { ...record, state: 'stale', staleReason: `${record.url} does not answer (${(error as Error).message})` };
  }
}

async function cleanStale(stateDir: string, record: DeploymentRecord): Promise<void> {
  // Alive but not answering: a hung daemon of ours; its whole group goes.
  if (isAlive(record.pid) && isOurDaemon(record.pid)) {
    killGroup(record.pid, 'SIGKILL');
    await waitGroupGone(record.pid, 2000);
  }
  await fs.rm(recordFile(stateDir, record.key), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Guards against a recycled pid: on Linux the command line must name our daemon. */
function isOurDaemon(pid: number): boolean {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  return /_daemon\.(ts|js)/.test(cmdline);
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      process.kill(-pgid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function logTail(logFile: string): Promise<string> {
  try {
    const lines = (await fs.readFile(logFile, 'utf8')).split('\n').filter(Boolean);
    return lines.slice(-LOG_TAIL_LINES).join('\n') || '(empty)';
  } catch {
    return '(no log)';
  }
}
