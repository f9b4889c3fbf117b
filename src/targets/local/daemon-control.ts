/** Starts a local deployment's daemon, talks to it over its control socket, and stops it once proved ours. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeployModelError } from '../../errors.js';
import type { ControlError, DaemonStart, DaemonStartReply, DaemonState, ShiftRequest, StageRequest } from './daemon-protocol.js';
import { DAEMON_MARKER, findDaemons, isOurDaemon, processStartTime, readRecord, removeRecord, writeRecord, type DaemonRecord } from './daemon-records.js';

/** The daemon's log is rotated above this size (one older file is kept). */
export const LOG_CAP_BYTES = 10 * 1024 * 1024;
const LOG_TAIL_LINES = 30;
const START_TIMEOUT_MS = 60_000;

/**
 * The environment a daemon keeps: what Node and the emulator need, never the caller's cloud
 * credentials or other secrets (the functions get their own environment from their spec).
 */
const DAEMON_ENV = ['PATH', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'TZ', 'HOME', 'XDG_CACHE_HOME', 'NODE_EXTRA_CA_CERTS',
  // With package 'image', podman or docker runs the versions: their storage, configuration and engine.
  'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINER_HOST', 'DOCKER_HOST', 'DOCKER_CONFIG'];

function daemonEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of DAEMON_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  for (const [name, value] of Object.entries(process.env)) if (name.startsWith('DEPLOY_MODEL_') && value !== undefined) env[name] = value;
  return env;
}

/** A short socket path (Unix sockets allow about 100 bytes) in a folder only this user can enter. */
export function socketPath(stateDir: string, key: string): string {
  const dir = path.join(os.tmpdir(), `deploy-model-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = createHash('sha256').update(`${path.resolve(stateDir)}\0${key}`).digest('hex').slice(0, 16);
  return path.join(dir, `${id}.sock`);
}

function daemonArgs(stateDir: string, key: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const daemon = path.join(path.dirname(here), `_daemon${ext}`);
  const marker = [DAEMON_MARKER, path.resolve(stateDir), key];
  if (ext !== '.ts') return [daemon, ...marker];
  // Running from source (tests): the daemon is TypeScript too, so it needs the tsx loader.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, daemon, ...marker];
}

/**
 * Starts the daemon of `key` with its stable Function URL on `port` (0: a free one), waits until it
 * serves its control socket, and records it. The daemon leads its own process group and outlives
 * this process.
 */
export async function startDaemon(stateDir: string, key: string, options: { port?: number } = {}): Promise<DaemonRecord> {
  await fs.mkdir(stateDir, { recursive: true });
  const logFile = path.join(path.resolve(stateDir), `${key}.log`);
  // Only what the daemon itself cannot log (a crash before its log is open) lands here.
  const errFile = path.join(path.resolve(stateDir), `${key}.err`);
  const fd = openSync(errFile, 'w');
  const child = spawn(process.execPath, daemonArgs(stateDir, key), { detached: true, stdio: ['ignore', fd, fd, 'ipc'], cwd: path.resolve(stateDir), env: daemonEnv() });
  closeSync(fd);
  const start: DaemonStart = { type: 'start', port: options.port ?? 0, socket: socketPath(stateDir, key), logFile, logCapBytes: LOG_CAP_BYTES };
  const reply = await new Promise<DaemonStartReply | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null } | { type: 'timeout' }>((resolve) => {
    const timer = setTimeout(() => resolve({ type: 'timeout' }), START_TIMEOUT_MS);
    child.once('message', (m: DaemonStartReply) => { clearTimeout(timer); resolve(m); });
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve({ type: 'exit', code, signal }); });
    child.once('error', (error) => { clearTimeout(timer); resolve({ type: 'failed', error: { message: error.message } }); });
    child.send(start);
  });
  if (reply.type !== 'ready') {
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    const why = reply.type === 'failed' ? reply.error.message
      : reply.type === 'exit' ? `it exited (${reply.signal ?? `code ${reply.code}`}) before it was ready`
        : `it was not ready within ${START_TIMEOUT_MS / 1000} s`;
    const taken = reply.type === 'failed' && reply.error.code === 'LOCAL_PORT_IN_USE';
    throw new DeployModelError(taken ? 'LOCAL_PORT_IN_USE' : 'LOCAL_DEPLOYMENT_FAILED', `The local deployment ${key} did not start: ${why}.${taken ? ' Choose another port in the config, or leave port out to get a free one.' : `\n${await logTail(logFile, errFile)}`}`, {
      details: { key, logFile, port: options.port },
    });
  }
  const record: DaemonRecord = {
    key, pid: child.pid!, ...pidStartOf(child.pid!), url: reply.url, port: reply.port, socket: start.socket,
    startedAt: new Date().toISOString(), logFile,
  };
  await writeRecord(stateDir, record);
  child.disconnect();
  child.unref();
  return record;
}

function pidStartOf(pid: number): { pidStart?: number } {
  const start = processStartTime(pid);
  return start === undefined ? {} : { pidStart: start };
}

/** Calls the daemon's control API. */
async function call<T>(record: DaemonRecord, method: 'GET' | 'POST', route: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request({ socketPath: record.socket, method, path: route, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  }).catch((e: unknown) => {
    throw new DeployModelError('LOCAL_DAEMON_UNREACHABLE', `The daemon of local deployment ${record.key} (pid ${record.pid}) does not answer on ${record.socket}: ${(e as Error).message}. Run \`deploy-model status\` to see why, or \`deploy-model destroy\` and deploy again.`, { cause: e, details: { key: record.key, pid: record.pid } });
  });
  const parsed = text ? JSON.parse(text) as T | ControlError : undefined;
  if (status !== 200) {
    const err = parsed as ControlError | undefined;
    throw new DeployModelError(err?.code ?? 'LOCAL_DAEMON_ERROR', `The daemon of local deployment ${record.key} refused ${method} ${route}: ${err?.error ?? `HTTP ${status}`}`, { details: { key: record.key, status } });
  }
  return parsed as T;
}

