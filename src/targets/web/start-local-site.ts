// Runs a web bundle in the background on 127.0.0.1 and swaps releases in.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeployModelError } from '../../errors.js';

/** What `<stateDir>/<key>.json` holds for a web bundle served in the background on 127.0.0.1. */
export interface LocalSiteRecord {
  key: string;
  pid: number;
  url: string;
  port: number;
  /** The version served: the build's content hash. */
  version: string;
  /** The release folder served: `site/` and `serve.json` inside. */
  outDir: string;
  siteDir: string;
  logFile: string;
  /** ISO time the server started. */
  startedAt: string;
}

export interface StartLocalSiteOptions {
  /** The release to serve: a build's output folder, with `site/` and `serve.json` inside. */
  outDir: string;
  /** The version `outDir` holds (the build's content hash). */
  version: string;
  stateDir: string;
  /** Names the record and log in `stateDir`, e.g. `<name>-<stage>-<target>`. */
  key: string;
  /** @default - a free port */
  port?: number;
}

type DaemonReply = { type: 'ready'; url: string; port: number } | { type: 'failed'; error: { code?: string; message: string } };

/** How long a server has to switch releases after SIGHUP. */
const SWAP_TIMEOUT_MS = 10_000;

const files = (stateDir: string, key: string) => ({
  record: path.join(stateDir, `${key}.json`),
  /** The release the server is asked to serve (read at start and on SIGHUP). */
  release: path.join(stateDir, `${key}.release.json`),
  /** The release the server serves, written by the server itself once it does. */
  serving: path.join(stateDir, `${key}.serving.json`),
  log: path.join(stateDir, `${key}.log`),
});

function daemonArgs(): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const daemon = path.join(path.dirname(here), `_site-daemon${ext}`);
  // From the sources (tests) the daemon is TypeScript too, and needs the tsx loader.
  return ext === '.ts' ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, daemon] : [daemon];
}

async function writeAtomically(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}

/**
 * Serves a release from a detached process (its own process group, output in
 * `<stateDir>/<key>.log`) that outlives this one, and records it; a site already recorded under
 * `key` is stopped first. Resolves once the server listens.
 */
export async function startLocalSite(options: StartLocalSiteOptions): Promise<LocalSiteRecord> {
  const { stateDir, key, version } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) {
    throw new DeployModelError('WEB_LOCAL_KEY_INVALID', `Key "${key}" must be letters, digits, dots, hyphens and underscores: it names files in ${stateDir}.`, { kind: 'internal' });
  }
  await mkdir(stateDir, { recursive: true });
  await stopLocalSite(stateDir, key);
  const f = files(path.resolve(stateDir), key);
  const outDir = path.resolve(options.outDir);
  await writeAtomically(f.release, { version, outDir });
  const fd = openSync(f.log, 'w');
  const child = spawn(process.execPath, [...daemonArgs(), f.release, f.serving, String(options.port ?? '')], {
    detached: true, stdio: ['ignore', fd, fd, 'ipc'], env: process.env,
  });
  closeSync(fd);
  const reply = await new Promise<DaemonReply | { type: 'exit'; code: number | null }>((resolve) => {
    child.once('message', (m: DaemonReply) => resolve(m));
    child.once('exit', (code) => resolve({ type: 'exit', code }));
  });
  if (reply.type !== 'ready') {
    if (child.pid) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    await rm(f.release, { force: true });
    const log = await readFile(f.log, 'utf8').catch(() => '');
    const message = reply.type === 'failed' ? reply.error.message : `it exited with code ${reply.code}${log ? `:\n${log.slice(-2000)}` : ''}`;
    throw new DeployModelError(reply.type === 'failed' && reply.error.code ? reply.error.code : 'WEB_LOCAL_START_FAILED', `The local web server for ${key} did not start: ${message}`, { details: { logFile: f.log } });
  }
  child.unref();
  child.channel?.unref();
  const record: LocalSiteRecord = {
    key, pid: child.pid!, url: reply.url, port: reply.port, version, outDir, siteDir: path.join(outDir, 'site'), logFile: f.log, startedAt: new Date().toISOString(),
  };
  await writeAtomically(f.record, record);
  return record;
}

