/**
 * Lambda gives an execution environment exactly its memory size and kills it when it takes more
 * (`Runtime.OutOfMemory`). onnxruntime's memory is native, so V8's heap flags alone do not hold a
 * model to that size. Here the limit is put on the runtime process itself:
 *
 * - `cgroup-v2`: a child cgroup with `memory.max` (and no swap), where this process may create one
 *   (root of its cgroup namespace, or root beside its own cgroup);
 * - `cgroup-v1`: the same with `memory.limit_in_bytes`, on hosts whose memory controller is still
 *   mounted as cgroup v1;
 * - `measured`: otherwise.
 *
 * In every mode the peak resident memory (VmHWM) of the runtime is also sampled, and a runtime
 * above the limit is killed as the kernel would have: a cgroup is charged only for pages it
 * brought in, so the Node binary and libraries already cached by other processes (40 MB and more)
 * escape it, while on Lambda they are part of the function's memory. `Max Memory Used` is the
 * larger of the two figures.
 */
import { readFileSync, readdirSync, rmdirSync, mkdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export type MemoryEnforcement = 'cgroup-v2' | 'cgroup-v1' | 'measured';

export interface MemoryLimit {
  readonly enforcement: MemoryEnforcement;
  readonly limitMb: number;
  /** The command that starts `command args` inside the limit (the process joins the cgroup, then execs). */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Peak memory of the environment so far, in MB. */
  peakMb(pid: number | undefined): number | undefined;
  /** Whether the environment was killed for taking more than its memory. */
  outOfMemory(pid: number | undefined): boolean;
  /** Called once the runtime has started: the measured mode samples it; cgroups need nothing. */
  watch(pid: number | undefined, onExceeded: () => void): void;
  /** Stops sampling and removes the cgroup (once the runtime is gone). */
  release(): void;
}

/** What the host tells about its cgroups; read from /proc unless a test passes its own. */
export interface CgroupHost {
  /** `/proc/self/cgroup` */
  selfCgroup: string;
  /** `/proc/self/mountinfo` */
  mountInfo: string;
}

const SAMPLE_MS = 100;
const MB = 1024 * 1024;

function readHost(): CgroupHost | undefined {
  try {
    return { selfCgroup: readFileSync('/proc/self/cgroup', 'utf8'), mountInfo: readFileSync('/proc/self/mountinfo', 'utf8') };
  } catch {
    return undefined;
  }
}

/**
 * A memory limit of `limitMb` for one execution environment: a cgroup where the host allows one,
 * otherwise the measured check. Never throws: a cgroup that cannot be made falls back.
 */
export function createMemoryLimit(limitMb: number, label: string, host: CgroupHost | undefined = readHost()): MemoryLimit {
  const name = `deploy-model-${label.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  if (host) {
    for (const candidate of cgroupCandidates(host)) {
      const dir = path.join(candidate.parent, name);
      try {
        if (candidate.version === 2) enableMemoryController(candidate.parent);
        mkdirSync(dir);
        sweepLeftovers(candidate.parent);
      } catch {
        continue;
      }
      try {
        limitCgroup(candidate.version, dir, limitMb * MB);
        return cgroupLimit(candidate.version, dir, limitMb);
      } catch {
        try { rmdirSync(dir); } catch { /* leave it: the kernel refuses only while it holds processes */ }
      }
    }
  }
  return measuredLimit(limitMb);
}

interface Candidate { version: 1 | 2; parent: string }

/** Older than this, an empty cgroup of ours belongs to an emulator that was killed before it could remove it. */
const LEFTOVER_AGE_MS = 60_000;

/**
 * Removes the empty cgroups that emulators killed with SIGKILL left behind. A cgroup that still
 * holds a process cannot be removed (the kernel refuses), and a young one may be about to
 * receive its runtime, so only old ones are tried.
 */
function sweepLeftovers(parent: string): void {
  try {
    for (const entry of readdirSync(parent)) {
      if (!entry.startsWith('deploy-model-')) continue;
      const dir = path.join(parent, entry);
      try {
        if (Date.now() - statSync(dir).mtimeMs > LEFTOVER_AGE_MS) rmdirSync(dir);
      } catch {
        // Populated, or gone meanwhile.
      }
    }
  } catch {
    // Not listable: nothing to sweep.
  }
}

/** Where a child cgroup could go, most faithful first. */
export function cgroupCandidates(host: CgroupHost): Candidate[] {
  const mounts = host.mountInfo.split('\n').map((l) => l.split(' ')).filter((f) => f.length > 9);
  const out: Candidate[] = [];
  const v2 = host.selfCgroup.split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  const v2Mount = mounts.find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  if (v2 !== undefined && v2Mount) {
    const own = relativeTo(v2Mount[3], v2);
    if (own !== undefined) {
      const base = v2Mount[4];
      // The no-internal-process rule: a cgroup holding processes can enable controllers for
      // children only at the root, so the child goes in the root, or beside our own cgroup.
      if (own === '') out.push({ version: 2, parent: base });
      else out.push({ version: 2, parent: path.join(base, path.dirname(own)) });
    }
  }
  const v1Line = host.selfCgroup.split('\n').map((l) => l.split(':')).find((p) => p.length >= 3 && p[1].split(',').includes('memory'));
  const v1Mount = mounts.find((f) => f[f.indexOf('-') + 1] === 'cgroup' && (f[f.indexOf('-') + 3] ?? '').split(',').includes('memory'));
  if (v1Line && v1Mount) {
    const own = relativeTo(v1Mount[3], v1Line.slice(2).join(':'));
    if (own !== undefined) out.push({ version: 1, parent: path.join(v1Mount[4], own) });
  }
  return out;
}

function relativeTo(mountRoot: string, cgroupPath: string): string | undefined {
  if (mountRoot === '/') return cgroupPath.replace(/^\/+/, '');
  if (cgroupPath === mountRoot) return '';
  return cgroupPath.startsWith(`${mountRoot}/`) ? cgroupPath.slice(mountRoot.length + 1) : undefined;
}

function enableMemoryController(parent: string): void {
  const enabled = readFileSync(path.join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  if (enabled.includes('memory')) return;
  const available = readFileSync(path.join(parent, 'cgroup.controllers'), 'utf8').split(/\s+/);
  if (!available.includes('memory')) throw new Error('no memory controller');
  writeFileSync(path.join(parent, 'cgroup.subtree_control'), '+memory');
}

function limitCgroup(version: 1 | 2, dir: string, bytes: number): void {
  if (version === 2) {
    writeFileSync(path.join(dir, 'memory.max'), String(bytes));
    // Lambda has no swap: without this the kernel would page out instead of killing.
    if (existsSync(path.join(dir, 'memory.swap.max'))) writeFileSync(path.join(dir, 'memory.swap.max'), '0');
    return;
  }
  writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(bytes));
  const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
  if (existsSync(memsw)) writeFileSync(memsw, String(bytes));
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function oomKills(file: string): number {
  try {
    return Number(/^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Peak resident memory (VmHWM) of one process, in MB. */
export function processPeakMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** Samples VmHWM and kills above the limit: the measured check, run in every mode. */
function sampler(limitMb: number) {
  let timer: NodeJS.Timeout | undefined;
  let exceeded = false;
  let lastPeak: number | undefined;
  const peak = (pid: number | undefined) => {
    const mb = processPeakMb(pid);
    if (mb !== undefined) lastPeak = mb;
    return lastPeak;
  };
  return {
    peak,
    exceeded(pid: number | undefined): boolean {
      // VmHWM only rises, so a peak above the limit between two samples is still seen here.
      if (!exceeded && (peak(pid) ?? 0) > limitMb) exceeded = true;
      return exceeded;
    },
    watch(pid: number | undefined, onExceeded: () => void): void {
      if (pid === undefined) return;
      timer = setInterval(() => {
        if ((peak(pid) ?? 0) <= limitMb) return;
        exceeded = true;
        clearInterval(timer);
        onExceeded();
      }, SAMPLE_MS);
      timer.unref();
    },
    stop: () => clearInterval(timer),
  };
}

function cgroupLimit(version: 1 | 2, dir: string, limitMb: number): MemoryLimit {
  const procs = path.join(dir, 'cgroup.procs');
  const measured = sampler(limitMb);
  let lastCgroupPeak: number | undefined;
  return {
    enforcement: version === 2 ? 'cgroup-v2' : 'cgroup-v1',
    limitMb,
    wrap: (command, args) => ({
      command: '/bin/sh',
      // The shell joins the cgroup, then becomes the runtime: nothing runs outside the limit.
      args: ['-c', 'echo $$ > "$0" && exec "$@"', procs, command, ...args],
    }),
    peakMb(pid) {
      const bytes = readNumber(path.join(dir, version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
      if (bytes !== undefined) lastCgroupPeak = Math.round(bytes / MB);
      const rss = measured.peak(pid);
      if (lastCgroupPeak === undefined) return rss;
      return rss === undefined ? lastCgroupPeak : Math.max(rss, lastCgroupPeak);
    },
    outOfMemory: (pid) => oomKills(path.join(dir, version === 2 ? 'memory.events' : 'memory.oom_control')) > 0 || measured.exceeded(pid),
    watch: (pid, onExceeded) => measured.watch(pid, onExceeded),
    release() {
      measured.stop();
      try { rmdirSync(dir); } catch { /* still populated or already gone */ }
    },
  };
}

function measuredLimit(limitMb: number): MemoryLimit {
  const measured = sampler(limitMb);
  return {
    enforcement: 'measured',
    limitMb,
    wrap: (command, args) => ({ command, args }),
    peakMb: (pid) => measured.peak(pid),
    outOfMemory: (pid) => measured.exceeded(pid),
    watch: (pid, onExceeded) => measured.watch(pid, onExceeded),
    release: () => measured.stop(),
  };
}