export const daemonState = (record: DaemonRecord) => call<DaemonState>(record, 'GET', '/state', undefined, 5000);
export const stageCandidate = (record: DaemonRecord, request: StageRequest) => call<DaemonState>(record, 'POST', '/stage', request);
export const promoteCandidate = (record: DaemonRecord) => call<DaemonState>(record, 'POST', '/promote');
export const discardCandidate = (record: DaemonRecord) => call<DaemonState>(record, 'POST', '/discard');
/** A traffic step: the stable URL sends `percent` % of its requests to the staged version (0 takes the share back). */
export const shiftTraffic = (record: DaemonRecord, percent: number, ownerPid: number = process.pid) => call<DaemonState>(record, 'POST', '/shift', { percent, ownerPid } satisfies ShiftRequest);

/** What runs for `key`: the recorded daemon when it is alive and proved ours, whether it crashed, and any unrecorded daemons. */
export async function inspectDaemon(stateDir: string, key: string): Promise<{ record?: DaemonRecord; alive: boolean; orphans: number[] }> {
  const record = await readRecord(stateDir, key);
  const alive = record !== undefined && isOurDaemon(record.pid, stateDir, key, record.pidStart);
  const orphans = findDaemons(stateDir, key).filter((pid) => !(alive && pid === record!.pid));
  return { ...(record ? { record } : {}), alive, orphans };
}

/**
 * Stops the daemon of `key` and every unrecorded daemon of the same state folder and key, each
 * only once its command line (and recorded start time) proves it is ours, then removes the
 * record. Returns whether anything was running.
 */
export async function stopDaemons(stateDir: string, key: string, graceMs = 5000): Promise<boolean> {
  const { record, alive, orphans } = await inspectDaemon(stateDir, key);
  const pids = [...(alive ? [record!.pid] : []), ...orphans];
  await Promise.all(pids.map(async (pid) => {
    killGroup(pid, 'SIGTERM');
    if (!(await waitGroupGone(pid, graceMs))) {
      // Only a process still proved ours gets the SIGKILL.
      if (isOurDaemon(pid, stateDir, key)) killGroup(pid, 'SIGKILL');
      await waitGroupGone(pid, 2000);
    }
  }));
  if (record) {
    await removeRecord(stateDir, key);
    await fs.rm(record.socket, { force: true });
  }
  return pids.length > 0;
}

/** Stops the daemons of `key` that run without a record (left by an interrupted deploy), keeping `keep`. */
export async function stopOrphans(stateDir: string, key: string, orphans: number[]): Promise<void> {
  await Promise.all(orphans.filter((pid) => isOurDaemon(pid, stateDir, key)).map(async (pid) => {
    killGroup(pid, 'SIGTERM');
    if (!(await waitGroupGone(pid, 5000)) && isOurDaemon(pid, stateDir, key)) killGroup(pid, 'SIGKILL');
  }));
}

/** The last lines of the daemon's log (and of its crash output), for messages. */
export async function logTail(logFile: string, errFile = logFile.replace(/\.log$/, '.err')): Promise<string> {
  const read = async (file: string) => (await fs.readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  const lines = [...await read(`${logFile}.1`), ...await read(logFile), ...await read(errFile)];
  return lines.slice(-LOG_TAIL_LINES).join('\n') || '(the log is empty)';
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
