/**
 * One deploy or destroy of a target at a time on this machine: a lock file beside the target's
 * build folder, taken with an exclusive create, and taken over only when the process that holds
 * it is gone (a crashed or killed deploy).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeployModelError } from '../errors.js';

interface LockHolder {
  pid: number;
  /** The pid's start time (/proc/<pid>/stat), so a recycled pid does not keep a lock alive. */
  pidStart?: number;
  token: string;
  action: string;
  since: string;
}

function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

function holds(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return holder.pidStart === undefined || startTime(holder.pid) === holder.pidStart;
}

/** Runs `fn` holding the lock of the target whose build folder is `workDir`; a live holder is DEPLOY_LOCKED. */
export async function withDeployLock<T>(workDir: string, target: string, action: string, fn: () => Promise<T>): Promise<T> {
  const file = `${workDir}.lock`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const pidStart = startTime(process.pid);
  const mine: LockHolder = { pid: process.pid, ...(pidStart === undefined ? {} : { pidStart }), token: randomUUID(), action, since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(file, JSON.stringify(mine), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(await fs.readFile(file, 'utf8')) as LockHolder;
    } catch {
      // Half written by a process that was killed while taking it: nobody holds it.
    }
    if (holder && holds(holder) && attempt < 2) {
      throw new DeployModelError('DEPLOY_LOCKED', `Target '${target}' is busy: process ${holder.pid} has been running \`${holder.action}\` on it since ${holder.since}. Wait for it to finish; if no such process runs, remove ${file}.`, { details: { target, lockFile: file, holder } });
    }
    if (attempt >= 2) throw new DeployModelError('DEPLOY_LOCKED', `Could not take the lock ${file} of target '${target}': another process keeps taking it. Try again.`, { details: { target, lockFile: file } });
    await fs.rm(file, { force: true });
  }
  try {
    return await fn();
  } finally {
    // Only our own lock is removed, in case a stale takeover replaced it meanwhile.
    const now = await fs.readFile(file, 'utf8').catch(() => '');
    if (now.includes(mine.token)) await fs.rm(file, { force: true });
  }
}