/**
 * Has the running server of `key` serve another release, on the same port, from its next request
 * on (no request is refused meanwhile), and waits until it says it does.
 */
export async function swapLocalSite(stateDir: string, key: string, release: { outDir: string; version: string }): Promise<LocalSiteRecord> {
  const f = files(path.resolve(stateDir), key);
  const record = await readRecord(stateDir, key);
  if (!record || !isOurDaemon(record.pid)) {
    throw new DeployModelError('WEB_LOCAL_SWAP_FAILED', `The local web server of ${key} is not running, so version ${release.version} cannot be swapped in: run the deploy again.`, { details: { key } });
  }
  const outDir = path.resolve(release.outDir);
  await writeAtomically(f.release, { version: release.version, outDir });
  process.kill(record.pid, 'SIGHUP');
  for (const started = Date.now(); Date.now() - started < SWAP_TIMEOUT_MS; await new Promise((r) => setTimeout(r, 25))) {
    const serving = await readJson<{ version: string; outDir: string }>(f.serving);
    if (serving?.version === release.version && serving.outDir === outDir) {
      const swapped: LocalSiteRecord = { ...record, version: release.version, outDir, siteDir: path.join(outDir, 'site') };
      await writeAtomically(f.record, swapped);
      return swapped;
    }
  }
  const log = await readFile(f.log, 'utf8').catch(() => '');
  throw new DeployModelError('WEB_LOCAL_SWAP_FAILED', `The local web server of ${key} (pid ${record.pid}) did not switch to version ${release.version} within ${SWAP_TIMEOUT_MS / 1000} s; it keeps serving version ${record.version}. Its log (${f.log}) ends:\n${log.split('\n').slice(-5).join('\n')}`, { details: { key, logFile: f.log } });
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The record of `key`, whether or not its server still runs. */
export function readRecord(stateDir: string, key: string): Promise<LocalSiteRecord | undefined> {
  return readJson<LocalSiteRecord>(files(stateDir, key).record);
}

/** The record of `key` and whether its server answers; changes nothing (status reads this). */
export async function inspectLocalSite(stateDir: string, key: string): Promise<{ record?: LocalSiteRecord; alive: boolean }> {
  const record = await readRecord(stateDir, key);
  if (!record) return { alive: false };
  try {
    const res = await fetch(new URL('deploy-model.json', record.url), { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return { record, alive: res.ok && isOurDaemon(record.pid) };
  } catch {
    return { record, alive: false };
  }
}

/** The recorded site when its server still answers; a stale record is removed. */
export async function findLocalSite(stateDir: string, key: string): Promise<LocalSiteRecord | undefined> {
  const { record, alive } = await inspectLocalSite(stateDir, key);
  if (alive) return record;
  if (record) await stopLocalSite(stateDir, key);
  return undefined;
}

/** Whether `pid` is still our daemon, not a process that reused its id (Linux: its command line). */
function isOurDaemon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('_site-daemon');
  } catch {
    return process.platform !== 'linux';
  }
}

/** Stops the recorded server and removes its record; false when nothing was recorded. */
export async function stopLocalSite(stateDir: string, key: string): Promise<boolean> {
  const f = files(stateDir, key);
  const record = await readRecord(stateDir, key);
  if (!record) return false;
  if (isOurDaemon(record.pid)) try {
    process.kill(-record.pid, 'SIGTERM');
    for (let i = 0; i < 50; i++) {
      process.kill(-record.pid, 0);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-record.pid, 'SIGKILL');
  } catch { /* gone */ }
  await Promise.all([f.record, f.release, f.serving].map((file) => rm(file, { force: true })));
  return true;
}
